import { lruAddDrain, type Errno, type Kernel, type Mm, type Vma } from "@hugemm/core";
import type { CollapseControl } from "./control";
import { collapsePossibleOrders, revalidate } from "./pmd";
import type { ScanOut } from "./scan-pmd";
import { SCAN, madviseCollapseErrno } from "./scan-result";
import { collapseSinglePmd, type RangeCounters } from "./single-pmd";

const OUT: ScanOut = { lockDropped: false };

/**
 * madvise_collapse for the part [start, end) of `vma`, called by madvise
 * with mmap_lock held for read and returning with it held. Forced collapse
 * ignores the sysfs THP modes, max_ptes_* and the referenced rule but still
 * honours VM_NOHUGEPAGE, the process's THP switch and VM_NO_KHUGEPAGED
 * VMAs; it collapses to PMD order only. The range is rounded inward to
 * whole PMDs (nothing left: success). A range already PMD-mapped counts as
 * done; some failures let the walk go on, any other stops it. Returns 0 if
 * every PMD range is now huge, else the errno of the last failure.
 */
export function madviseCollapse(k: Kernel, mm: Mm, vmaIn: Vma, start: number, end: number, cc: CollapseControl, counters: RangeCounters): 0 | Errno {
  let vma = vmaIn;
  if (collapsePossibleOrders(k, mm, vma, vma.flags, false) === 0) return "EINVAL";
  // lru_add_drain_all: folios waiting in a per-CPU batch hold a reference that would fail the collapse.
  lruAddDrain(k);
  const pmdSpan = k.pageSize * 2 ** k.thp.pmdOrder;
  const hstart = Math.ceil(start / pmdSpan) * pmdSpan;
  let hend = Math.floor(end / pmdSpan) * pmdSpan;
  // The kernel compares the collapsed count with (hend - hstart) >> HPAGE_PMD_SHIFT in unsigned
  // arithmetic: an empty aligned range succeeds, one inside a single PMD wraps and fails with EINVAL.
  if (hstart === hend) return 0;
  if (hstart > hend) return madviseCollapseErrno(SCAN.FAIL);
  cc.progress = 0;
  let lastFail = SCAN.FAIL;
  let thps = 0;
  let unlocked = false;
  for (let addr = hstart; addr < hend; addr += pmdSpan) {
    if (unlocked) {
      k.locks.acquire(mm.mmapLock, true);
      unlocked = false;
      const rv = revalidate(k, mm, addr, false, false, k.thp.pmdOrder);
      if (rv.result !== SCAN.SUCCEED) {
        lastFail = rv.result;
        return thps === (hend - hstart) / pmdSpan ? 0 : madviseCollapseErrno(lastFail);
      }
      vma = rv.vma!;
      hend = Math.min(hend, Math.floor(vma.end / pmdSpan) * pmdSpan);
    }
    OUT.lockDropped = false;
    const result = collapseSinglePmd(k, mm, vma, addr, cc, OUT, counters);
    unlocked = OUT.lockDropped;
    if (result === SCAN.SUCCEED || result === SCAN.PMD_MAPPED) {
      thps++;
      continue;
    }
    lastFail = result;
    if (!CONTINUE_ON.has(result)) break;
  }
  if (unlocked) k.locks.acquire(mm.mmapLock, true);
  return thps === (hend - hstart) / pmdSpan ? 0 : madviseCollapseErrno(lastFail);
}

/** Results after which MADV_COLLAPSE still tries the next PMD range. */
const CONTINUE_ON = new Set<number>([
  SCAN.NO_PTE_TABLE,
  SCAN.PTE_NON_PRESENT,
  SCAN.PTE_UFFD,
  SCAN.LACK_REFERENCED_PAGE,
  SCAN.PAGE_NULL,
  SCAN.PAGE_COUNT,
  SCAN.PAGE_LOCK,
  SCAN.PAGE_COMPOUND,
  SCAN.PAGE_LRU,
  SCAN.DEL_PAGE_LRU,
]);
