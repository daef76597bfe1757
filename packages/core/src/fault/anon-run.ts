import { PTE, entryRegs } from "@hugemm/arch";
import { contentTag } from "../folio/contents";
import type { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES } from "../mm/counters";
import type { Mm } from "../mm/mm";
import { VM_HUGEPAGE, VM_SHARED, VM_WRITE, protIndex } from "../mm/vm-flags";
import { GFP_HIGHUSER_MOVABLE } from "../phys/gfp";
import type { Slot } from "../pgtable/walker";
import { LRU_INACTIVE_ANON } from "../folio/lru";
import { PG_allocated, PG_anon, PG_anon_exclusive, PG_swapbacked, PG_uptodate } from "../phys/page-flags";
import { EV, NS } from "../stats/counters";
import { anonVmaPrepare } from "./anon";

const R = entryRegs(1);
const pfns: number[] = [];

/**
 * A run of user write faults on none PTEs of one PTE table, in a private
 * anonymous VMA that maps only order-0 folios here (no smaller THP size is
 * enabled for it, and the PTE table exists, so no PMD THP is tried): what
 * one handle_mm_fault → do_anonymous_page per page would do, in the same
 * order, with the same pages from the allocator and the same counts, then
 * the access that the fault let through (young, dirty, the stored tag).
 * It skips what repeats without effect (the walk, the VMA and PTE locks,
 * the allocator's zonelist for each page) and writes each new folio's
 * memmap words at once instead of through the rmap and LRU calls, the
 * counters once for the run. The property test in anon-run.test.ts holds it
 * to the general path's state, word for word. Returns the pages mapped from
 * `va` up to `end`; 0 when the run does not apply (then each fault goes the
 * whole way).
 */
export function anonWriteRun(k: Kernel, mm: Mm, va: number, end: number, slot: Slot, seed: number | undefined): number {
  if (!k.config.fastPaths) return 0;
  const b = k.backend;
  const table = slot.table;
  // Cheapest test first: a refused store to a present PTE (COW, swap) is no run.
  b.readEntry(table, slot.index, PTE, R, 0);
  if (!b.none(R, 0, PTE)) return 0;
  const vma = mm.vmas.lookup(va);
  if (vma === undefined || !vma.isAnonymous || vma.flags & VM_SHARED || (vma.flags & VM_WRITE) === 0) return 0;
  const s = k.thp;
  const below = s.pmdOrder > 0 ? (1 << s.pmdOrder) - 1 : 0;
  if ((s.enabledOrders((vma.flags & VM_HUGEPAGE) !== 0) & below & s.anonOrders) !== 0) return 0;
  const ps = k.pageSize;
  const entries = k.geometry.tables[k.geometry.tables.length - 1]!.entries;
  const last = Math.min(end, vma.end);
  let n = 0;
  for (let i = slot.index, a = va; i < entries && a < last; i++, a += ps, n++) {
    b.readEntry(table, i, PTE, R, 0);
    if (!b.none(R, 0, PTE)) break;
  }
  // Near the low watermark a fault may reclaim between pages: those go one by one.
  if (n < 2 || !k.phys.canAllocBulk(n, GFP_HIGHUSER_MOVABLE, mm.nid)) return 0;
  anonVmaPrepare(k, mm, vma);
  pfns.length = 0;
  k.phys.allocPagesBulk(n, GFP_HIGHUSER_MOVABLE, mm.nid, pfns);
  const f = k.folios;
  const mask = f.memmap.pbMask;
  const prot = protIndex(vma.flags);
  const avId = vma.anonVma!.id;
  const index = vma.pageIndex(va, ps);
  // prep_new_page, then folio_add_new_anon_rmap of an exclusive order-0 folio, as one write per word.
  const flags = PG_allocated | PG_swapbacked | PG_uptodate | PG_anon | PG_anon_exclusive;
  for (let j = 0, a = va, i = slot.index; j < n; j++, a += ps, i++) {
    const folio = pfns[j]!;
    const s = f.section(folio);
    const w = folio & mask;
    s.flags[w] = flags;
    s.refcount[w] = 1;
    s.mapcount[w] = 1;
    s.mapping[w] = avId;
    s.index[w] = (index + j) >>> 0;
    s.tag[w] = seed === undefined ? 0 : contentTag(seed, a / ps) >>> 0;
    b.pfnEntry(R, 0, PTE, folio, prot);
    b.mkdirty(R, 0, PTE);
    b.mkwrite(R, 0, PTE);
    b.setEntries(k.ptCtx, table, i, PTE, a, R, 0, 1);
    b.hwAccess(table, i, PTE, true);
  }
  // The pages all came from the preferred zone's pcp list: one node, one list.
  const nid = k.phys.nidOf(pfns[0]!);
  k.lru.addOrder0Run(pfns, n, nid, LRU_INACTIVE_ANON);
  k.phys.nodeStats(nid)[NS.nr_anon_pages]! += n;
  k.events[EV.pgfault]! += n;
  mm.addRss(MM_ANONPAGES, n);
  // The VMA lock and the PTE lock each fault takes.
  k.locks.acquisitions += 2 * n;
  return n;
}
