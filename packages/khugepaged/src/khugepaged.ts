import { MMF_VM_HUGEPAGE, NS, type Errno, type Kernel, type KernelFeature, type Mm, type Vma, type ViolationReport } from "@hugemm/core";
import { CollapseControl, type RangeRecord } from "./control";
import { hasWork, hugepageEnabled, khugepagedDoScan, khugepagedWaitWork, type DaemonState } from "./daemon";
import { madviseCollapse } from "./madvise-collapse";
import { MmSlots } from "./mm-slots";
import { collapsePossibleOrders } from "./pmd";
import { SCAN_CODES } from "./scan-result";
import { KhugepagedSettings } from "./settings";
import type { RangeCounters } from "./single-pmd";

/** What one call of `run` did. */
export interface RunReport {
  /** Rounds of khugepaged_do_scan. */
  readonly rounds: number;
  /** Full passes over the mm list completed (full_scans gained). */
  readonly passes: number;
  /** PMD ranges collapsed (pages_collapsed gained). */
  readonly collapsed: number;
  /** Every PMD range tried, in order. */
  readonly ranges: readonly RangeRecord[];
  /** Why it stopped early: the thread is not running, or has no mm to scan. */
  readonly idle?: "stopped" | "no-mm";
}

/** How long to run the daemon: rounds, full passes, or passes until one collapses nothing. */
export type RunFor = { readonly scans: number } | { readonly passes: number } | { readonly untilIdle: true };

/** A run that goes on this long without finishing its passes is a model bug, not a workload. */
const MAX_ROUNDS = 10_000_000;

/**
 * khugepaged on one kernel: its settings, the mm_slot list, the daemon in
 * simulated time, and MADV_COLLAPSE. Installed with `installKhugepaged(k)`,
 * it registers mms where the kernel calls khugepaged_enter_vma (the core's
 * onVmaChanged hook), at fork and exit, and provides the madvise collapse
 * hook. The thread runs while hugepage_enabled() holds; it is started and
 * stopped as the THP settings change, checked when it is next asked to run
 * (stopping resets the cursor, as kthread_stop does).
 */
export class Khugepaged implements KernelFeature, DaemonState {
  readonly name = "khugepaged";
  readonly s: KhugepagedSettings;
  readonly slots = new MmSlots();
  readonly cc: CollapseControl;
  /** khugepaged's own ranges by result (model-only counters). */
  readonly results = new Float64Array(SCAN_CODES.length);
  pagesCollapsed = 0;
  fullScans = 0;
  clockMs = 0;
  rounds = 0;
  progressTotal = 0;
  allocSleeps = 0;
  /** The thread exists (start_stop_khugepaged). */
  running = false;
  /** MADV_COLLAPSE's collapse control and counters (ranges by result; it adds nothing to pages_collapsed). */
  readonly madv: { readonly cc: CollapseControl; readonly counters: RangeCounters };
  /** Where MADV_COLLAPSE records the ranges it tries, when someone reads them (null: not recorded). */
  madvLog: RangeRecord[] | null = null;

  constructor(readonly k: Kernel) {
    this.s = new KhugepagedSettings(k);
    this.cc = new CollapseControl(k, true, this.s);
    this.madv = { cc: new CollapseControl(k, false, this.s), counters: { results: new Float64Array(SCAN_CODES.length), pagesCollapsed: 0 } };
    this.running = hugepageEnabled(k);
  }

  /** start_stop_khugepaged: follow hugepage_enabled(); a stopped thread lets go of its cursor. */
  startStop(): void {
    const on = hugepageEnabled(this.k);
    if (on === this.running) return;
    this.running = on;
    if (!on) {
      const cur = this.slots.cursor;
      this.slots.cursor = null;
      if (cur !== null) this.slots.collect(cur);
    }
  }

  /** khugepaged_enter_vma: register the mm if the VMA could be collapsed by khugepaged now. */
  enterVma(mm: Mm, vma: Vma, vmFlags = vma.flags): void {
    if (mm.flags & MMF_VM_HUGEPAGE) return;
    if (!hugepageEnabled(this.k)) return;
    if (collapsePossibleOrders(this.k, mm, vma, vmFlags, true) === 0) return;
    this.slots.enter(mm);
  }

  onVmaChanged(_k: Kernel, mm: Mm, vma: Vma, vmFlags = vma.flags): void {
    this.enterVma(mm, vma, vmFlags);
  }

  /** khugepaged_fork: the child of a registered mm is registered too. */
  onFork(_k: Kernel, parent: Mm, child: Mm): void {
    if (parent.flags & MMF_VM_HUGEPAGE) this.slots.enter(child);
  }

  /** khugepaged_exit. */
  onExit(_k: Kernel, mm: Mm): void {
    if (mm.flags & MMF_VM_HUGEPAGE) this.slots.exit(mm);
  }

  /** MADV_COLLAPSE on [start, end) of `vma` (the core's madvise hook); the ranges tried go to `madvLog` if it is set. */
  collapse(mm: Mm, vma: Vma, start: number, end: number): 0 | Errno {
    const m = this.madv;
    m.cc.log = this.madvLog;
    try {
      return madviseCollapse(this.k, mm, vma, start, end, m.cc, m.counters);
    } finally {
      m.cc.log = null;
    }
  }

