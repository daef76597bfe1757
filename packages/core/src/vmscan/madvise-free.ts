import { PMD, PTE, PTE_MARKER_POISONED, SoftleafType, entryRegs, softleafTypeOf } from "@hugemm/arch";
import { normalPage } from "../fault/wp";
import { madviseFreeHugePmd } from "../huge/madvise-free";
import type { Kernel } from "../kernel/kernel";
import { MM_SWAPENTS } from "../mm/counters";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { PG_dirty, PG_locked, PG_swapcache } from "../phys/page-flags";
import { Slot, WALK_LEAF, WALK_OK } from "../pgtable/walker";
import { folioMarkLazyfree, lruAddDrain } from "../folio/lru-batch";
import { walkPmdRanges } from "./madvise-walk";
import { batchBits, folioPteBatch } from "./pte-batch";
import { splitPartialFolio } from "./split-partial";

const R = entryRegs(2);
const SLOT = new Slot();

/**
 * MADV_FREE (madvise_free_pte_range) on an anonymous VMA, one PMD span at a
 * time: a PMD THP covered whole and mapped only here turns lazy-free as one
 * (madvise_free_huge_pmd); swap entries are dropped; each folio mapped only
 * here gives up its swap copy, becomes clean and old, and turns lazy-free
 * (off the anon list, onto the inactive file list), to be discarded by
 * reclaim unless written again. A large folio the range covers only in
 * part is split first when nothing else maps it.
 */
export function madvFree(k: Kernel, mm: Mm, vma: Vma, start: number, end: number): number {
  // madvise_free_single_vma drains this CPU's batches before its walk, not after.
  lruAddDrain(k);
  walkPmdRanges(k, mm, vma, start, end, (addr, next) => freePmdRange(k, mm, addr, next));
  return 0;
}

/** One pmd_entry call over [addr, end). */
function freePmdRange(k: Kernel, mm: Mm, addr: number, end: number): void {
  let st = mm.walker.find(addr, PTE, false, SLOT);
  if (st === WALK_LEAF && SLOT.level === PMD) {
    if (madviseFreeHugePmd(k, mm, SLOT.table, SLOT.tablePa, SLOT.index, addr, end)) return;
    // Split (or left alone): only a PTE table is walked further.
    st = mm.walker.find(addr, PTE, false, SLOT);
  }
  if (st === WALK_OK) freePteRange(k, mm, addr, end);
}

/** The PTEs of [addr, end) in the table SLOT was just walked to. */
function freePteRange(k: Kernel, mm: Mm, addr: number, end: number): void {
  const b = k.backend;
  const f = k.folios;
  const ps = k.pageSize;
  let table = SLOT.table;
  let index = SLOT.index;
  let ptl = k.tables.ptl(SLOT.tablePa);
  let nrSwap = 0;
  k.locks.acquire(ptl);
  for (let nr = 1; addr < end; addr += nr * ps, index += nr) {
    nr = 1;
    b.getEntry(table, index, PTE, R, 0);
    if (b.none(R, 0, PTE)) continue;
    if (!b.present(R, 0, PTE)) {
      // A swap entry is just dropped: a later fault gets a zeroed page cheaper than a swap-in.
      if (!b.isSoftleaf(R, 0, PTE)) continue;
      const type = softleafTypeOf(b.swpType(R, 0, PTE));
      const off = b.swpOffset(R, 0, PTE);
      if (type === SoftleafType.SWAP) {
        k.swap.freeSwapAndCache(off, 1);
        nrSwap--;
        b.getAndClear(k.ptCtx, table, index, PTE, addr, R, 1);
      } else if (type === SoftleafType.HWPOISON || (type === SoftleafType.MARKER && off & PTE_MARKER_POISONED)) {
        b.getAndClear(k.ptCtx, table, index, PTE, addr, R, 1);
      }
      continue;
    }
    const page = normalPage(k, R, 0);
    if (page < 0) continue;
    const head = f.head(page);
    const pages = f.nrPages(head);
    let young = b.young(R, 0, PTE);
    let dirty = b.dirty(R, 0, PTE);
    if (pages > 1) {
      nr = folioPteBatch(k, table, index, page, Math.min((end - addr) / ps, head + pages - page), 0);
      young = batchBits.young;
      dirty = batchBits.dirty;
      if (nr < pages) {
        const r = splitPartialFolio(k, mm, ptl, head, addr, SLOT);
        if (r === "skipped") continue;
        if (r === "gone") {
          mm.addRss(MM_SWAPENTS, nrSwap);
          return;
        }
        table = SLOT.table;
        index = SLOT.index;
        ptl = k.tables.ptl(SLOT.tablePa);
        if (r === "split") nr = 0;
        continue;
      }
    }
    if (f.test(head, PG_swapcache) || f.test(head, PG_dirty)) {
      if (f.test(head, PG_locked)) continue;
      // Fully mapped here: exclusive when it has no other mappings.
      if (f.mapcount(head) !== pages) continue;
      if (f.test(head, PG_swapcache) && !k.swap.folioFreeSwap(head)) continue;
      f.clear(head, PG_dirty);
    }
    if (young || dirty) b.clearYoungDirty(k.ptCtx, table, index, PTE, addr, nr, true, true);
    folioMarkLazyfree(k, head);
  }
  k.locks.release(ptl);
  mm.addRss(MM_SWAPENTS, nrSwap);
}
