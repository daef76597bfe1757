import { PMD, PTE, PUD, entryRegs } from "@hugemm/arch";
import { folioPut } from "../folio/put";
import { unmapHugePmdLocked } from "../huge/discard";
import { splitHugeEntry } from "../huge/split-entry";
import type { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES, MM_SWAPENTS } from "../mm/counters";
import { folioMaybeDmaPinned } from "../mm/fork";
import { VM_LOCKED, VM_UFFD_WP } from "../mm/vm-flags";
import { mmCounter } from "../mm/zap";
import { PG_anon, PG_anon_exclusive, PG_dirty, PG_swapbacked, PG_swapcache } from "../phys/page-flags";
import { pageVmaMappedWalk, rmapWalk, type MappedAt } from "../rmap/walk";
import { ModelBug } from "../util/errors";
import { setSwapbacked } from "./isolate";
import { FPB_RESPECT_SOFT_DIRTY, FPB_RESPECT_WRITE, folioPteBatch } from "./pte-batch";

/** enum ttu_flags: split PMD mappings on the way (the walk then goes on over their PTEs). */
export const TTU_SPLIT_HUGE_PMD = 0x4;
/** The RFC's TTU_SPLIT_HUGE_PUD: the same for PUD mappings (their split may need page tables). */
export const TTU_SPLIT_HUGE_PUD = 0x200;

const R = entryRegs(2);

/**
 * try_to_unmap: remove every mapping of the locked, isolated folio.
 * Anonymous pages in the swap cache leave swap entries (exclusive when the
 * page was, carrying soft-dirty and uffd-wp); a lazy-free folio is
 * discarded if clean and referenced by nothing but its mappings — a
 * PMD-mapped one whole, PTE-mapped ones a batch of PTEs at a time; file
 * pages just go, passing their dirty bit to the folio. A PMD mapping is
 * split with TTU_SPLIT_HUGE_PMD and a PUD mapping with TTU_SPLIT_HUGE_PUD,
 * and the walk goes on over the PTEs that replace them (there are no PMD
 * swap entries: a swapped-out THP leaves one swap entry per page). The walk
 * stops — and reports false, leaving the folio mapped where it got to — at
 * an mlocked VMA, at a lazy-free folio written again or held elsewhere, at
 * an exclusive page that may be pinned, or at a PUD whose split could not
 * get its page tables.
 */
export function tryToUnmap(k: Kernel, head: number, flags = 0): boolean {
  const f = k.folios;
  let ok = true;
  const one = (m: MappedAt): boolean => {
    if (!m.present) return true;
    if (m.vma.flags & VM_LOCKED) {
      ok = false;
      return false;
    }
    if (m.level !== PTE) {
      if (!unmapHuge(k, head, m, flags)) {
        ok = false;
        return false;
      }
      // page_vma_mapped_walk_restart after a split: go on over its PTEs.
      if (f.mapped(head) && !pageVmaMappedWalk(k, m.mm, m.vma, head, f.index(head), f.nrPages(head), one)) return false;
      return true;
    }
    if (!unmapPtes(k, head, m)) {
      ok = false;
      return false;
    }
    return true;
  };
  rmapWalk(k, head, one);
  return ok;
}

/**
 * A PMD or PUD mapping of the folio: a lazy-free PMD THP is discarded whole
 * (or the walk aborts), anything else is split as `flags` ask. Returns
 * false to abort the walk.
 */
function unmapHuge(k: Kernel, head: number, m: MappedAt, flags: number): boolean {
  const f = k.folios;
  const { slot, mm } = m;
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  try {
    if (m.level === PMD && f.test(head, PG_anon) && !f.test(head, PG_swapbacked)) {
      return unmapHugePmdLocked(k, mm, slot.table, slot.tablePa, slot.index, m.addr, head);
    }
    const want = m.level === PUD ? TTU_SPLIT_HUGE_PUD : TTU_SPLIT_HUGE_PMD;
    if ((flags & want) === 0) throw new ModelBug(`try_to_unmap of folio ${head} met a level-${m.level} mapping at 0x${m.addr.toString(16)} without being asked to split it`);
    if (!splitHugeEntry(k, mm, m.vma, m.level, slot.table, slot.tablePa, slot.index, m.addr, false)) return false;
    k.flushTlb(m.addr, m.addr + mm.walker.levelSize(m.level), "split");
    return true;
  } finally {
    k.locks.release(ptl);
  }
}

