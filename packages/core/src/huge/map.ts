import { PMD, PUD, type EntryReg, type Level } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES } from "../mm/counters";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { VM_WRITE, protIndex } from "../mm/vm-flags";
import { allocContig } from "../migrate/contig";
import { __GFP_DIRECT_RECLAIM, __GFP_ZERO } from "../phys/gfp";
import { EV, MS, MTHP_STRIDE } from "../stats/counters";

/**
 * Allocate a folio of `order` for a huge mapping: from the buddy allocator up
 * to MAX_PAGE_ORDER, above it (a PUD THP) by taking a whole aligned range,
 * moving movable pages out of it only when the gfp mask allows direct
 * reclaim. Its contents start zeroed. Returns the head pfn or -1.
 */
export function allocHugeFolio(k: Kernel, order: number, gfp: number, nid: number): number {
  if (order <= k.phys.maxOrder) return k.folios.alloc(order, gfp | __GFP_ZERO, nid);
  const pfn = allocContig(k, order, nid, true, (gfp & __GFP_DIRECT_RECLAIM) !== 0);
  if (pfn < 0) return -1;
  k.folios.prep(pfn, order);
  k.folios.zero(pfn);
  return pfn;
}

/** A huge leaf entry at `level` for the folio at `head` with the VMA's protection (folio_mk_pmd / folio_mk_pud). */
export function mkHugeEntry(k: Kernel, out: EntryReg, o: number, level: Level, head: number, vma: Vma): void {
  const b = k.backend;
  b.pfnEntry(out, o, level, head, protIndex(vma.flags));
  b.mkhuge(out, o, level);
}

/** Per-order mTHP stat. */
export function countMthp(k: Kernel, order: number, stat: number, d = 1): void {
  k.mthpStats[order * MTHP_STRIDE + stat]! += d;
}

/**
 * map_anon_folio_pmd_nopf (at PMD or PUD): a new anonymous folio mapped
 * whole, dirty, writable where the VMA is, exclusive, on the LRU, and
 * queued as a candidate for the underused-THP shrinker.
 */
export function mapAnonFolioHuge(k: Kernel, vma: Vma, level: Level, table: Uint32Array, index: number, haddr: number, head: number, r: EntryReg): void {
  const b = k.backend;
  mkHugeEntry(k, r, 0, level, head, vma);
  b.mkdirty(r, 0, level);
  if (vma.flags & VM_WRITE) b.mkwrite(r, 0, level);
  k.rmap.addNewAnon(head, vma, haddr, level, true);
  k.lru.add(head);
  b.setEntries(k.ptCtx, table, index, level, haddr, r, 0, 1);
  k.deferredSplit.queue(head, false);
}

/** map_anon_folio_pmd_pf: the same from a page fault, with the rss and the fault counters. */
export function mapAnonFolioHugeFault(k: Kernel, mm: Mm, vma: Vma, level: Level, table: Uint32Array, index: number, haddr: number, head: number, r: EntryReg): void {
  mapAnonFolioHuge(k, vma, level, table, index, haddr, head, r);
  const order = k.folios.order(head);
  mm.addRss(MM_ANONPAGES, 2 ** order);
  if (level === PMD) k.events[EV.thp_fault_alloc]!++;
  countMthp(k, order, MS.anon_fault_alloc);
}

/** The order of a folio mapped whole at `level` (HPAGE_PMD_ORDER / HPAGE_PUD_ORDER). */
export function levelOrder(k: Kernel, level: Level): number {
  return level === PUD ? k.thp.pudOrder : k.thp.pmdOrder;
}
