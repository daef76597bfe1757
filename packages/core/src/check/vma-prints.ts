import type { Kernel } from "../kernel/kernel";
import type { Vma } from "../mm/vma";

/** What the entry checks read of a VMA: its range, offset, kind, and how rmap reaches it. */
function printOf(v: Vma): string {
  let p = `${v.start}:${v.end}:${v.pgoff}:${v.flags}:${v.kind?.name ?? ""}:${v.file === null ? "" : `${v.file.id}:${v.file.iMmap.has(v)}`}`;
  for (const c of v.chains) p += `:${c.anonVma.id}${c.vma === v && c.anonVma.chains.has(c) ? "" : "!"}`;
  return p;
}

interface Print {
  readonly p: string;
  readonly start: number;
  readonly end: number;
}

/**
 * Each mm's VMAs as the checker last saw them, to find the address ranges
 * whose entries need checking again because a VMA over them appeared,
 * went, moved or changed how rmap finds it.
 */
export class VmaPrints {
  private readonly byMm = new Map<number, Map<Vma, Print>>();

  /** Per mm that changed, the [start, end) ranges (as flat pairs) of the VMAs that changed, old and new. */
  changed(k: Kernel): Map<number, number[]> {
    const out = new Map<number, number[]>();
    for (const id of this.byMm.keys()) if (!k.mms.has(id)) this.byMm.delete(id);
    for (const mm of k.mms.values()) {
      const old = this.byMm.get(mm.id) ?? new Map<Vma, Print>();
      const now = new Map<Vma, Print>();
      const ranges: number[] = [];
      for (const v of mm.vmas.all()) {
        const p = printOf(v);
        now.set(v, { p, start: v.start, end: v.end });
        if (old.get(v)?.p !== p) ranges.push(v.start, v.end);
      }
      for (const [v, o] of old) if (now.get(v)?.p !== o.p) ranges.push(o.start, o.end);
      this.byMm.set(mm.id, now);
      if (ranges.length > 0) out.set(mm.id, ranges);
    }
    return out;
  }
}
