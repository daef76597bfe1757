import { PTE, entryRegs } from "@hugemm/arch";
import { PG_locked, PG_lru, PG_referenced, Slot, type Kernel, type Mm, type Vma } from "@hugemm/core";
import { PTE_CHECK_CONTINUE, PTE_CHECK_FAIL, PteCheck, anonExpectedRefs, collapseCheckPte } from "./check-pte";
import { collapseHugePage } from "./collapse-huge-page";
import type { CollapseControl } from "./control";
import { collapseMaxPtesNone, collapseMaxPtesShared, collapseMaxPtesSwap } from "./limits";
import { collapsePossibleOrders, findPmd } from "./pmd";
import { SCAN } from "./scan-result";

const R = entryRegs(1);
const SLOT = new Slot();
const PMD_STATE = { ptePa: -1 };
const CTX = new PteCheck();

/** KHUGEPAGED_MIN_MTHP_ORDER. */
export const MIN_MTHP_ORDER = 2;

/** What one collapse_scan_pmd did besides its result: whether it let mmap_lock go. */
export interface ScanOut {
  lockDropped: boolean;
}

/**
 * collapse_scan_pmd for the PMD range at `start` of an anonymous VMA, under
 * mmap_lock for read. Every PTE passes collapse_check_pte with the PMD
 * limits (max_ptes_none relaxed to HPAGE_PMD_NR - 1 when an mTHP order is
 * enabled, so the whole table is looked at); each occupied PTE sets its bit
 * in the bitmap, then its folio must be on the LRU, unlocked and without
 * extra references. One progress unit per PTE looked at (one for a range
 * with no PTE table). khugepaged needs a referenced PTE, and half the table
 * referenced when swap PTEs would be faulted in. Success drops mmap_lock and
 * hands the bitmap to mthp_collapse.
 */
export function collapseScanPmd(k: Kernel, mm: Mm, vma: Vma, start: number, cc: CollapseControl, out: ScanOut): number {
  const b = k.backend;
  const pmdOrder = k.thp.pmdOrder;
  const nr = 1 << pmdOrder;
  let result = findPmd(k, mm, start, SLOT, PMD_STATE);
  if (result !== SCAN.SUCCEED) {
    cc.progress++;
    return result;
  }
  cc.initScan();
  const enabled = collapsePossibleOrders(k, mm, vma, vma.flags, cc.isKhugepaged);
  const ctx = CTX;
  // With an mTHP order enabled the whole table is scanned, and each window's own limit applied later.
  const maxNone = enabled !== 1 << pmdOrder ? cc.s.limit : collapseMaxPtesNone(cc, vma, pmdOrder);
  ctx.reset(cc.isKhugepaged, pmdOrder, pmdOrder, maxNone, collapseMaxPtesSwap(cc, pmdOrder), collapseMaxPtesShared(cc, pmdOrder), true, b.capabilities.uffdWp);
  const ptePa = PMD_STATE.ptePa;
  const pte = k.tables.get(ptePa);
  const ptl = k.tables.ptl(ptePa);
  const present = cc.present;
  const nodeLoad = cc.nodeLoad;
  let referenced = 0;
  result = SCAN.SUCCEED;
  k.locks.acquire(ptl);
  for (let i = 0; i < nr; i++) {
    b.getEntry(pte, i, PTE, R, 0);
    cc.progress++;
    const check = collapseCheckPte(k, vma, R, ctx);
    if (check === PTE_CHECK_FAIL) {
      result = ctx.result;
      break;
    }
    if (check === PTE_CHECK_CONTINUE) continue;
    present[i] = 1;
    const head = ctx.folio;
    // No node_reclaim_mode in the model, so collapse_scan_abort never stops the scan (SCAN_SCAN_ABORT).
    nodeLoad[k.phys.nidOf(head)]!++;
    const flags = ctx.flags;
    if ((flags & PG_lru) === 0) {
      result = SCAN.PAGE_LRU;
      break;
    }
    if (flags & PG_locked) {
      result = SCAN.PAGE_LOCK;
      break;
    }
    // Racy in the kernel (no folio lock yet); isolation checks again.
    if (anonExpectedRefs(k, ctx) !== ctx.refcount) {
      result = SCAN.PAGE_COUNT;
      break;
    }
    // pte_is_referenced.
    if (cc.isKhugepaged && (b.young(R, 0, PTE) || (flags & PG_referenced) !== 0)) referenced++;
  }
  k.locks.release(ptl);
  if (result !== SCAN.SUCCEED) return result;
  if (cc.isKhugepaged && (referenced === 0 || (ctx.unmapped > 0 && referenced < nr / 2))) return SCAN.LACK_REFERENCED_PAGE;
  k.locks.release(mm.mmapLock);
  out.lockDropped = true;
  return mthpCollapse(k, mm, start, referenced, ctx.unmapped, cc, enabled);
}