  /**
   * Run the thread: `scans` rounds (khugepaged_do_scan, then the sleep of
   * khugepaged_wait_work), `passes` full passes over the mm list, or passes
   * until one collapses nothing. Runs as one operation of the kernel (the
   * checker runs after it). A thread with nothing to scan stops at once.
   */
  run(what: RunFor, log = false): RunReport {
    return this.k.op("khugepaged", () => {
      this.startStop();
      const ranges: RangeRecord[] = [];
      this.cc.log = log ? ranges : null;
      const rounds0 = this.rounds;
      const full0 = this.fullScans;
      const coll0 = this.pagesCollapsed;
      let idle: "stopped" | "no-mm" | undefined;
      try {
        const round = (): boolean => {
          if (!this.running) {
            idle = "stopped";
            return false;
          }
          if (!hasWork(this)) {
            idle = "no-mm";
            return false;
          }
          if (this.rounds - rounds0 >= MAX_ROUNDS) throw new RangeError(`khugepaged ran ${MAX_ROUNDS} rounds without finishing`);
          khugepagedDoScan(this);
          khugepagedWaitWork(this);
          return true;
        };
        if ("scans" in what) {
          for (let i = 0; i < what.scans && round(); i++);
        } else if ("passes" in what) {
          while (this.fullScans - full0 < what.passes && round());
        } else {
          // Until a whole pass (from one wrap of the cursor to the next) collapses nothing.
          while (this.slots.cursor !== null && round());
          for (;;) {
            const before = this.pagesCollapsed;
            const full = this.fullScans;
            while (this.fullScans === full && round());
            if (this.fullScans === full || this.pagesCollapsed === before) break;
          }
        }
      } finally {
        this.cc.log = null;
      }
      return { rounds: this.rounds - rounds0, passes: this.fullScans - full0, collapsed: this.pagesCollapsed - coll0, ranges, ...(idle === undefined ? {} : { idle }) };
    });
  }

  /** The khugepaged directory of the THP sysfs view (max_ptes_none is the core's, shown with its own knobs; the model's mTHP rule knob is not a kernel file). */
  thpSysfs(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [n, v] of Object.entries(this.s.show())) if (n !== "max_ptes_none" && n !== "mthp_max_ptes_none_rule") out[`khugepaged/${n}`] = v;
    out["khugepaged/pages_collapsed"] = String(this.pagesCollapsed);
    out["khugepaged/full_scans"] = String(this.fullScans);
    return out;
  }

  /** Every counter by name: the kernel's (pages_collapsed, full_scans) and the model's. */
  counters(): Record<string, number> {
    const out: Record<string, number> = {
      pages_collapsed: this.pagesCollapsed,
      full_scans: this.fullScans,
      "model.rounds": this.rounds,
      "model.progress": this.progressTotal,
      "model.clock_ms": this.clockMs,
      "model.alloc_sleeps": this.allocSleeps,
      "model.mm_slots": this.slots.list.length,
    };
    SCAN_CODES.forEach((c, i) => {
      const n = c.toLowerCase();
      out[`model.result.${n}`] = this.results[i]!;
      out[`model.madv_collapse.${n}`] = this.madv.counters.results[i]!;
    });
    return out;
  }

  /** The feature's invariants: slots and MMF_VM_HUGEPAGE agree, and only the cursor's slot may outlive its mm. */
  check(k: Kernel, _op: string, report: ViolationReport): void {
    const seen = new Set<number>();
    for (const mm of this.slots.list) {
      if (seen.has(mm.id)) report("mm-slot", `mm ${mm.id} has two mm_slots`, { mm: mm.id });
      seen.add(mm.id);
      if ((mm.flags & MMF_VM_HUGEPAGE) === 0) report("mm-slot", `mm ${mm.id} has an mm_slot but no MMF_VM_HUGEPAGE`, { mm: mm.id });
      if (mm.exited && this.slots.cursor !== mm) report("mm-slot", `exited mm ${mm.id} still has an mm_slot that is not the cursor's`, { mm: mm.id });
    }
    for (const mm of k.processes()) {
      if (mm.flags & MMF_VM_HUGEPAGE && !seen.has(mm.id)) report("mm-slot", `mm ${mm.id} has MMF_VM_HUGEPAGE but no mm_slot`, { mm: mm.id });
    }
    if (this.slots.cursor !== null && !seen.has(this.slots.cursor.id)) report("mm-slot", `the scan cursor points at mm ${this.slots.cursor.id}, which has no mm_slot`);
    // What a collapse isolates it puts back: the isolated counts never go below zero.
    for (const n of k.phys.nodes) {
      const st = k.phys.nodeStats(n.nid);
      if (st[NS.nr_isolated_anon]! < 0 || st[NS.nr_isolated_file]! < 0) report("isolated", `node ${n.nid} counts ${st[NS.nr_isolated_anon]} isolated anon and ${st[NS.nr_isolated_file]} isolated file pages`);
    }
  }
}

/** Install khugepaged and MADV_COLLAPSE on a kernel. */
export function installKhugepaged(k: Kernel): Khugepaged {
  const kh = k.use(new Khugepaged(k));
  const prev = k.madviseOps;
  k.madviseOps = { ...prev, collapse: (_k, mm, vma, start, end) => kh.collapse(mm, vma, start, end) };
  return kh;
}

/** The khugepaged installed on `k`, if any. */
export function khugepagedOf(k: Kernel): Khugepaged | undefined {
  return k.feature<Khugepaged>("khugepaged");
}
