import { PMD, PTE, entryRegs } from "@hugemm/arch";
import {
  EV,
  GFP_TRANSHUGE,
  GFP_TRANSHUGE_LIGHT,
  MS,
  PG_uptodate,
  Slot,
  VM_WRITE,
  folioPut,
  mapAnonFolioHuge,
  protIndex,
  type Kernel,
  type Lock,
  type Mm,
  type Vma,
} from "@hugemm/core";
import { countCollapseEvent } from "./check-pte";
import type { CollapseControl } from "./control";
import { copyFailed, copyPages, copySucceeded, type Window } from "./copy";
import { isolate } from "./isolate";
import { findPmd, revalidate } from "./pmd";
import { SCAN } from "./scan-result";
import { swapinWindow } from "./swapin";

const R = entryRegs(2);

/**
 * Where collapse_huge_page stands between two of its steps: each is a
 * point where it takes or drops a lock (or allocates), so a driver can run
 * another thread there.
 */
export type CollapseStep =
  | "allocated"
  | "revalidated"
  | "swapped-in"
  | "mmap-write-locked"
  | "anon-vma-locked"
  | "pmd-flushed"
  | "isolated"
  | "anon-vma-unlocked"
  | "copied"
  | "mapped";

/** alloc_charge_folio: a folio of `order` on the node most of the scanned pages are on, counted as a collapse allocation either way. */
function allocChargeFolio(k: Kernel, cc: CollapseControl, order: number): number {
  const gfp = cc.isKhugepaged && !cc.s.defrag ? GFP_TRANSHUGE_LIGHT : GFP_TRANSHUGE;
  const folio = k.folios.alloc(order, gfp, cc.targetNode());
  if (folio < 0) {
    countCollapseEvent(k, order, EV.thp_collapse_alloc_failed, MS.collapse_alloc_failed);
    return -1;
  }
  // Counted before the memcg charge, which the model does not have (no CGROUP_CHARGE_FAIL).
  countCollapseEvent(k, order, EV.thp_collapse_alloc, MS.collapse_alloc);
  return folio;
}

/**
 * collapse_huge_page(start, order) as a sequence of steps: entered and left
 * with mmap_lock not held. Allocate; under mmap_lock for read revalidate and
 * swap in; retake mmap_lock for write, revalidate, write-lock the VMA and
 * check the PMD; take the anon_vma lock; clear and flush the whole PMD
 * (pmdp_collapse_flush) so the table is detached; isolate the window under
 * the PTE lock; for PMD order drop the anon_vma lock (everything in the
 * table is isolated and locked); copy; then under the PMD lock deposit the
 * old table and map the folio with a PMD, or (mTHP) put the table back and
 * map the folio with 2^order PTEs — keeping the anon_vma lock until then,
 * since rmap walkers of folios outside the window would find the PMD empty.
 * Yields at each step; returns the SCAN_* result.
 */
export function* collapseHugePageSteps(k: Kernel, mm: Mm, cc: CollapseControl, start: number, referenced: number, unmapped: number, order: number): Generator<CollapseStep, number> {
  void referenced;
  const ps = k.pageSize;
  const pmdSpan = ps * (1 << k.thp.pmdOrder);
  const pmdAddr = start - (start % pmdSpan);
  const folio = allocChargeFolio(k, cc, order);
  if (folio < 0) return SCAN.ALLOC_HUGE_PAGE_FAIL;
  // The new folio's reference is khugepaged's own until it is mapped: held, for the checker, between steps.
  k.holdRef(folio, 1);
  yield "allocated";
  let result = SCAN.FAIL;
  let mapped = false;
  const slot = new Slot();
  const pmdState = { ptePa: -1 };
  try {
    k.locks.acquire(mm.mmapLock, true);
    let rv = revalidate(k, mm, pmdAddr, true, cc.isKhugepaged, order);
    if (rv.result !== SCAN.SUCCEED) {
      k.locks.release(mm.mmapLock);
      return rv.result;
    }
    result = findPmd(k, mm, pmdAddr, slot, pmdState);
    if (result !== SCAN.SUCCEED) {
      k.locks.release(mm.mmapLock);
      return result;
    }
    yield "revalidated";
    if (unmapped > 0) {
      // On failure the swap-in has released mmap_lock already.
      result = swapinWindow(k, mm, rv.vma!, start, order, pmdState.ptePa);
      if (result !== SCAN.SUCCEED) return result;
      yield "swapped-in";
    }
    k.locks.release(mm.mmapLock);
    const ptePa = pmdState.ptePa;
    k.locks.acquire(mm.mmapLock);
    try {
      yield "mmap-write-locked";
      rv = revalidate(k, mm, pmdAddr, true, cc.isKhugepaged, order);
      if (rv.result !== SCAN.SUCCEED) return rv.result;
      const vma = rv.vma!;
      // vma_start_write: page faults on the VMA are excluded until mmap_lock is released.
      k.locks.acquire(vma.lock);
      try {
        // check_pmd_still_valid: the same PMD entry, still a table.
        result = findPmd(k, mm, pmdAddr, slot, pmdState);
        if (result !== SCAN.SUCCEED) return result;
        if (pmdState.ptePa !== ptePa) return SCAN.FAIL;
        const anonLock = vma.anonVma!.lock;
        k.locks.acquire(anonLock);
        let anonLocked = true;
        try {
          yield "anon-vma-locked";
          result = yield* detachIsolateMap(k, mm, vma, cc, slot, ptePa, pmdAddr, start, order, folio, () => {
            k.locks.release(anonLock);
            anonLocked = false;
          });
          mapped = result === SCAN.SUCCEED;
          return result;
        } finally {
          if (anonLocked) k.locks.release(anonLock);
        }
      } finally {
        k.locks.release(vma.lock);
      }
    } finally {
      k.locks.release(mm.mmapLock);
    }
  } finally {
    if (!mapped) {
      k.holdRef(folio, -1);
      folioPut(k, folio);
    }
  }
}