/** max_order_from_offset: the largest naturally aligned order starting at `offset` within a PMD. */
function maxOrderFromOffset(offset: number, pmdOrder: number): number {
  if (offset === 0) return pmdOrder;
  return Math.min(31 - Math.clz32(offset & -offset), pmdOrder);
}

/**
 * mthp_collapse: walk the aligned windows of the PMD range from PMD order
 * down, left half first, and collapse each window whose occupied PTEs reach
 * 2^order - max_ptes_none(order) (swap PTEs count only at PMD order). A
 * success or an already-huge window moves on to the next offset; failures
 * that a smaller window might avoid try the next lower enabled order; any
 * other failure ends the range. Returns SUCCEED if anything collapsed, else
 * ALLOC_HUGE_PAGE_FAIL if an allocation failed, else the last result.
 */
export function mthpCollapse(k: Kernel, mm: Mm, address: number, referenced: number, unmapped: number, cc: CollapseControl, enabled: number): number {
  const pmdOrder = k.thp.pmdOrder;
  const nrPmd = 1 << pmdOrder;
  const ps = k.pageSize;
  let last = SCAN.FAIL;
  let collapsed = 0;
  let allocFailed = false;
  let offset = 0;
  let order = pmdOrder;
  walk: while (offset < nrPmd) {
    const nr = 1 << order;
    let nextOffset = false;
    if (enabled & (1 << order)) {
      const maxNone = collapseMaxPtesNone(cc, null, order);
      let occupied = cc.weight(offset, offset + nr);
      if (order === pmdOrder) occupied += unmapped;
      if (occupied >= nr - maxNone) {
        const at = address + offset * ps;
        const r = collapseHugePage(k, mm, cc, at, referenced, unmapped, order);
        cc.attempt(at, order, r);
        switch (r) {
          case SCAN.SUCCEED:
            collapsed += nr;
            nextOffset = true;
            break;
          case SCAN.PTE_MAPPED_HUGEPAGE:
            nextOffset = true;
            break;
          case SCAN.ALLOC_HUGE_PAGE_FAIL:
            allocFailed = true;
            last = r;
            break;
          case SCAN.LACK_REFERENCED_PAGE:
          case SCAN.EXCEED_NONE_PTE:
          case SCAN.EXCEED_SWAP_PTE:
          case SCAN.EXCEED_SHARED_PTE:
          case SCAN.PAGE_LOCK:
          case SCAN.PAGE_COUNT:
          case SCAN.PAGE_NULL:
          case SCAN.DEL_PAGE_LRU:
          case SCAN.PTE_NON_PRESENT:
          case SCAN.PTE_UFFD:
          case SCAN.PAGE_LAZYFREE:
            last = r;
            break;
          default:
            last = r;
            break walk;
        }
      }
    }
    // Next lower order while one is enabled; at the smallest, the next offset.
    if (!nextOffset && order > MIN_MTHP_ORDER && (enabled & ((1 << order) - 1)) !== 0) {
      order--;
      continue;
    }
    offset += nr;
    order = maxOrderFromOffset(offset, pmdOrder);
  }
  if (collapsed > 0) return SCAN.SUCCEED;
  if (allocFailed) return SCAN.ALLOC_HUGE_PAGE_FAIL;
  return last;
}
