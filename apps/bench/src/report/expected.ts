import { scalingSizes } from "../footprint/sizes";
import type { KernelRun, Selection } from "../select";
import { KERNEL_PAIRS, footprintMetricNames, measurementMetricNames } from "./metrics";

/**
 * Every metric a run of `s` must produce. The kernel's metrics and the
 * ratios are left out only when the kernel run was skipped for want of a C
 * compiler (the report says so); a failed kernel run leaves them expected.
 */
export function expectedMetrics(s: Selection, quick: boolean, kernelSkipped: boolean, kernelRunsSkipped: ReadonlySet<KernelRun> = new Set()): string[] {
  const names = s.workloads.flatMap((w) => measurementMetricNames(w.name, w.unit, w.per ?? {}));
  for (const k of s.footprint) names.push(...footprintMetricNames(k, scalingSizes(k, quick)));
  if (!kernelSkipped) {
    const model = new Set(s.workloads.map((w) => w.name));
    for (const w of KERNEL_PAIRS) {
      const pair = KERNEL_PAIR_RUNS[w]!;
      if (!s.kernel[pair.run] || kernelRunsSkipped.has(pair.run)) continue;
      names.push(...measurementMetricNames(`kernel.${w}`, pair.unit, pair.per));
      if (model.has(w)) names.push(`ratio.${w}`);
    }
  }
  return names;
}

/** Which kbench run measures each kernel counterpart, and its unit. */
const KERNEL_PAIR_RUNS: Readonly<Record<string, { readonly run: KernelRun; readonly unit: string; readonly per: Readonly<Record<string, number>> }>> = {
  "fault.anon.4k": { run: "base", unit: "faults", per: { pages: 1 } },
  "munmap.4k": { run: "base", unit: "pages", per: {} },
  "fault.anon.pmd": { run: "thp", unit: "faults", per: { pages: 512 } },
  "munmap.pmd": { run: "thp", unit: "pages", per: {} },
  "fork.anon.4k": { run: "fork", unit: "forks", per: { pages: 1 } },
  "split.pmd": { run: "split", unit: "folios", per: { pages: 512 } },
  "collapse.madv.pmd": { run: "collapse", unit: "collapses", per: { pages: 512 } },
};

/** Expected metrics that are absent or not finite numbers. */
export function missingMetrics(expected: readonly string[], values: Readonly<Record<string, number>>): string[] {
  return expected.filter((n) => !Number.isFinite(values[n]));
}

