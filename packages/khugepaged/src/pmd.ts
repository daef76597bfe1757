import { PMD, entryRegs, softleafTypeOf, SoftleafType } from "@hugemm/arch";
import { MMF_DISABLE_THP, type Slot, TVA_FORCED_COLLAPSE, TVA_KHUGEPAGED, WALK_LEAF, WALK_NONE, WALK_OK, WALK_SOFTLEAF, thpVmaAllowableOrders, thpVmaSuitableOrder, type Kernel, type Mm, type Vma } from "@hugemm/core";
import { SCAN } from "./scan-result";

const R = entryRegs(1);

/** collapse_test_exit: the mm has no users left (it is exiting). */
export function collapseTestExit(mm: Mm): boolean {
  return mm.exited;
}

/** collapse_test_exit_or_disable: exiting, or THP disabled for the whole process (MMF_DISABLE_THP_COMPLETELY). */
export function collapseTestExitOrDisable(mm: Mm): boolean {
  return mm.exited || (mm.flags & MMF_DISABLE_THP) !== 0;
}

/**
 * find_pmd_or_thp_or_none + check_pmd_state: fill `slot` with the PMD entry
 * of `addr` and say whether it points to a PTE table (SUCCEED), is empty or
 * not a table (NO_PTE_TABLE), or maps a huge page or a PMD migration entry
 * (PMD_MAPPED). `ptePa` is the PTE table on success. A PUD leaf above (the
 * model's PUD THP) counts as mapped huge: there is no PMD to collapse.
 */
export function findPmd(k: Kernel, mm: Mm, addr: number, slot: Slot, out: { ptePa: number }): number {
  const b = k.backend;
  out.ptePa = -1;
  const st = mm.walker.find(addr, PMD, false, slot);
  if (st === WALK_NONE) return SCAN.NO_PTE_TABLE;
  if (st === WALK_LEAF || st === WALK_SOFTLEAF) return SCAN.PMD_MAPPED;
  if (st !== WALK_OK) return SCAN.NO_PTE_TABLE;
  b.readEntry(slot.table, slot.index, PMD, R, 0);
  if (b.none(R, 0, PMD)) return SCAN.NO_PTE_TABLE;
  if (!b.present(R, 0, PMD)) {
    // A migration entry means a huge page will be mapped again once migration ends.
    if (b.isSoftleaf(R, 0, PMD)) {
      const t = softleafTypeOf(b.swpType(R, 0, PMD));
      if (t === SoftleafType.MIGRATION_READ || t === SoftleafType.MIGRATION_READ_EXCLUSIVE || t === SoftleafType.MIGRATION_WRITE) return SCAN.PMD_MAPPED;
    }
    return SCAN.NO_PTE_TABLE;
  }
  if (b.transHuge(R, 0, PMD) || b.leaf(R, 0, PMD)) return SCAN.PMD_MAPPED;
  if (!b.table(R, 0, PMD)) return SCAN.NO_PTE_TABLE;
  out.ptePa = b.tablePa(R, 0, PMD);
  return SCAN.SUCCEED;
}

/** The orders khugepaged may collapse to (THP_ORDERS_ALL_ANON without PUD order: no 1 GiB collapse), or PMD order alone. */
export function collapsePossibleOrders(k: Kernel, mm: Mm, vma: Vma, vmFlags: number, khugepaged: boolean): number {
  const pmdOrder = k.thp.pmdOrder;
  if (pmdOrder <= 0) return 0;
  const all = khugepaged && vma.isAnonymous ? k.thp.anonOrders & ((2 << pmdOrder) - 1) : 1 << pmdOrder;
  return thpVmaAllowableOrders(k, mm, vma, vmFlags, khugepaged ? TVA_KHUGEPAGED : TVA_FORCED_COLLAPSE, all);
}

/**
 * hugepage_vma_revalidate after mmap_lock was dropped: the mm is alive and
 * allows THP, a VMA is there, it spans the whole PMD range (always, so no
 * second VMA can share the PTE table), it still allows `order`, and, when
 * anonymous memory is expected, it is anonymous with an anon_vma.
 */
export function revalidate(k: Kernel, mm: Mm, pmdAddr: number, expectAnon: boolean, khugepaged: boolean, order: number): { result: number; vma: Vma | undefined } {
  if (collapseTestExitOrDisable(mm)) return { result: SCAN.ANY_PROCESS, vma: undefined };
  const vma = mm.vmas.findVma(pmdAddr);
  if (vma === undefined) return { result: SCAN.VMA_NULL, vma };
  if (!thpVmaSuitableOrder(k, vma, pmdAddr, k.thp.pmdOrder)) return { result: SCAN.ADDRESS_RANGE, vma };
  if (thpVmaAllowableOrders(k, mm, vma, vma.flags, khugepaged ? TVA_KHUGEPAGED : TVA_FORCED_COLLAPSE, 1 << order) === 0) return { result: SCAN.VMA_CHECK, vma };
  if (expectAnon && (vma.anonVma === null || !vma.isAnonymous)) return { result: SCAN.PAGE_ANON, vma };
  return { result: SCAN.SUCCEED, vma };
}
