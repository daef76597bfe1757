import { FOOTPRINT_KINDS, type FootprintKind } from "./footprint/measure";
import { scalingSizes } from "./footprint/sizes";
import type { Workload } from "./harness";
import { FOOTPRINT_UNIT, footprintMetricNames } from "./report/metrics";

/** What one run measures. */
export interface Selection {
  readonly workloads: readonly Workload[];
  readonly footprint: readonly FootprintKind[];
  /** The kernel's 4K run (kernel.fault.anon.4k, kernel.munmap.4k), THP run (kernel.*.pmd), fork run, split run and MADV_COLLAPSE run (kernel.collapse.madv.pmd). */
  readonly kernel: Readonly<Record<KernelRun, boolean>>;
}

/** The runs of kbench. */
export type KernelRun = "base" | "thp" | "fork" | "split" | "collapse";

export function matches(name: string, only: readonly string[] | undefined): boolean {
  return only === undefined || only.some((p) => name.includes(p));
}

/** The parts of the suite whose names match `only` (everything without it). */
export function select(all: readonly Workload[], only: readonly string[] | undefined, quick: boolean): Selection {
  const any = (names: readonly string[]) => names.some((n) => matches(n, only));
  return {
    workloads: all.filter((w) => matches(w.name, only)),
    // A footprint kind answers to heap.<unit> and to each of its metric names.
    footprint: FOOTPRINT_KINDS.filter((k) => any([`heap.${FOOTPRINT_UNIT[k]}`, ...footprintMetricNames(k, scalingSizes(k, quick))])),
    kernel: {
      base: any(["kernel.fault.anon.4k", "kernel.munmap.4k"]),
      thp: any(["kernel.fault.anon.pmd", "kernel.munmap.pmd"]),
      fork: any(["kernel.fork.anon.4k"]),
      split: any(["kernel.split.pmd"]),
      collapse: any(["kernel.collapse.madv.pmd"]),
    },
  };
}

/** Nothing at all matched: the user mistyped a pattern. */
export function isEmpty(s: Selection): boolean {
  return s.workloads.length === 0 && s.footprint.length === 0 && !s.kernel.base && !s.kernel.thp && !s.kernel.fork && !s.kernel.split && !s.kernel.collapse;
}
