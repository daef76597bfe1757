import type { Errno } from "@hugemm/core";

/**
 * enum scan_result of mm/khugepaged.c (the mm tree with the mTHP collapse
 * series), in the kernel's order: SCAN.<NAME> is the code's position.
 */
export const SCAN_CODES = [
  "FAIL",
  "SUCCEED",
  "NO_PTE_TABLE",
  "PMD_MAPPED",
  "EXCEED_NONE_PTE",
  "EXCEED_SWAP_PTE",
  "EXCEED_SHARED_PTE",
  "PTE_NON_PRESENT",
  "PTE_UFFD",
  "PTE_MAPPED_HUGEPAGE",
  "LACK_REFERENCED_PAGE",
  "PAGE_NULL",
  "SCAN_ABORT",
  "PAGE_COUNT",
  "PAGE_LRU",
  "PAGE_LOCK",
  "PAGE_ANON",
  "PAGE_LAZYFREE",
  "PAGE_COMPOUND",
  "ANY_PROCESS",
  "VMA_NULL",
  "VMA_CHECK",
  "ADDRESS_RANGE",
  "DEL_PAGE_LRU",
  "ALLOC_HUGE_PAGE_FAIL",
  "CGROUP_CHARGE_FAIL",
  "TRUNCATED",
  "PAGE_HAS_PRIVATE",
  "STORE_FAILED",
  "COPY_MC",
  "PAGE_FILLED",
  "PAGE_DIRTY_OR_WRITEBACK",
] as const;
export type ScanCodeName = (typeof SCAN_CODES)[number];
export type ScanResult = number;

export const SCAN = Object.fromEntries(SCAN_CODES.map((n, i) => [n, i])) as { readonly [K in ScanCodeName]: number };

/** The strings the mm_khugepaged_* trace events print for each code (include/trace/events/huge_memory.h). */
const TRACE: Readonly<Partial<Record<ScanCodeName, string>>> = {
  FAIL: "failed",
  SUCCEED: "succeeded",
  NO_PTE_TABLE: "no_pte_table",
  PMD_MAPPED: "page_pmd_mapped",
  EXCEED_NONE_PTE: "exceed_none_pte",
  EXCEED_SWAP_PTE: "exceed_swap_pte",
  EXCEED_SHARED_PTE: "exceed_shared_pte",
  PTE_NON_PRESENT: "pte_non_present",
  PTE_UFFD: "pte_uffd",
  PTE_MAPPED_HUGEPAGE: "pte_mapped_hugepage",
  LACK_REFERENCED_PAGE: "lack_referenced_page",
  PAGE_NULL: "page_null",
  SCAN_ABORT: "scan_aborted",
  PAGE_COUNT: "not_suitable_page_count",
  PAGE_LRU: "page_not_in_lru",
  PAGE_LOCK: "page_locked",
  PAGE_ANON: "page_not_anon",
  PAGE_LAZYFREE: "page_lazyfree",
  PAGE_COMPOUND: "page_compound",
  ANY_PROCESS: "no_process_for_page",
  VMA_NULL: "vma_null",
  VMA_CHECK: "vma_check_failed",
  ADDRESS_RANGE: "not_suitable_address_range",
  DEL_PAGE_LRU: "could_not_delete_page_from_lru",
  ALLOC_HUGE_PAGE_FAIL: "alloc_huge_page_failed",
  CGROUP_CHARGE_FAIL: "ccgroup_charge_failed",
  TRUNCATED: "truncated",
  PAGE_HAS_PRIVATE: "page_has_private",
  STORE_FAILED: "store_failed",
  COPY_MC: "copy_poisoned_page",
  PAGE_FILLED: "page_filled",
  PAGE_DIRTY_OR_WRITEBACK: "page_dirty_or_writeback",
};

/** The model's name of a result, as its counters use it: the enum name in lower case ("exceed_none_pte"). */
export function scanName(r: ScanResult): string {
  const n = SCAN_CODES[r];
  if (n === undefined) throw new RangeError(`no SCAN_* code ${r}`);
  return n.toLowerCase();
}

/** The kernel's trace string of a result ("page_pmd_mapped"). */
export function scanTrace(r: ScanResult): string {
  const n = SCAN_CODES[r];
  if (n === undefined) throw new RangeError(`no SCAN_* code ${r}`);
  return TRACE[n] ?? n.toLowerCase();
}

/**
 * madvise_collapse_errno: the errno MADV_COLLAPSE returns for the last
 * failed range, chosen so the caller can tell "retry" from "give up".
 */
export function madviseCollapseErrno(r: ScanResult): Errno {
  switch (r) {
    case SCAN.ALLOC_HUGE_PAGE_FAIL:
      return "ENOMEM";
    case SCAN.CGROUP_CHARGE_FAIL:
    case SCAN.EXCEED_NONE_PTE:
      return "EBUSY";
    case SCAN.PAGE_COUNT:
    case SCAN.PAGE_LOCK:
    case SCAN.PAGE_LRU:
    case SCAN.DEL_PAGE_LRU:
    case SCAN.PAGE_FILLED:
    case SCAN.PAGE_HAS_PRIVATE:
    case SCAN.PAGE_DIRTY_OR_WRITEBACK:
      return "EAGAIN";
    default:
      return "EINVAL";
  }
}
