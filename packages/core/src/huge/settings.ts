import { PMD, PUD, type ArchBackend } from "@hugemm/arch";
import { ModelInputError } from "../util/errors";
import { formatSize } from "../util/size";

export type GlobalEnabled = "always" | "madvise" | "never";
export type AnonEnabled = "always" | "inherit" | "madvise" | "never";
export type Defrag = "always" | "defer" | "defer+madvise" | "madvise" | "never";
/**
 * How an anonymous PUD THP keeps the page tables its split will need
 * (the 2026 RFC's trade-off): "pre-deposit" reserves one PMD table and its
 * PTE tables at fault time, so a split never fails; "at-split" allocates
 * them when splitting, which costs nothing until then but may fail.
 */
export type PudDeposit = "pre-deposit" | "at-split";

const GLOBAL: readonly GlobalEnabled[] = ["always", "madvise", "never"];
const ANON: readonly AnonEnabled[] = ["always", "inherit", "madvise", "never"];
const DEFRAG: readonly Defrag[] = ["always", "defer", "defer+madvise", "madvise", "never"];
const PUD_DEPOSIT: readonly PudDeposit[] = ["pre-deposit", "at-split"];

/** Machines below this much RAM start with THP off (hugepage_init). */
const SMALL_MACHINE_BYTES = 512 * 2 ** 20;

/**
 * /sys/kernel/mm/transparent_hugepage as the kernel keeps it: the global
 * `enabled`, `defrag`, `use_zero_page` and `shrink_underused` knobs, and
 * per anonymous order the `hugepages-<size>kB/enabled` mode, plus
 * khugepaged's `max_ptes_none` (read by the underused-THP shrinker) and the
 * model's PUD deposit policy. Orders are kept as bitmasks, as the kernel's
 * huge_anon_orders_{always,inherit,madvise}.
 */
export class ThpSettings {
  enabled: GlobalEnabled;
  defrag: Defrag;
  useZeroPage: boolean;
  shrinkUnderused = true;
  /** khugepaged/max_ptes_none (HPAGE_PMD_NR - 1 by default). */
  maxPtesNone: number;
  pudDeposit: PudDeposit = "pre-deposit";
  ordersAlways = 0;
  ordersInherit = 0;
  ordersMadvise = 0;
  /** THP_ORDERS_ALL_ANON for this arch: orders 2..PMD_ORDER, plus PUD_ORDER where the arch has PUD THP. */
  readonly anonOrders: number;
  readonly pmdOrder: number;
  /** -1 when the arch has no PUD THP. */
  readonly pudOrder: number;
  private readonly pageSize: number;

  constructor(backend: ArchBackend, memoryBytes: number) {
    const g = backend.geometry;
    this.pageSize = g.pageSize;
    const caps = backend.capabilities;
    this.pmdOrder = caps.pmdThp ? g.levels[PMD]!.shift - g.pageShift : -1;
    this.pudOrder = caps.pmdThp && caps.pudThp ? g.levels[PUD]!.shift - g.pageShift : -1;
    let anon = 0;
    if (this.pmdOrder > 0) for (let o = 2; o <= this.pmdOrder; o++) anon |= 1 << o;
    if (this.pudOrder > 0) anon |= 1 << this.pudOrder;
    this.anonOrders = anon;
    this.maxPtesNone = this.pmdOrder > 0 ? 2 ** this.pmdOrder - 1 : 0;
    // CONFIG_TRANSPARENT_HUGEPAGE_ALWAYS, the kernel's default; PMD order inherits, PUD THP is opt-in.
    if (this.pmdOrder > 0) this.ordersInherit = 1 << this.pmdOrder;
    const small = memoryBytes < SMALL_MACHINE_BYTES || this.pmdOrder < 0;
    this.enabled = small ? "never" : "always";
    this.defrag = small ? "never" : "madvise";
    this.useZeroPage = !small;
  }

  /** hugepage_global_enabled: "always" or "madvise". */
  get globalEnabled(): boolean {
    return this.enabled !== "never";
  }

  /** The per-size mode of an anonymous order. */
  anonMode(order: number): AnonEnabled {
    const bit = 1 << order;
    if (this.ordersAlways & bit) return "always";
    if (this.ordersInherit & bit) return "inherit";
    if (this.ordersMadvise & bit) return "madvise";
    return "never";
  }

  setAnonMode(order: number, mode: AnonEnabled): void {
    if (order < 0 || order > 30 || (this.anonOrders & (1 << order)) === 0) {
      throw new ModelInputError("THP size", formatSize(this.pageSize * 2 ** order), `one of ${this.sizeNames().join(", ")}`);
    }
    const bit = 1 << order;
    this.ordersAlways &= ~bit;
    this.ordersInherit &= ~bit;
    this.ordersMadvise &= ~bit;
    if (mode === "always") this.ordersAlways |= bit;
    else if (mode === "inherit") this.ordersInherit |= bit;
    else if (mode === "madvise") this.ordersMadvise |= bit;
  }

  /** The anonymous orders a VMA with `hugepage` (VM_HUGEPAGE) may use under the sysfs modes. */
  enabledOrders(hugepage: boolean): number {
    let mask = this.ordersAlways;
    if (hugepage) mask |= this.ordersMadvise;
    if (this.enabled === "always" || (hugepage && this.globalEnabled)) mask |= this.ordersInherit;
    return mask;
  }

