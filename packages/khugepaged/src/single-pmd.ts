import { ModelBug, type Kernel, type Mm, type Vma } from "@hugemm/core";
import type { CollapseControl } from "./control";
import { collapseScanPmd, type ScanOut } from "./scan-pmd";
import { SCAN } from "./scan-result";

/** What a collapse context counts: every range's result, and for khugepaged the kernel's pages_collapsed. */
export interface RangeCounters {
  /** Per SCAN_* code (model-only counters). */
  readonly results: Float64Array;
  pagesCollapsed: number;
}

/**
 * collapse_single_pmd: try the PMD range at `addr` of `vma` (mmap_lock held
 * for read; `out.lockDropped` says whether it still is). The model maps no
 * file THPs, so no file or shmem VMA is ever eligible and only anonymous
 * ranges get here. A khugepaged success adds one to pages_collapsed,
 * whatever was collapsed inside the range.
 */
export function collapseSinglePmd(k: Kernel, mm: Mm, vma: Vma, addr: number, cc: CollapseControl, out: ScanOut, counters: RangeCounters): number {
  if (!vma.isAnonymous) throw new ModelBug(`collapse of VMA #${vma.id}, which is not anonymous: the model has no file THP to collapse into`);
  const record = cc.log === null ? null : { pid: mm.id, addr, result: SCAN.FAIL, attempts: [] };
  cc.current = record;
  const result = collapseScanPmd(k, mm, vma, addr, cc, out);
  cc.current = null;
  if (record !== null) {
    record.result = result;
    cc.log!.push(record);
  }
  counters.results[result]!++;
  if (cc.isKhugepaged && result === SCAN.SUCCEED) counters.pagesCollapsed++;
  return result;
}
