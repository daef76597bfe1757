import type { Kernel } from "../kernel/kernel";
import { GFP_HIGHUSER_MOVABLE } from "../phys/gfp";
import { PG_lru } from "../phys/page-flags";
import { folioMaybeDmaPinned } from "../mm/fork";
import { MigrateReason, migratePages } from "./migrate";

/**
 * alloc_contig_pages for a block of 2^order pages (above MAX_PAGE_ORDER
 * too): find a naturally aligned range holding only free pages and movable
 * folios, move the folios elsewhere, and take the whole range. Returns its
 * first pfn, or -1. Without `migrate` only a range already free will do.
 */
export function allocContig(k: Kernel, order: number, nid: number, movableZoneOk = true, migrate = true): number {
  const phys = k.phys;
  const f = k.folios;
  const size = 2 ** order;
  phys.drainPcp();
  for (const z of phys.nodes[nid]!.zones) {
    if (z.name === "Movable" && !movableZoneOk) continue;
    for (let start = Math.ceil(z.startPfn / size) * size; start + size <= z.endPfn; start += size) {
      if (!rangeMovable(k, start, size)) continue;
      // Take what is free now so the moved folios cannot land inside the range (the range's pageblocks are isolated).
      const taken: [number, number][] = [];
      const takeFree = () => {
        phys.drainPcp();
        for (let p = start; p < start + size; ) {
          const o = z.freeOrderAt(p);
          if (o >= 0 && p + 2 ** o <= start + size && phys.takeFreeRange(p, o)) {
            taken.push([p, o]);
            p += 2 ** o;
          } else p++;
        }
      };
      takeFree();
      const heads: number[] = [];
      for (let p = start; p < start + size; ) {
        if (f.isAllocated(p) && !taken.some(([t, o]) => p >= t && p < t + 2 ** o)) {
          const head = f.head(p);
          heads.push(head);
          p = head + f.nrPages(head);
        } else p++;
      }
      if (heads.length > 0 && !migrate) {
        for (const [p, o] of taken) phys.freePages(p, o);
        phys.drainPcp();
        continue;
      }
      if (heads.length > 0) {
        const r = migratePages(k, heads, (src, o) => f.alloc(o, GFP_HIGHUSER_MOVABLE, phys.nidOf(src)), MigrateReason.CONTIG_RANGE);
        takeFree();
        if (r.failed.length > 0) {
          for (const [p, o] of taken) phys.freePages(p, o);
          phys.drainPcp();
          continue;
        }
      }
      const covered = taken.reduce((n, [, o]) => n + 2 ** o, 0);
      if (covered !== size) {
        for (const [p, o] of taken) phys.freePages(p, o);
        phys.drainPcp();
        continue;
      }
      return start;
    }
  }
  return -1;
}

/** Every allocated page in the range is an LRU folio that could move (no page tables, pins or reserved pages). */
function rangeMovable(k: Kernel, start: number, size: number): boolean {
  const f = k.folios;
  for (let p = start; p < start + size; ) {
    if (!f.isAllocated(p)) {
      p++;
      continue;
    }
    const head = f.head(p);
    if (head < start || head + f.nrPages(head) > start + size) return false;
    if (!f.test(head, PG_lru) || folioMaybeDmaPinned(k, head)) return false;
    p = head + f.nrPages(head);
  }
  return true;
}
