import { lruAddDrain, type Kernel, type Mm, type Vma } from "@hugemm/core";
import type { CollapseControl } from "./control";
import type { MmSlots } from "./mm-slots";
import { collapsePossibleOrders, collapseTestExitOrDisable } from "./pmd";
import type { ScanOut } from "./scan-pmd";
import { SCAN } from "./scan-result";
import type { KhugepagedSettings } from "./settings";
import { collapseSinglePmd, type RangeCounters } from "./single-pmd";

/** What the daemon works on: the kernel, the settings, the slots, its collapse control and counters, and simulated time. */
export interface DaemonState extends RangeCounters {
  readonly k: Kernel;
  readonly s: KhugepagedSettings;
  readonly slots: MmSlots;
  readonly cc: CollapseControl;
  fullScans: number;
  /** Simulated time (ms) spent sleeping: scan_sleep_millisecs between rounds, alloc_sleep_millisecs after an allocation failure. */
  clockMs: number;
  /** Rounds of khugepaged_do_scan run. */
  rounds: number;
  /** Sum of every round's progress (PTEs and other work items scanned). */
  progressTotal: number;
  /** Allocation-failure back-offs taken. */
  allocSleeps: number;
}

/**
 * hugepage_enabled: khugepaged runs while THP is on globally, any
 * anonymous size is on (always, madvise, or inherit with THP on), or shmem
 * PMD THP is (the model has no shmem THP).
 */
export function hugepageEnabled(k: Kernel): boolean {
  const s = k.thp;
  if (s.pmdOrder <= 0) return false;
  if (s.globalEnabled) return true;
  return s.ordersAlways !== 0 || s.ordersMadvise !== 0;
}

/** khugepaged_has_work. */
export function hasWork(d: DaemonState): boolean {
  return d.slots.list.length > 0 && hugepageEnabled(d.k);
}

/** mmap_read_trylock: khugepaged never waits for an mm's lock; it moves on. */
function mmapReadTrylock(k: Kernel, mm: Mm): boolean {
  if (mm.mmapLock.holders < 0) return false;
  k.locks.acquire(mm.mmapLock, true);
  return true;
}

const OUT: ScanOut = { lockDropped: false };

/** Where one mm's scan stopped: with VMAs left to scan (the cursor stays), and whether mmap_lock is still held. */
interface MmScan {
  result: number;
  vmaLeft: boolean;
  locked: boolean;
}
const MS_: MmScan = { result: SCAN.FAIL, vmaLeft: false, locked: false };

/** The VMA loop of collapse_scan_mm_slot, under mmap_lock for read. */
function scanVmas(d: DaemonState, mm: Mm, progressMax: number, st: MmScan): void {
  const { k, slots, cc } = d;
  const pmdSpan = k.pageSize * 2 ** k.thp.pmdOrder;
  st.locked = true;
  st.vmaLeft = false;
  if (collapseTestExitOrDisable(mm)) return;
  for (let vma: Vma | undefined = mm.vmas.findVma(slots.address); vma !== undefined; vma = mm.vmas.findVma(vma.end)) {
    st.vmaLeft = true;
    if (collapseTestExitOrDisable(mm)) {
      cc.progress++;
      return;
    }
    if (collapsePossibleOrders(k, mm, vma, vma.flags, true) === 0) {
      cc.progress++;
      continue;
    }
    const hstart = Math.ceil(vma.start / pmdSpan) * pmdSpan;
    const hend = Math.floor(vma.end / pmdSpan) * pmdSpan;
    if (slots.address > hend) {
      cc.progress++;
      continue;
    }
    if (slots.address < hstart) slots.address = hstart;
    while (slots.address < hend) {
      if (collapseTestExitOrDisable(mm)) return;
      OUT.lockDropped = false;
      st.result = collapseSinglePmd(k, mm, vma, slots.address, cc, OUT, d);
      slots.address += pmdSpan;
      if (OUT.lockDropped) {
        st.locked = false;
        return;
      }
      if (cc.progress >= progressMax) return;
    }
  }
  st.vmaLeft = false;
}

/**
 * collapse_scan_mm_slot: scan the cursor's mm from the saved address until
 * the budget is spent or mmap_lock was let go (every anonymous collapse
 * attempt lets it go; the next round resumes at the next range). One
 * progress unit for the mm, one per VMA skipped; an mm whose VMAs are all
 * done (or that is exiting, or whose lock was busy, which loses its place)
 * hands the cursor on, and wrapping past the last mm completes a full scan.
 */
export function collapseScanMmSlot(d: DaemonState, progressMax: number): number {
  const { k, slots, cc } = d;
  if (slots.cursor === null) {
    slots.cursor = slots.list[0]!;
    slots.address = 0;
  }
  const mm = slots.cursor;
  const st = MS_;
  st.result = SCAN.FAIL;
  st.vmaLeft = false;
  if (mmapReadTrylock(k, mm)) {
    cc.progress++;
    scanVmas(d, mm, progressMax, st);
    if (st.locked) k.locks.release(mm.mmapLock);
  }
  if (st.vmaLeft && !collapseTestExitOrDisable(mm)) return st.result;
  const next = slots.next(mm);
  if (next !== null) {
    slots.cursor = next;
    slots.address = 0;
  } else {
    slots.cursor = null;
    d.fullScans++;
  }
  slots.collect(mm);
  return st.result;
}

/**
 * khugepaged_do_scan: one round of up to pages_to_scan progress units,
 * going round the mm list at most once more than it started (the second
 * time the cursor passes the head ends the round). The first allocation
 * failure sleeps alloc_sleep_millisecs; a second ends the round.
 */
export function khugepagedDoScan(d: DaemonState): void {
  const cc = d.cc;
  const progressMax = d.s.pagesToScan;
  let passThroughHead = 0;
  let wait = true;
  let result = SCAN.SUCCEED;
  cc.progress = 0;
  d.rounds++;
  // lru_add_drain_all, as each round starts: a batched folio's extra reference would fail its collapse.
  lruAddDrain(d.k);
  for (;;) {
    if (d.slots.cursor === null) passThroughHead++;
    if (hasWork(d) && passThroughHead < 2) {
      const before = cc.progress;
      result = collapseScanMmSlot(d, progressMax);
      d.progressTotal += cc.progress - before;
    } else cc.progress = progressMax;
    if (cc.progress >= progressMax) break;
    if (result === SCAN.ALLOC_HUGE_PAGE_FAIL) {
      if (!wait) break;
      wait = false;
      d.clockMs += d.s.allocSleepMillisecs;
      d.allocSleeps++;
    }
  }
}

/**
 * khugepaged_wait_work: with work, sleep scan_sleep_millisecs (0: none);
 * without, wait until an mm registers. Returns whether the thread would go
 * on at once (false: it waits for an mm that only a later operation adds).
 */
export function khugepagedWaitWork(d: DaemonState): boolean {
  if (hasWork(d)) {
    d.clockMs += d.s.scanSleepMillisecs;
    return true;
  }
  return false;
}