/** Steps 6–11 of collapse_huge_page, under mmap_lock (write), the VMA lock and the anon_vma lock. */
function* detachIsolateMap(
  k: Kernel,
  mm: Mm,
  vma: Vma,
  cc: CollapseControl,
  slot: Slot,
  ptePa: number,
  pmdAddr: number,
  start: number,
  order: number,
  folio: number,
  unlockAnonVma: () => void,
): Generator<CollapseStep, number> {
  const b = k.backend;
  const pmdTable = slot.table;
  const pmdIndex = slot.index;
  const pmdPtl = k.tables.ptl(slot.tablePa);
  const ps = k.pageSize;
  const pmdOrder = k.thp.pmdOrder;
  // pmdp_collapse_flush: the whole PMD goes, even for an mTHP window, and its 2 MiB leave the TLB.
  k.locks.acquire(pmdPtl);
  R[0] = 0;
  R[1] = 0;
  b.writeEntry(pmdTable, pmdIndex, PMD, R, 0);
  mm.walker.invalidate();
  k.flushTlb(pmdAddr, pmdAddr + ps * (1 << pmdOrder), "collapse");
  k.locks.release(pmdPtl);
  yield "pmd-flushed";
  const pte = k.tables.get(ptePa);
  const w: Window = { pte, ptePa, index: (start - pmdAddr) / ps, addr: start, order };
  const ptl = k.tables.ptl(ptePa);
  const compound: number[] = [];
  k.locks.acquire(ptl);
  let result = isolate(k, cc, vma, pte, w.index, order, compound);
  k.locks.release(ptl);
  if (result !== SCAN.SUCCEED) {
    populate(k, mm, pmdPtl, pmdTable, pmdIndex, ptePa);
    return result;
  }
  yield "isolated";
  if (order === pmdOrder) {
    unlockAnonVma();
    yield "anon-vma-unlocked";
  }
  result = copyPages(k, w, folio);
  if (result !== SCAN.SUCCEED) {
    // The table goes back before the folios are released (they are still isolated and locked).
    populate(k, mm, pmdPtl, pmdTable, pmdIndex, ptePa);
    copyFailed(k, w, compound);
    return result;
  }
  copySucceeded(k, mm, w, compound);
  yield "copied";
  // __folio_mark_uptodate orders the copy before the mapping is visible.
  k.folios.set(folio, PG_uptodate);
  k.holdRef(folio, -1);
  k.locks.acquire(pmdPtl);
  if (order === pmdOrder) {
    k.tables.deposit(slot.tablePa, ptePa);
    mapAnonFolioHuge(k, vma, PMD, pmdTable, pmdIndex, pmdAddr, folio, R);
    mm.walker.invalidate();
  } else {
    // The table goes back first, so the arch sees a live hierarchy when the PTEs are set.
    k.locks.acquire(ptl);
    b.tableEntry(R, 0, PMD, ptePa, true);
    b.writeEntry(pmdTable, pmdIndex, PMD, R, 0);
    mm.walker.invalidate();
    mapAnonFolioPtes(k, vma, pte, w.index, start, folio, order);
    k.locks.release(ptl);
  }
  k.locks.release(pmdPtl);
  yield "mapped";
  return SCAN.SUCCEED;
}

/** pmd_populate of the original table under the PMD lock (a failed isolation or copy). */
function populate(k: Kernel, mm: Mm, pmdPtl: Lock, pmdTable: Uint32Array, pmdIndex: number, ptePa: number): void {
  const b = k.backend;
  k.locks.acquire(pmdPtl);
  b.tableEntry(R, 0, PMD, ptePa, true);
  b.writeEntry(pmdTable, pmdIndex, PMD, R, 0);
  mm.walker.invalidate();
  k.locks.release(pmdPtl);
}

/**
 * map_anon_folio_pte_nopf: the new folio mapped by 2^order PTEs with one
 * set_ptes (on arm64 an aligned run of 16 folds into a contiguous range),
 * young, dirty and writable where the VMA is writable, exclusive, on the LRU.
 */
function mapAnonFolioPtes(k: Kernel, vma: Vma, pte: Uint32Array, index: number, addr: number, folio: number, order: number): void {
  const b = k.backend;
  const nr = 1 << order;
  b.pfnEntry(R, 0, PTE, folio, protIndex(vma.flags));
  if (vma.flags & VM_WRITE) {
    b.mkdirty(R, 0, PTE);
    b.mkwrite(R, 0, PTE);
  }
  k.folios.ref(folio, nr - 1);
  k.rmap.addNewAnon(folio, vma, addr, PTE, true);
  k.lru.add(folio);
  b.setEntries(k.ptCtx, pte, index, PTE, addr, R, 0, nr);
}

/** Run collapse_huge_page to its end. */
export function collapseHugePage(k: Kernel, mm: Mm, cc: CollapseControl, start: number, referenced: number, unmapped: number, order: number): number {
  const it = collapseHugePageSteps(k, mm, cc, start, referenced, unmapped, order);
  for (;;) {
    const r = it.next();
    if (r.done === true) return r.value;
  }
}
