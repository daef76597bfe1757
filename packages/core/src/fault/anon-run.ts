import { PTE, entryRegs } from "@hugemm/arch";
import { mixTag } from "../folio/contents";
import type { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES } from "../mm/counters";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { VM_HUGEPAGE, VM_SHARED, VM_WRITE, protIndex } from "../mm/vm-flags";
import { GFP_HIGHUSER_MOVABLE } from "../phys/gfp";
import type { Slot } from "../pgtable/walker";
import { EV } from "../stats/counters";
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
 * It skips only what repeats without effect: the walk, the VMA and PTE
 * locks, and the allocator's zonelist for each page. Returns the pages
 * mapped from `va` up to `end`; 0 when the run does not apply (then each
 * fault goes the whole way).
 */
export function anonWriteRun(k: Kernel, mm: Mm, vma: Vma, va: number, end: number, slot: Slot, seed: number | undefined): number {
  if (!k.config.fastPaths || !vma.isAnonymous || vma.flags & VM_SHARED || (vma.flags & VM_WRITE) === 0) return 0;
  const s = k.thp;
  const below = s.pmdOrder > 0 ? (1 << s.pmdOrder) - 1 : 0;
  if ((s.enabledOrders((vma.flags & VM_HUGEPAGE) !== 0) & below & s.anonOrders) !== 0) return 0;
  const b = k.backend;
  const ps = k.pageSize;
  const table = slot.table;
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
  const prot = protIndex(vma.flags);
  for (let j = 0, a = va, i = slot.index; j < n; j++, a += ps, i++) {
    const folio = pfns[j]!;
    k.events[EV.pgfault]!++;
    f.prep(folio, 0);
    b.pfnEntry(R, 0, PTE, folio, prot);
    b.mkdirty(R, 0, PTE);
    b.mkwrite(R, 0, PTE);
    k.rmap.addNewAnon(folio, vma, a, PTE, true);
    k.lru.add(folio);
    b.setEntries(k.ptCtx, table, i, PTE, a, R, 0, 1);
    b.hwAccess(table, i, PTE, true);
    if (seed !== undefined) f.writeTag(folio, mixTag(seed, a / ps));
  }
  mm.addRss(MM_ANONPAGES, n);
  // The VMA lock and the PTE lock each fault takes.
  k.locks.acquisitions += 2 * n;
  return n;
}