  /** The sysfs directory names of the anonymous sizes ("hugepages-64kB", ...). */
  sizeNames(): string[] {
    const out: string[] = [];
    for (let o = 0; o <= 30; o++) if (this.anonOrders & (1 << o)) out.push(this.dirName(o));
    return out;
  }

  dirName(order: number): string {
    return `hugepages-${(this.pageSize * 2 ** order) / 1024}kB`;
  }

  /** The order a `hugepages-<size>kB` directory names, or -1. */
  orderOfDir(dir: string): number {
    const m = /^hugepages-(\d+)kB$/.exec(dir);
    if (m === null) return -1;
    const pages = (Number(m[1]) * 1024) / this.pageSize;
    const o = Math.log2(pages);
    return Number.isInteger(o) && (this.anonOrders & (1 << o)) !== 0 ? o : -1;
  }

  /**
   * Write a knob by its path under /sys/kernel/mm/transparent_hugepage
   * ("enabled", "defrag", "use_zero_page", "shrink_underused",
   * "khugepaged/max_ptes_none", "hugepages-2048kB/enabled") or the model's
   * "pud_deposit". Bad names and values are refused with what was expected.
   */
  set(path: string, value: string): void {
    this.checkBuilt(path, value);
    const v = value.trim();
    const pick = <T extends string>(choices: readonly T[]): T => {
      if (!(choices as readonly string[]).includes(v)) throw new ModelInputError(`transparent_hugepage/${path}`, value, `one of ${choices.join(", ")}`);
      return v as T;
    };
    const bool = (): boolean => {
      if (v !== "0" && v !== "1") throw new ModelInputError(`transparent_hugepage/${path}`, value, "0 or 1");
      return v === "1";
    };
    switch (path) {
      case "enabled":
        this.enabled = pick(GLOBAL);
        return;
      case "defrag":
        this.defrag = pick(DEFRAG);
        return;
      case "use_zero_page":
        this.useZeroPage = bool();
        return;
      case "shrink_underused":
        this.shrinkUnderused = bool();
        return;
      case "pud_deposit":
        this.pudDeposit = pick(PUD_DEPOSIT);
        return;
      case "khugepaged/max_ptes_none": {
        const n = Number(v);
        const max = this.pmdOrder > 0 ? 2 ** this.pmdOrder - 1 : 0;
        if (!/^\d+$/.test(v) || n > max) throw new ModelInputError(`transparent_hugepage/${path}`, value, `an integer from 0 to ${max}`);
        this.maxPtesNone = n;
        return;
      }
    }
    const m = /^(hugepages-\d+kB)\/enabled$/.exec(path);
    if (m !== null) {
      const order = this.orderOfDir(m[1]!);
      if (order < 0) throw new ModelInputError("transparent_hugepage directory", m[1]!, `one of ${this.sizeNames().join(", ")}`);
      this.setAnonMode(order, pick(ANON));
      return;
    }
    throw new ModelInputError(
      "transparent_hugepage knob",
      path,
      `enabled, defrag, use_zero_page, shrink_underused, khugepaged/max_ptes_none, pud_deposit or hugepages-<size>kB/enabled (${this.sizeNames().join(", ")})`,
    );
  }

  /** A kernel without THP (8xx) has no /sys/kernel/mm/transparent_hugepage at all. */
  private checkBuilt(path: string, value: string): void {
    if (this.anonOrders === 0) throw new ModelInputError(`transparent_hugepage/${path}`, value, "an arch with transparent hugepages (this one has no /sys/kernel/mm/transparent_hugepage)");
  }

  /** Read a knob as sysfs shows it ("always [madvise] never"). */
  get(path: string): string {
    this.checkBuilt(path, "");
    const show = <T extends string>(choices: readonly T[], cur: T): string => choices.map((c) => (c === cur ? `[${c}]` : c)).join(" ");
    switch (path) {
      case "enabled":
        return show(GLOBAL, this.enabled);
      case "defrag":
        return show(DEFRAG, this.defrag);
      case "use_zero_page":
        return this.useZeroPage ? "1" : "0";
      case "shrink_underused":
        return this.shrinkUnderused ? "1" : "0";
      case "pud_deposit":
        return show(PUD_DEPOSIT, this.pudDeposit);
      case "khugepaged/max_ptes_none":
        return String(this.maxPtesNone);
      case "hpage_pmd_size":
        return String(this.pmdOrder > 0 ? this.pageSize * 2 ** this.pmdOrder : 0);
    }
    const m = /^(hugepages-\d+kB)\/enabled$/.exec(path);
    if (m !== null) {
      const order = this.orderOfDir(m[1]!);
      if (order < 0) throw new ModelInputError("transparent_hugepage directory", m[1]!, `one of ${this.sizeNames().join(", ")}`);
      return show(ANON, this.anonMode(order));
    }
    throw new ModelInputError("transparent_hugepage knob", path, "enabled, defrag, use_zero_page, shrink_underused, hpage_pmd_size, khugepaged/max_ptes_none, pud_deposit or hugepages-<size>kB/enabled");
  }
}
