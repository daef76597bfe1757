import { PTE, Translation, entryRegs } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { WALK_LEAF, WALK_OK } from "../pgtable/walker";
import { ModelInputError } from "../util/errors";

/**
 * TLB coverage: how many TLB entries the MMU needs to hold every present
 * translation of a process at once, from the hardware's own view of each
 * leaf (the backend's walk()): a PMD or PUD block is one entry, an arm64
 * contiguous run one entry of the run's size, an 8xx 512K or 8M page one
 * entry. Leaves the MMU cannot use (PROT_NONE, NUMA-hinting, softleaves)
 * need none. The walk skips ahead by each entry's size, so huge mappings
 * cost one hardware walk each; within a PTE table an entry that differs
 * from an already walked one only in its pfn reuses that walk's answer.
 */

/** Entries and bytes translated at one TLB entry size. */
export interface TlbSizeCount {
  /** Bytes one TLB entry of this kind covers. */
  readonly size: number;
  readonly entries: number;
  /** Bytes of the range translated by such entries. */
  readonly bytes: number;
}

export interface TlbCoverage {
  /** TLB entries needed in all. */
  readonly entries: number;
  /** By entry size, ascending. */
  readonly bySize: readonly TlbSizeCount[];
  /** Pages holding the mm's page tables, deposited ones included. */
  readonly tablePages: number;
  /** Bytes with a usable translation. */
  readonly mappedBytes: number;
}

/** What the hardware walk of a PTE-level leaf decided, kept for entries that differ only in their pfn. */
interface PteTemplate {
  readonly lo: number;
  readonly hi: number;
  readonly pfn: number;
  /** TLB entry size, or 0 when the MMU cannot use the entry. */
  readonly tlbSize: number;
}

const TEMPLATES = 8;
const R = entryRegs(2);

/** Pages holding page tables of `mm`: whole tables, plus each page shared by its table fragments once. */
export function mmTablePages(k: Kernel, mm: Mm): number {
  const ps = k.pageSize;
  const bytes = new Map(k.geometry.tables.map((t) => [t.level, t.tableBytes] as const));
  let pages = 0;
  const fragPages = new Set<number>();
  for (const info of k.tables.info.values()) {
    if (info.mm !== mm.id) continue;
    const b = bytes.get(info.level)!;
    if (b >= ps) pages += b / ps;
    else fragPages.add(info.pfn);
  }
  return pages + fragPages.size;
}

/** The TLB entry size a hardware walk ends in, or 0: a user load, or else an instruction fetch (execute-only memory). */
function hwTlbSize(k: Kernel, mm: Mm, va: number): number {
  const t = TRANSLATION;
  let ok = k.backend.translate(k.tables, mm.rootPa, va, undefined, t);
  if (!ok && t.fault === "permission") ok = k.backend.translate(k.tables, mm.rootPa, va, EXEC, t);
  return ok ? t.tlbSize : 0;
}

/** One translation reused by every hwTlbSize call. */
const TRANSLATION = new Translation();
const EXEC = { exec: true } as const;

class Counter {
  readonly sizes = new Map<number, { entries: number; bytes: number }>();

  constructor(
    private readonly lo: number,
    private readonly hi: number,
  ) {}

  /** One TLB entry of `size` covering `va`; returns where the entry ends. */
  add(va: number, size: number): number {
    const start = va - (va % size);
    const end = start + size;
    let s = this.sizes.get(size);
    if (s === undefined) {
      s = { entries: 0, bytes: 0 };
      this.sizes.set(size, s);
    }
    s.entries++;
    s.bytes += Math.min(end, this.hi) - Math.max(start, this.lo);
    return end;
  }
}

/** Walk the present PTEs of one table from `index` for [addr, tableEnd); returns where to continue. */
function pteTable(k: Kernel, mm: Mm, table: Uint32Array, index: number, addr: number, tableEnd: number, c: Counter): number {
  const b = k.backend;
  const ps = k.pageSize;
  const templates: PteTemplate[] = [];
  let va = addr;
  while (va < tableEnd) {
    const i = index + (va - addr) / ps;
    b.readEntry(table, i, PTE, R, 0);
    if (!b.present(R, 0, PTE)) {
      va += ps;
      continue;
    }
    const pfn = b.pfn(R, 0, PTE);
    let size = -1;
    for (const t of templates) {
      // Advance the lower pfn to the higher and compare: equal means only the pfn differs.
      if (pfn >= t.pfn) {
        R[2] = t.lo;
        R[3] = t.hi;
        b.advancePfn(R, 2, PTE, pfn - t.pfn);
        if (R[2] === R[0] && R[3] === R[1]) size = t.tlbSize;
      } else {
        R[2] = R[0]!;
        R[3] = R[1]!;
        b.advancePfn(R, 2, PTE, t.pfn - pfn);
        if (R[2] === t.lo && R[3] === t.hi) size = t.tlbSize;
      }
      if (size >= 0) break;
    }
    if (size < 0) {
      size = hwTlbSize(k, mm, va);
      if (templates.length === TEMPLATES) templates.shift();
      templates.push({ lo: R[0]!, hi: R[1]!, pfn, tlbSize: size });
    }
    va = size > 0 ? c.add(va, size) : va + ps;
  }
  return va;
}

/** The TLB entries needed for every present translation of `mm` in [range.start, range.end) (default: all of it). */
export function tlbCoverage(k: Kernel, mm: Mm, range?: { readonly start: number; readonly end: number }): TlbCoverage {
  if (mm.exited || k.mm(mm.id) !== mm) throw new ModelInputError("process", mm.id, "a live process of this kernel");
  const lo = range?.start ?? 0;
  const hi = range?.end ?? mm.taskSize;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi <= lo || hi > mm.taskSize) {
    throw new ModelInputError("TLB coverage range", range === undefined ? "" : `[0x${lo.toString(16)}, 0x${hi.toString(16)})`, `start < end within [0, 0x${mm.taskSize.toString(16)}]`);
  }
  const b = k.backend;
  const w = mm.walker;
  const slot = mm.slot;
  const pte = k.geometry.tables[k.geometry.tables.length - 1]!;
  const span = 2 ** pte.shift * pte.entries;
  const c = new Counter(lo, hi);
  for (const vma of mm.vmas.overlapping(lo, hi)) {
    const end = Math.min(vma.end, hi);
    let addr = Math.max(vma.start, lo);
    while (addr < end) {
      const st = w.find(addr, PTE, false, slot);
      if (st === WALK_OK) {
        addr = pteTable(k, mm, slot.table, slot.index, addr, Math.min(end, addr - (addr % span) + span), c);
        continue;
      }
      const size = w.levelSize(slot.level);
      let next = addr - (addr % size) + size;
      if (st === WALK_LEAF) {
        b.readEntry(slot.table, slot.index, slot.level, R, 0);
        const tlb = b.present(R, 0, slot.level) ? hwTlbSize(k, mm, addr) : 0;
        if (tlb > 0) next = Math.max(next, c.add(addr, tlb));
      }
      addr = next;
    }
  }
  const bySize = [...c.sizes].sort((x, y) => x[0] - y[0]).map(([size, s]) => ({ size, entries: s.entries, bytes: s.bytes }));
  return {
    entries: bySize.reduce((n, s) => n + s.entries, 0),
    bySize,
    tablePages: mmTablePages(k, mm),
    mappedBytes: bySize.reduce((n, s) => n + s.bytes, 0),
  };
}
