import { PTE, entryRegs } from "@hugemm/arch";
import { FAULT_FLAG_ALLOW_RETRY, MS, Slot, VM_FAULT_ERROR, VM_FAULT_RETRY, countMthp, type Kernel, type Mm, type Vma } from "@hugemm/core";
import { SCAN } from "./scan-result";

const R = entryRegs(1);
const SLOT = new Slot();

/**
 * __collapse_huge_page_swapin over the window [start, start + 2^order
 * pages), under mmap_lock for read: each non-present PTE is faulted in with
 * do_swap_page (FAULT_FLAG_ALLOW_RETRY). An mTHP collapse gives up at the
 * first one instead (EXCEED_SWAP_PTE): pages brought in now could carry a
 * later scan over the next order's threshold. Any result but SUCCEED
 * returns with mmap_lock released, as in the kernel. A migration entry
 * waits for its migration and counts as done; the isolation that follows
 * finds it still there (PTE_NON_PRESENT) since nothing runs meanwhile.
 */
export function swapinWindow(k: Kernel, mm: Mm, vma: Vma, start: number, order: number, ptePa: number): number {
  const b = k.backend;
  const ps = k.pageSize;
  const end = start + ps * (1 << order);
  const pte = k.tables.tableAt(ptePa);
  if (pte === undefined) {
    k.locks.release(mm.mmapLock);
    return SCAN.NO_PTE_TABLE;
  }
  const span = (1 << k.thp.pmdOrder) * ps;
  const first = (start % span) / ps;
  for (let addr = start, i = first; addr < end; addr += ps, i++) {
    b.getEntry(pte, i, PTE, R, 0);
    if (b.none(R, 0, PTE) || b.present(R, 0, PTE)) continue;
    if (order !== k.thp.pmdOrder) {
      countMthp(k, order, MS.collapse_exceed_swap_pte);
      k.locks.release(mm.mmapLock);
      return SCAN.EXCEED_SWAP_PTE;
    }
    SLOT.table = pte;
    SLOT.tablePa = ptePa;
    SLOT.index = i;
    SLOT.level = PTE;
    const ret = k.faultHandlers.doSwapPage(k, mm, vma, addr, FAULT_FLAG_ALLOW_RETRY, SLOT, R);
    if (ret & VM_FAULT_RETRY) {
      k.locks.release(mm.mmapLock);
      return SCAN.PAGE_LOCK;
    }
    if (ret & VM_FAULT_ERROR) {
      k.locks.release(mm.mmapLock);
      return SCAN.FAIL;
    }
  }
  return SCAN.SUCCEED;
}
