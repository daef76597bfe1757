import { PTE, SoftleafType, entryRegs, softleafTypeOf } from "@hugemm/arch";
import { normalPage } from "../fault/wp";
import type { Kernel } from "../kernel/kernel";
import { MM_SWAPENTS } from "../mm/counters";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { PG_active, PG_anon, PG_dirty, PG_isolated, PG_lru, PG_referenced, PG_swapbacked, PG_swapcache, PG_unevictable, PG_workingset } from "../phys/page-flags";
import { WALK_OK } from "../pgtable/walker";
import { EV, NS } from "../stats/counters";
import { newScanControl, shrinkFolioList } from "./shrink";

const R = entryRegs(1);

/** Visit the present, normal order-0 pages mapped in [start, end) of the VMA, one PTE table at a time. */
function forEachPage(k: Kernel, mm: Mm, start: number, end: number, fn: (head: number, page: number, table: Uint32Array, index: number, addr: number) => void): void {
  const ps = k.pageSize;
  const b = k.backend;
  const slot = mm.slot;
  const pte = k.geometry.tables[k.geometry.tables.length - 1]!;
  const span = 2 ** pte.shift * pte.entries;
  for (let addr = start; addr < end; ) {
    const tableEnd = Math.min(end, addr - (addr % span) + span);
    if (mm.walker.find(addr, PTE, false, slot) !== WALK_OK) {
      addr = tableEnd;
      continue;
    }
    const table = slot.table;
    for (let i = slot.index; addr < tableEnd; addr += ps, i++) {
      b.getEntry(table, i, PTE, R, 0);
      if (!b.present(R, 0, PTE)) continue;
      const page = normalPage(k, R, 0);
      if (page < 0) continue;
      fn(k.folios.head(page), page, table, i, addr);
    }
  }
}

/**
 * MADV_COLD and MADV_PAGEOUT (madvise_cold_or_pageout_pte_range): for each
 * page mapped only here, forget its references; COLD deactivates it,
 * PAGEOUT isolates it and reclaims the lot at once, ignoring references.
 * Returns the pages reclaimed.
 */
export function madvColdOrPageout(k: Kernel, mm: Mm, _vma: Vma, start: number, end: number, pageout: boolean): number {
  const f = k.folios;
  const b = k.backend;
  const list: number[] = [];
  forEachPage(k, mm, start, end, (head, _page, table, index, addr) => {
    if (f.order(head) > 0 || f.mapcount(head) > 1) return;
    if (!pageout) {
      b.getEntry(table, index, PTE, R, 0);
      if (b.young(R, 0, PTE)) b.clearYoungDirty(k.ptCtx, table, index, PTE, addr, 1, true, false);
    }
    f.clear(head, PG_referenced);
    if (f.test(head, PG_active)) f.set(head, PG_workingset);
    if (pageout) {
      if (!f.test(head, PG_unevictable) && k.lru.isolate(head)) {
        f.set(head, PG_isolated);
        k.phys.nodeStats(k.phys.nidOf(head))[f.test(head, PG_swapbacked) ? NS.nr_isolated_anon : NS.nr_isolated_file]!++;
        list.push(head);
      }
    } else if (f.test(head, PG_lru) && f.test(head, PG_active) && !f.test(head, PG_unevictable)) {
      // folio_deactivate: to the inactive list's head, its references forgotten.
      k.lru.del(head);
      f.clear(head, PG_active | PG_referenced);
      k.lru.add(head);
      k.events[EV.pgdeactivate]!++;
    }
  });
  if (!pageout || list.length === 0) return 0;
  return shrinkFolioList(k, list, newScanControl(list.length, false, 60, true));
}

/**
 * MADV_FREE (madvise_free_pte_range) on an anonymous VMA: swap entries are
 * dropped; each page mapped only here gives up its swap copy, becomes clean
 * and old, and turns lazy-free (off the anon list, onto the inactive file
 * list), to be discarded by reclaim unless written again.
 */
export function madvFree(k: Kernel, mm: Mm, _vma: Vma, start: number, end: number): number {
  const f = k.folios;
  const b = k.backend;
  const ps = k.pageSize;
  const slot = mm.slot;
  for (let addr = start; addr < end; addr += ps) {
    if (mm.walker.find(addr, PTE, false, slot) !== WALK_OK) continue;
    b.getEntry(slot.table, slot.index, PTE, R, 0);
    if (b.none(R, 0, PTE) || b.present(R, 0, PTE)) continue;
    if (!b.isSoftleaf(R, 0, PTE)) continue;
    const type = softleafTypeOf(b.swpType(R, 0, PTE));
    if (type === SoftleafType.SWAP) {
      k.swap.freeSwapAndCache(b.swpOffset(R, 0, PTE), 1);
      mm.addRss(MM_SWAPENTS, -1);
      b.getAndClear(k.ptCtx, slot.table, slot.index, PTE, addr, R, 0);
    } else if (type === SoftleafType.HWPOISON || type === SoftleafType.MARKER) {
      b.getAndClear(k.ptCtx, slot.table, slot.index, PTE, addr, R, 0);
    }
  }
  forEachPage(k, mm, start, end, (head, _page, table, index, addr) => {
    if (f.order(head) > 0 || !f.test(head, PG_anon)) return;
    if (f.test(head, PG_swapcache) || f.test(head, PG_dirty)) {
      if (f.mapcount(head) > 1) return;
      if (f.test(head, PG_swapcache) && !k.swap.folioFreeSwap(head)) return;
      f.clear(head, PG_dirty);
    }
    b.getEntry(table, index, PTE, R, 0);
    if (b.young(R, 0, PTE) || b.dirty(R, 0, PTE)) b.clearYoungDirty(k.ptCtx, table, index, PTE, addr, 1, true, true);
    // folio_mark_lazyfree.
    if (f.test(head, PG_swapbacked) && !f.test(head, PG_swapcache) && !f.test(head, PG_unevictable) && f.test(head, PG_lru)) {
      k.lru.del(head);
      f.clear(head, PG_active | PG_referenced | PG_swapbacked);
      k.lru.add(head);
      k.events[EV.pglazyfree]!++;
    }
  });
  return 0;
}
