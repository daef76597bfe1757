import type { Measurement } from "../harness";
import type { FootprintKind, FootprintPoint } from "../footprint/measure";
import { sizeLabel } from "../footprint/sizes";
import { round } from "./format";

/** Units counted in their own metric, `<name>.<unit>_per_s`, beside `<name>.ops_per_s`. */
export const COUNTED_UNITS: readonly string[] = ["pages", "folios"];

/** The spread of one metric's samples, used to tell a regression from noise. */
export interface MetricRange {
  readonly min: number;
  readonly max: number;
}

/** Every figure of a run, by stable name, with the sample range where there is one. */
export interface Metrics {
  readonly values: Record<string, number>;
  readonly ranges: Record<string, MetricRange>;
}

export function emptyMetrics(): Metrics {
  return { values: {}, ranges: {} };
}

function put(m: Metrics, name: string, value: number, range?: MetricRange, digits = 0): void {
  m.values[name] = round(value, digits);
  if (range !== undefined) m.ranges[name] = { min: round(range.min, digits), max: round(range.max, digits) };
}

/** Extra units a workload is counted in, with the amount per operation. */
function countedUnits(unit: string, per: Readonly<Record<string, number>>): [string, number][] {
  const out: [string, number][] = [];
  if (COUNTED_UNITS.includes(unit)) out.push([unit, 1]);
  for (const [u, n] of Object.entries(per)) if (COUNTED_UNITS.includes(u) && u !== unit) out.push([u, n]);
  return out;
}

/** The metric names a workload produces (for the list every run must produce). */
export function measurementMetricNames(name: string, unit: string, per: Readonly<Record<string, number>>): string[] {
  return [`${name}.ops_per_s`, `${name}.ns_per_op`, ...countedUnits(unit, per).map(([u]) => `${name}.${u}_per_s`)];
}

/** `<name>.ops_per_s`, `<name>.ns_per_op` (medians, with min and max) and `<name>.pages_per_s` / `.folios_per_s`. */
export function addMeasurement(m: Metrics, x: Measurement): void {
  const r = x.opsPerSecond;
  put(m, `${x.name}.ops_per_s`, r.median, r);
  put(m, `${x.name}.ns_per_op`, x.nsPerOp.median, x.nsPerOp, 3);
  for (const [u, n] of countedUnits(x.unit, x.per)) put(m, `${x.name}.${u}_per_s`, r.median * n, { min: r.min * n, max: r.max * n });
}

/** What one unit of each footprint kind is called in metric names. */
export const FOOTPRINT_UNIT: Readonly<Record<FootprintKind, string>> = { "4k": "4k_page", pmd: "pmd_thp", pud: "pud_thp" };

export function footprintMetricNames(kind: FootprintKind, sizes: readonly number[]): string[] {
  const u = FOOTPRINT_UNIT[kind];
  return [`heap.bytes_per_${u}`, `heap.growth.${u}`, ...sizes.map((s) => `heap.scaling.${kind}.${sizeLabel(s)}`)];
}

/**
 * heap.scaling.<kind>.<size> (bytes per page or folio at each size),
 * heap.bytes_per_<unit> at the largest size, and heap.growth.<unit>: the
 * largest size's figure over the most any smaller size cost (1 or less:
 * O(1) per unit). Not over the smallest size's alone: tables that grow by
 * doubling make the figure at a small size depend on whether the size
 * crossed a doubling, so one low figure there would read as growth.
 */
export function addFootprint(m: Metrics, points: readonly FootprintPoint[]): void {
  for (const kind of ["4k", "pmd", "pud"] as const) {
    const ps = points.filter((p) => p.kind === kind).sort((a, b) => a.mappedBytes - b.mappedBytes);
    if (ps.length === 0) continue;
    for (const p of ps) put(m, `heap.scaling.${kind}.${sizeLabel(p.mappedBytes)}`, p.bytesPerUnit, undefined, 1);
    const last = ps[ps.length - 1]!.bytesPerUnit;
    const before = ps.length > 1 ? Math.max(...ps.slice(0, -1).map((p) => p.bytesPerUnit)) : last;
    put(m, `heap.bytes_per_${FOOTPRINT_UNIT[kind]}`, last, undefined, 1);
    // A byte per unit at least in the denominator: below that the ratio would be noise over noise.
    put(m, `heap.growth.${FOOTPRINT_UNIT[kind]}`, last / Math.max(before, 1), undefined, 3);
  }
}

/** Workloads measured both in the model and on the machine's kernel. */
export const KERNEL_PAIRS: readonly string[] = ["fault.anon.4k", "munmap.4k", "fault.anon.pmd", "munmap.pmd", "fork.anon.4k", "split.pmd", "collapse.madv.pmd"];

/** ratio.<workload>: the model's rate over the kernel's in the same run, with the widest range the samples allow. */
export function addRatios(m: Metrics): void {
  for (const w of KERNEL_PAIRS) {
    const model = `${w}.ops_per_s`;
    const kernel = `kernel.${w}.ops_per_s`;
    const a = m.values[model];
    const b = m.values[kernel];
    if (a === undefined || b === undefined || !(b > 0)) continue;
    const ra = m.ranges[model];
    const rb = m.ranges[kernel];
    put(m, `ratio.${w}`, a / b, ra && rb && rb.min > 0 ? { min: ra.min / rb.max, max: ra.max / rb.min } : undefined, 4);
  }
}

/** Extra metric of the kernel run: how much of the THP run the kernel really mapped huge. */
export function addHugeFraction(m: Metrics, fraction: number | undefined): void {
  if (fraction !== undefined) put(m, "kernel.fault.anon.pmd.huge_fraction", fraction, undefined, 4);
}
