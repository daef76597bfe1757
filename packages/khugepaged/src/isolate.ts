import { PTE, entryRegs } from "@hugemm/arch";
import { PG_isolated, PG_locked, PG_referenced, folioExpectedRefCount, isolatedStat, putbackLru, type Kernel, type Vma } from "@hugemm/core";
import { PTE_CHECK_CONTINUE, PTE_CHECK_FAIL, PteCheck, collapseCheckPte, pteNoneOrZero } from "./check-pte";
import { collapseMaxPtesNone, collapseMaxPtesShared, type LimitContext } from "./limits";
import { SCAN } from "./scan-result";

const R = entryRegs(1);
const CTX = new PteCheck();

/** release_pte_folio: the folio goes back to the LRU, unlocked, no longer counted as isolated (putbackLru drops NR_ISOLATED_*). */
export function releasePteFolio(k: Kernel, head: number): void {
  k.folios.clear(head, PG_locked);
  putbackLru(k, head);
}

/**
 * release_pte_pages: undo the isolation of the small folios mapped by PTEs
 * [index, end) of `pte`, and of every large folio on `compound`.
 */
export function releasePtePages(k: Kernel, pte: Uint32Array, index: number, end: number, compound: number[]): void {
  const b = k.backend;
  const f = k.folios;
  for (let i = end - 1; i >= index; i--) {
    b.readEntry(pte, i, PTE, R, 0);
    if (b.none(R, 0, PTE)) continue;
    const pfn = b.pfn(R, 0, PTE);
    if (pfn === k.zeroPfn) continue;
    const head = f.head(pfn);
    if (f.order(head) > 0) continue;
    releasePteFolio(k, head);
  }
  for (const head of compound) releasePteFolio(k, head);
  compound.length = 0;
}

/** pte_is_referenced: khugepaged only — a young PTE or a referenced folio (no page_idle or notifier young bits in the model). */
export function pteIsReferenced(k: Kernel, isKhugepaged: boolean, young: boolean, head: number): boolean {
  return isKhugepaged && (young || k.folios.test(head, PG_referenced));
}

/**
 * __collapse_huge_page_isolate over the 2^order PTEs from `index` of the
 * detached table `pte`: each PTE passes collapse_check_pte with the order's
 * none and shared limits and no non-present PTE; for an mTHP order a folio
 * of that order or larger means the window is already huge; each folio is
 * trylocked, must hold exactly its expected references, and is taken off
 * the LRU (large folios once, onto `compound`). khugepaged also needs one
 * referenced PTE in the window. On failure everything taken is put back.
 */
export function isolate(k: Kernel, c: LimitContext, vma: Vma, pte: Uint32Array, index: number, order: number, compound: number[]): number {
  const b = k.backend;
  const f = k.folios;
  const nr = 1 << order;
  const ctx = CTX;
  ctx.reset(c.isKhugepaged, order, c.pmdOrder, collapseMaxPtesNone(c, vma, order), 0, collapseMaxPtesShared(c, order), false, b.capabilities.uffdWp);
  let referenced = 0;
  let i = index;
  let result = SCAN.FAIL;
  compound.length = 0;
  for (; i < index + nr; i++) {
    b.getEntry(pte, i, PTE, R, 0);
    const check = collapseCheckPte(k, vma, R, ctx);
    if (check === PTE_CHECK_FAIL) {
      result = ctx.result;
      break;
    }
    if (check === PTE_CHECK_CONTINUE) continue;
    const head = ctx.folio;
    const large = f.order(head) > 0;
    if (order !== c.pmdOrder && f.order(head) >= order) {
      result = SCAN.PTE_MAPPED_HUGEPAGE;
      break;
    }
    if (!large || !compound.includes(head)) {
      // Trylock first: the folio lock is what serialises against a split.
      if (f.test(head, PG_locked)) {
        result = SCAN.PAGE_LOCK;
        break;
      }
      f.set(head, PG_locked);
      // The table is detached, so this process can take no new pin; any extra reference is someone else's.
      if (folioExpectedRefCount(k, head) !== f.refcount(head)) {
        f.clear(head, PG_locked);
        result = SCAN.PAGE_COUNT;
        break;
      }
      if (!k.lru.isolate(head)) {
        f.clear(head, PG_locked);
        result = SCAN.DEL_PAGE_LRU;
        break;
      }
      // Counted in NR_ISOLATED_ANON, and marked isolated as the core marks what reclaim holds off the LRU.
      f.set(head, PG_isolated);
      isolatedStat(k, head, 1);
      if (large) compound.push(head);
    }
    if (pteIsReferenced(k, c.isKhugepaged, b.young(R, 0, PTE), head)) referenced++;
  }
  if (i === index + nr) {
    if (!(c.isKhugepaged && referenced === 0)) return SCAN.SUCCEED;
    result = SCAN.LACK_REFERENCED_PAGE;
  }
  releasePtePages(k, pte, index, i, compound);
  return result;
}

export { pteNoneOrZero };
