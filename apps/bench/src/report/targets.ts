import { bytes, percent, si, times } from "./format";

/** How a target's figure reads. */
export type TargetFormat = "rate" | "ratio" | "bytes";

/** One of the targets (full mode, one core, checker off), as data. */
export interface Target {
  readonly metric: string;
  readonly op: ">=" | "<=";
  readonly value: number;
  readonly format: TargetFormat;
  /** What it asks, in words. */
  readonly what: string;
}

export const TARGETS: readonly Target[] = [
  { metric: "fault.anon.4k.ops_per_s", op: ">=", value: 3e6, format: "rate", what: "4K anonymous write faults per second" },
  { metric: "ratio.fault.anon.4k", op: ">=", value: 5, format: "ratio", what: "4K anonymous faults against the machine's kernel in the same run" },
  { metric: "munmap.4k.pages_per_s", op: ">=", value: 1e7, format: "rate", what: "4K pages unmapped per second" },
  { metric: "fault.anon.pmd.ops_per_s", op: ">=", value: 5e5, format: "rate", what: "PMD THP faults per second" },
  { metric: "fault.anon.pud.ops_per_s", op: ">=", value: 2e4, format: "rate", what: "PUD THP faults per second, page tables pre-deposited" },
  ...["x86-64.4level", "arm64.4k-48", "arm64.64k-48", "ppc8xx.4k"].map(
    (arch): Target => ({ metric: `arch.${arch}.hw_translate.ops_per_s`, op: ">=", value: 1e7, format: "rate", what: `hardware translations per second on ${arch} (translate, no explained walk)` }),
  ),
  { metric: "heap.bytes_per_4k_page", op: "<=", value: 32, format: "bytes", what: "heap bytes per mapped 4K page" },
  // O(1) per huge folio: the largest size's bytes per folio over the smallest's, with 10% for measurement noise.
  { metric: "heap.growth.pmd_thp", op: "<=", value: 1.1, format: "ratio", what: "heap per PMD THP does not grow with memory size (largest size over the most a smaller one cost)" },
  { metric: "heap.growth.pud_thp", op: "<=", value: 1.1, format: "ratio", what: "heap per PUD THP does not grow with memory size (largest size over the most a smaller one cost)" },
  { metric: "ratio.collapse.madv.pmd", op: ">=", value: 10, format: "ratio", what: "MADV_COLLAPSE of a populated 2M range against the machine's kernel in the same run" },
  { metric: "khugepaged.scan.ops_per_s", op: ">=", value: 2e7, format: "rate", what: "PTEs khugepaged scans per second" },
  // hmm-tests benchmark_thp_migration's figure: 20 GB/s of modelled memory, to the device and back, in 4 KiB pages.
  { metric: "migrate.device.pmd.pages_per_s", op: ">=", value: 20e9 / 4096, format: "rate", what: "2 MiB THPs migrated to a device-private device and back: pages (4 KiB) moved per second, 20 GB/s" },
];

export type TargetState = "met" | "missed" | "not measured";

export interface TargetStatus extends Target {
  readonly state: TargetState;
  readonly measured: number | undefined;
  /** "met: 3.2M ≥ 3M", "missed: 1.42M of 3M (47%)", "not measured: ...". */
  readonly text: string;
}

export function formatValue(format: TargetFormat, v: number): string {
  return format === "rate" ? si(v) : format === "ratio" ? times(v) : bytes(v);
}

/** The status line of one target against a measured value. */
export function targetText(t: Target, v: number): string {
  const f = (x: number) => formatValue(t.format, x);
  const met = t.op === ">=" ? v >= t.value : v <= t.value;
  if (met) return `met: ${f(v)} ${t.op === ">=" ? "≥" : "≤"} ${f(t.value)}`;
  // How far off, as the share of the target reached (at least) or the factor over it (at most).
  return t.op === ">=" ? `missed: ${f(v)} of ${f(t.value)} (${percent(v / t.value)})` : `missed: ${f(v)} for at most ${f(t.value)} (${times(v / t.value)} the target)`;
}

/** Every target against the run's metrics; `why` says why a metric is absent (not selected, kernel skipped). */
export function evaluateTargets(values: Readonly<Record<string, number>>, why: (metric: string) => string = () => "not measured in this run"): TargetStatus[] {
  return TARGETS.map((t) => {
    const v = values[t.metric];
    if (v === undefined || !Number.isFinite(v)) return { ...t, state: "not measured", measured: undefined, text: `not measured: ${why(t.metric)}` };
    const text = targetText(t, v);
    return { ...t, state: text.startsWith("met") ? "met" : "missed", measured: v, text };
  });
}
