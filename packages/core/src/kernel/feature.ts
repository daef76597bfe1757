import type { Violation } from "../check/invariants";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import type { Kernel } from "./kernel";

/** How a feature's checker reports one broken invariant (the core adds the operation's name). */
export type ViolationReport = (check: string, message: string, extra?: Partial<Omit<Violation, "op" | "check" | "message">>) => void;

/**
 * A feature package plugged into one kernel: khugepaged, hugetlb, device
 * memory. The core calls each hook at the point where the kernel calls the
 * feature's own code (khugepaged_fork at fork, khugepaged_exit at exit, ...);
 * every hook is optional. A feature is installed with `k.use(feature)` and
 * found again with `k.feature(name)`; the core never imports one.
 */
export interface KernelFeature {
  /** Unique per kernel: "khugepaged", "hugetlb", "zone-device". */
  readonly name: string;
  /**
   * Files the feature adds under /sys/kernel/mm/transparent_hugepage, by
   * path below it ("khugepaged/pages_to_scan"), as the THP sysfs view shows them.
   */
  thpSysfs?(k: Kernel): Readonly<Record<string, string>>;
  /** The feature's own invariants, run by the checker after every checked operation. */
  check?(k: Kernel, op: string, report: ViolationReport): void;
  /** dup_mmap has copied `parent` into `child` (both hold their VMAs). */
  onFork?(k: Kernel, parent: Mm, child: Mm): void;
  /** The process is exiting; its address space is still intact. */
  onExit?(k: Kernel, mm: Mm): void;
  /**
   * A VMA may have become eligible for huge pages: where the kernel calls
   * khugepaged_enter_vma. Called after MADV_HUGEPAGE (hugepage_madvise, even
   * when the flag was already set), by a PMD-order anonymous fault once the
   * VMA has its anon_vma (do_huge_pmd_anonymous_page), and when a VMA merges
   * with a neighbour (vma_merge_new_range, vma_merge_existing_range), with
   * the flags the VMA is getting (`vmFlags`; the VMA's own when absent).
   */
  onVmaChanged?(k: Kernel, mm: Mm, vma: Vma, vmFlags?: number): void;
  /**
   * Head pfns of the folios the feature keeps off the LRU and out of the
   * node's mapped counters (hugetlb pool folios). The core's checker still
   * checks their mapcounts, refcounts and rmap, and leaves the rest to the
   * feature's own `check`.
   */
  ownedFolios?(k: Kernel): Iterable<number>;
}

/** The features of one kernel, in installation order. */
export class Features {
  private readonly byName = new Map<string, KernelFeature>();
  /** The same features as an array: the hooks run on hot-ish paths (every fork, every mmap). */
  private list: readonly KernelFeature[] = [];

  add(f: KernelFeature): void {
    if (this.byName.has(f.name)) throw new RangeError(`feature "${f.name}" is already installed on this kernel`);
    this.byName.set(f.name, f);
    this.list = [...this.list, f];
  }

  get<F extends KernelFeature>(name: string): F | undefined {
    return this.byName.get(name) as F | undefined;
  }

  all(): readonly KernelFeature[] {
    return this.list;
  }

  check(k: Kernel, op: string, out: Violation[]): void {
    for (const f of this.list) {
      if (f.check === undefined) continue;
      const name = f.name;
      f.check(k, op, (check, message, extra = {}) => out.push({ op, check: `${name}:${check}`, message, ...extra }));
    }
  }

  /** The folios every feature owns (see KernelFeature.ownedFolios). */
  owned(k: Kernel): Set<number> {
    const out = new Set<number>();
    for (const f of this.list) if (f.ownedFolios !== undefined) for (const h of f.ownedFolios(k)) out.add(h);
    return out;
  }

  forked(k: Kernel, parent: Mm, child: Mm): void {
    for (const f of this.list) f.onFork?.(k, parent, child);
  }

  exiting(k: Kernel, mm: Mm): void {
    for (const f of this.list) f.onExit?.(k, mm);
  }

  vmaChanged(k: Kernel, mm: Mm, vma: Vma, vmFlags = vma.flags): void {
    for (const f of this.list) f.onVmaChanged?.(k, mm, vma, vmFlags);
  }
}