/** Every metric a quick run of the whole suite produces besides the 56 arch micro-benchmark metrics: a fixed list, so that losing or renaming one fails CI. */
export const QUICK_REQUIRED: readonly string[] = [
  "fault.anon.4k.ops_per_s", "fault.anon.4k.ns_per_op", "fault.anon.4k.pages_per_s",
  "fault.anon.64k.ops_per_s", "fault.anon.64k.ns_per_op", "fault.anon.64k.pages_per_s",
  "fault.anon.pmd.ops_per_s", "fault.anon.pmd.ns_per_op", "fault.anon.pmd.pages_per_s",
  "fault.anon.pud.ops_per_s", "fault.anon.pud.ns_per_op", "fault.anon.pud.pages_per_s",
  "munmap.4k.ops_per_s", "munmap.4k.ns_per_op", "munmap.4k.pages_per_s",
  "munmap.64k.ops_per_s", "munmap.64k.ns_per_op", "munmap.64k.pages_per_s",
  "munmap.pmd.ops_per_s", "munmap.pmd.ns_per_op", "munmap.pmd.pages_per_s",
  "munmap.pud.ops_per_s", "munmap.pud.ns_per_op", "munmap.pud.pages_per_s",
  "fork.anon.4k.ops_per_s", "fork.anon.4k.ns_per_op", "fork.anon.4k.pages_per_s",
  "cow.anon.4k.ops_per_s", "cow.anon.4k.ns_per_op", "cow.anon.4k.pages_per_s",
  "split.pmd.ops_per_s", "split.pmd.ns_per_op", "split.pmd.folios_per_s", "split.pmd.pages_per_s",
  "migrate.4k.ops_per_s", "migrate.4k.ns_per_op", "migrate.4k.folios_per_s", "migrate.4k.pages_per_s",
  "migrate.pmd.ops_per_s", "migrate.pmd.ns_per_op", "migrate.pmd.folios_per_s", "migrate.pmd.pages_per_s",
  "migrate.device.pmd.ops_per_s", "migrate.device.pmd.ns_per_op", "migrate.device.pmd.folios_per_s", "migrate.device.pmd.pages_per_s",
  "migrate.device.pmd_split.ops_per_s", "migrate.device.pmd_split.ns_per_op", "migrate.device.pmd_split.folios_per_s", "migrate.device.pmd_split.pages_per_s",
  "swapout.4k.ops_per_s", "swapout.4k.ns_per_op", "swapout.4k.pages_per_s",
  "swapin.4k.ops_per_s", "swapin.4k.ns_per_op", "swapin.4k.pages_per_s",
  "walk.4k.ops_per_s", "walk.4k.ns_per_op",
  "walk.pmd.ops_per_s", "walk.pmd.ns_per_op",
  "walk.4k.hw.ops_per_s", "walk.4k.hw.ns_per_op",
  "walk.pmd.hw.ops_per_s", "walk.pmd.hw.ns_per_op",
  "collapse.madv.pmd.ops_per_s", "collapse.madv.pmd.ns_per_op", "collapse.madv.pmd.pages_per_s",
  "khugepaged.scan.ops_per_s", "khugepaged.scan.ns_per_op",
  "fault.hugetlb.2m.ops_per_s", "fault.hugetlb.2m.ns_per_op", "fault.hugetlb.2m.pages_per_s",
  "fault.hugetlb.1g.ops_per_s", "fault.hugetlb.1g.ns_per_op", "fault.hugetlb.1g.pages_per_s",
  "resize.hugetlb.2m.ops_per_s", "resize.hugetlb.2m.ns_per_op", "resize.hugetlb.2m.pages_per_s",
  "heap.bytes_per_4k_page",
  "heap.growth.4k_page",
  "heap.scaling.4k.1G", "heap.scaling.4k.2G",
  "heap.bytes_per_pmd_thp",
  "heap.growth.pmd_thp",
  "heap.scaling.pmd.1G", "heap.scaling.pmd.2G",
  "heap.bytes_per_pud_thp",
  "heap.growth.pud_thp",
  "heap.scaling.pud.2G", "heap.scaling.pud.4G",
  "kernel.fault.anon.4k.ops_per_s", "kernel.fault.anon.4k.ns_per_op", "kernel.fault.anon.4k.pages_per_s",
  "ratio.fault.anon.4k",
  "kernel.munmap.4k.ops_per_s", "kernel.munmap.4k.ns_per_op", "kernel.munmap.4k.pages_per_s",
  "ratio.munmap.4k",
  "kernel.fault.anon.pmd.ops_per_s", "kernel.fault.anon.pmd.ns_per_op", "kernel.fault.anon.pmd.pages_per_s",
  "ratio.fault.anon.pmd",
  "kernel.munmap.pmd.ops_per_s", "kernel.munmap.pmd.ns_per_op", "kernel.munmap.pmd.pages_per_s",
  "ratio.munmap.pmd",
  "kernel.fork.anon.4k.ops_per_s", "kernel.fork.anon.4k.ns_per_op", "kernel.fork.anon.4k.pages_per_s",
  "ratio.fork.anon.4k",
  "kernel.split.pmd.ops_per_s", "kernel.split.pmd.ns_per_op", "kernel.split.pmd.folios_per_s", "kernel.split.pmd.pages_per_s",
  "ratio.split.pmd",
  "kernel.collapse.madv.pmd.ops_per_s", "kernel.collapse.madv.pmd.ns_per_op", "kernel.collapse.madv.pmd.pages_per_s",
  "ratio.collapse.madv.pmd",
];

/**
 * What this run is held to: the metrics of what it selected, and in a quick
 * run of the whole suite also the fixed list (its kernel and ratio metrics
 * when the kernel run was not skipped).
 */
export function requiredMetrics(s: Selection, quick: boolean, only: readonly string[] | undefined, kernelSkipped: boolean, kernelRunsSkipped: ReadonlySet<KernelRun> = new Set()): string[] {
  const names = expectedMetrics(s, quick, kernelSkipped, kernelRunsSkipped);
  if (!quick || only !== undefined) return names;
  const kernelMetric = (n: string) => n.startsWith("kernel.") || n.startsWith("ratio.");
  // Without debugfs split_huge_pages the kernel's split run measures nothing, and says why.
  const splitMetric = (n: string) => n === "kernel.split.pmd" || n.startsWith("kernel.split.pmd.") || n === "ratio.split.pmd";
  const fixed = QUICK_REQUIRED.filter((n) => !(kernelSkipped && kernelMetric(n)) && !(kernelRunsSkipped.has("split") && splitMetric(n)));
  return [...names, ...fixed.filter((n) => !names.includes(n))];
}