/**
 * The PTE at `m` (and, for a lazy-free large folio, the PTEs after it
 * mapping the rest of the folio: folio_unmap_pte_batch). Returns false to
 * abort the walk, with the PTEs restored.
 */
function unmapPtes(k: Kernel, head: number, m: MappedAt): boolean {
  const b = k.backend;
  const f = k.folios;
  const ps = k.pageSize;
  const anon = f.test(head, PG_anon);
  const lazyfree = anon && !f.test(head, PG_swapbacked);
  const { slot, mm, vma } = m;
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  try {
    let nr = 1;
    const nrPages = f.nrPages(head);
    if (nrPages > 1 && (lazyfree || !anon) && (vma.flags & VM_UFFD_WP) === 0) {
      // Batch only within one VMA and one page table.
      const pmdSize = mm.walker.levelSize(PMD);
      const end = Math.min(vma.end, m.addr - (m.addr % pmdSize) + pmdSize);
      const max = Math.min((end - m.addr) / ps, head + nrPages - m.page);
      nr = folioPteBatch(k, slot.table, slot.index, m.page, max, FPB_RESPECT_WRITE | FPB_RESPECT_SOFT_DIRTY);
    }
    if (nr === 1) b.getAndClear(k.ptCtx, slot.table, slot.index, PTE, m.addr, R, 0);
    else b.getAndClearEntries(k.ptCtx, slot.table, slot.index, PTE, m.addr, nr, R, 0);
    k.flushTlb(m.addr, m.addr + nr * ps, "reclaim");
    // folio_mark_dirty.
    if (b.dirty(R, 0, PTE)) {
      if (anon) f.set(head, PG_dirty);
      else k.pagecache.markDirty(head);
    }
    if (lazyfree) {
      // MADV_FREE: discard only if nobody wrote the folio since, and nobody else holds it.
      if (f.test(head, PG_dirty)) {
        b.setEntries(k.ptCtx, slot.table, slot.index, PTE, m.addr, R, 0, nr);
        setSwapbacked(k, head);
        return false;
      }
      if (f.refcount(head) !== 1 + f.mapcount(head)) {
        b.setEntries(k.ptCtx, slot.table, slot.index, PTE, m.addr, R, 0, nr);
        return false;
      }
      mm.addRss(MM_ANONPAGES, -nr);
    } else if (anon) {
      const exclusive = f.pageTest(m.page, PG_anon_exclusive);
      if (exclusive && folioMaybeDmaPinned(k, head)) {
        b.setEntries(k.ptCtx, slot.table, slot.index, PTE, m.addr, R, 0, 1);
        return false;
      }
      if (!f.test(head, PG_swapcache)) throw new ModelBug(`unmapping anon folio ${head} that is not in the swap cache`);
      const off = k.swap.slotOf.get(head)! + (m.page - head);
      k.swap.device!.dup(off, 1);
      const sd = k.config.memSoftDirty && b.softDirty(R, 0, PTE);
      const wp = b.capabilities.uffdWp && b.uffdWp(R, 0, PTE);
      b.softleafEntry(R, 1, PTE, k.swap.device!.type, off);
      if (exclusive) {
        b.swpMkExclusive(R, 1, PTE);
        f.pageSet(m.page, PG_anon_exclusive, false);
      }
      if (sd) b.swpMkSoftDirty(R, 1, PTE);
      if (wp) b.swpMkUffdWp(R, 1, PTE);
      b.writeEntry(slot.table, slot.index, PTE, R, 1);
      mm.addRss(MM_ANONPAGES, -1);
      mm.addRss(MM_SWAPENTS, 1);
    } else {
      mm.addRss(mmCounter(k, head), -nr);
    }
    k.rmap.remove(head, m.page, nr, PTE, mm.id);
    folioPut(k, head, nr);
    return true;
  } finally {
    k.locks.release(ptl);
  }
}
