import type { Kernel } from "@hugemm/core";
import type { LimitContext } from "./limits";
import type { KhugepagedSettings } from "./settings";

/** One attempt of collapse_huge_page: where, at which order, and its result. */
export interface CollapseAttempt {
  readonly addr: number;
  readonly order: number;
  readonly result: number;
}

/** One PMD range tried (collapse_single_pmd): its result and the collapse_huge_page attempts inside it. */
export interface RangeRecord {
  readonly pid: number;
  readonly addr: number;
  result: number;
  readonly attempts: CollapseAttempt[];
}

/**
 * struct collapse_control: who collapses (khugepaged or MADV_COLLAPSE), the
 * scan progress in the pages_to_scan budget's units, the pages seen per
 * node, and the bitmap of occupied PTEs the mTHP walk reads (one byte per
 * PTE here: windows are summed, never tested bit by bit). Reused across
 * ranges and passes.
 */
export class CollapseControl implements LimitContext {
  progress = 0;
  readonly nodeLoad: Int32Array;
  readonly present: Uint8Array;
  readonly pmdOrder: number;
  /** Where the ranges tried go, when someone is listening (a scenario step, a test). */
  log: RangeRecord[] | null = null;
  /** The range being tried now, while `log` is on. */
  current: RangeRecord | null = null;

  constructor(
    k: Kernel,
    readonly isKhugepaged: boolean,
    readonly s: KhugepagedSettings,
  ) {
    this.pmdOrder = k.thp.pmdOrder;
    this.nodeLoad = new Int32Array(k.phys.nodes.length);
    this.present = new Uint8Array(Math.max(1, s.pmdNr));
  }

  /** collapse_control_init_scan. */
  initScan(): void {
    this.nodeLoad.fill(0);
    this.present.fill(0);
  }

  /** Occupied PTEs in [from, to) of the bitmap (bitmap_weight_from). */
  weight(from: number, to: number): number {
    const p = this.present;
    let n = 0;
    for (let i = from; i < to; i++) n += p[i]!;
    return n;
  }

  /** collapse_find_target_node: the first node with the most pages seen. */
  targetNode(): number {
    let best = 0;
    let max = 0;
    const l = this.nodeLoad;
    for (let nid = 0; nid < l.length; nid++) {
      if (l[nid]! > max) {
        max = l[nid]!;
        best = nid;
      }
    }
    return best;
  }

  /** Note one collapse_huge_page attempt of the current range. */
  attempt(addr: number, order: number, result: number): void {
    this.current?.attempts.push({ addr, order, result });
  }
}
