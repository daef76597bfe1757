import { ModelInputError, type Kernel } from "@hugemm/core";

/**
 * How khugepaged scales max_ptes_none to an mTHP order (the debate of the
 * mTHP collapse series, seed 001):
 * - "kernel": the rule since v18 — 511 (HPAGE_PMD_NR - 1) allows any
 *   window with one occupied PTE ((1 << order) - 1 none), 0 allows none, any
 *   other value is warned about once and used as 0;
 * - "linear": the earlier scaled rule, max_ptes_none >> (PMD order - order),
 *   under which a value above HPAGE_PMD_NR / 2 "creeps": each collapse fills
 *   enough of its window that the next scan collapses the next order up.
 */
export type MthpNoneRule = "kernel" | "linear";
const RULES: readonly MthpNoneRule[] = ["kernel", "linear"];

/** The knobs under /sys/kernel/mm/transparent_hugepage/khugepaged this package owns (max_ptes_none lives in the core's ThpSettings). */
export const KNOBS = ["pages_to_scan", "scan_sleep_millisecs", "alloc_sleep_millisecs", "max_ptes_none", "max_ptes_swap", "max_ptes_shared", "defrag", "pages_collapsed", "full_scans", "mthp_max_ptes_none_rule"] as const;

const UINT_MAX = 0xffffffff;

/**
 * /sys/kernel/mm/transparent_hugepage/khugepaged: the scanner's rate and
 * sleeps, the collapse limits and whether khugepaged may compact, with the
 * kernel's defaults (khugepaged_init) and its validation on store. The
 * limits scale with HPAGE_PMD_NR, so they differ per page-table geometry.
 */
export class KhugepagedSettings {
  /** HPAGE_PMD_NR. */
  readonly pmdNr: number;
  pagesToScan: number;
  scanSleepMillisecs = 10000;
  allocSleepMillisecs = 60000;
  maxPtesSwap: number;
  maxPtesShared: number;
  /** khugepaged/defrag: allocate with direct reclaim and compaction (GFP_TRANSHUGE) rather than GFP_TRANSHUGE_LIGHT. */
  defrag = true;
  /** Model-only: the mTHP max_ptes_none rule. */
  mthpNoneRule: MthpNoneRule = "kernel";
  /** Called after a sleep knob is stored: the kernel zeroes the sleep expiry and wakes the thread. */
  onSleepStore: () => void = () => {};

  constructor(private readonly k: Kernel) {
    this.pmdNr = k.thp.pmdOrder > 0 ? 2 ** k.thp.pmdOrder : 0;
    this.pagesToScan = this.pmdNr * 8;
    this.maxPtesSwap = this.pmdNr / 8;
    this.maxPtesShared = this.pmdNr / 2;
  }

  /** khugepaged/max_ptes_none (kept by the core, which the underused-THP shrinker reads too). */
  get maxPtesNone(): number {
    return this.k.thp.maxPtesNone;
  }

  /** KHUGEPAGED_MAX_PTES_LIMIT. */
  get limit(): number {
    return this.pmdNr - 1;
  }

  /**
   * Store a knob as sysfs does: the kernel's kstrtouint / kstrtoul parse
   * (decimal, an optional "+", one trailing newline), then its range check.
   * A refused value (the kernel's EINVAL) throws and leaves the knob as it was.
   */
  set(name: string, value: string): void {
    const field = `transparent_hugepage/khugepaged/${name}`;
    const num = (max: number, what: string): number => {
      const m = /^\+?(\d+)\n?$/.exec(value);
      const n = m === null ? NaN : Number(m[1]);
      if (!Number.isSafeInteger(n) || n > max) throw new ModelInputError(field, value, `${what} (the kernel refuses anything else with EINVAL)`);
      return n;
    };
    switch (name) {
      case "pages_to_scan": {
        const n = num(UINT_MAX, `an integer from 1 to ${UINT_MAX}`);
        if (n === 0) throw new ModelInputError(field, value, `an integer from 1 to ${UINT_MAX} (the kernel refuses 0 with EINVAL)`);
        this.pagesToScan = n;
        return;
      }
      case "scan_sleep_millisecs":
        this.scanSleepMillisecs = num(UINT_MAX, `milliseconds from 0 to ${UINT_MAX}`);
        this.onSleepStore();
        return;
      case "alloc_sleep_millisecs":
        this.allocSleepMillisecs = num(UINT_MAX, `milliseconds from 0 to ${UINT_MAX}`);
        this.onSleepStore();
        return;
      case "max_ptes_none":
        num(this.limit, `an integer from 0 to ${this.limit}`);
        this.k.thp.set("khugepaged/max_ptes_none", value.trim());
        return;
      case "max_ptes_swap":
        this.maxPtesSwap = num(this.limit, `an integer from 0 to ${this.limit}`);
        return;
      case "max_ptes_shared":
        this.maxPtesShared = num(this.limit, `an integer from 0 to ${this.limit}`);
        return;
      case "defrag":
        this.defrag = num(1, "0 or 1") === 1;
        return;
      case "mthp_max_ptes_none_rule":
        if (!(RULES as readonly string[]).includes(value.trim())) throw new ModelInputError(field, value, `one of ${RULES.join(", ")} (a model knob: the kernel's rule or the earlier linear one)`);
        this.mthpNoneRule = value.trim() as MthpNoneRule;
        return;
      case "pages_collapsed":
      case "full_scans":
        throw new ModelInputError(field, value, "a writable knob: pages_collapsed and full_scans are read-only counters");
    }
    throw new ModelInputError("khugepaged knob", name, `one of ${KNOBS.filter((n) => n !== "pages_collapsed" && n !== "full_scans").join(", ")}`);
  }

  /** The knobs as sysfs shows them (the two counters are added by the daemon). */
  show(): Record<string, string> {
    return {
      defrag: this.defrag ? "1" : "0",
      max_ptes_none: String(this.maxPtesNone),
      max_ptes_swap: String(this.maxPtesSwap),
      max_ptes_shared: String(this.maxPtesShared),
      pages_to_scan: String(this.pagesToScan),
      scan_sleep_millisecs: String(this.scanSleepMillisecs),
      alloc_sleep_millisecs: String(this.allocSleepMillisecs),
      mthp_max_ptes_none_rule: RULES.map((r) => (r === this.mthpNoneRule ? `[${r}]` : r)).join(" "),
    };
  }
}
