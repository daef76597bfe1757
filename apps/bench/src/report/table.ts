import type { FootprintPoint } from "../footprint/measure";
import { sizeLabel } from "../footprint/sizes";
import type { Measurement } from "../harness";
import { bytes, si, textTable, times } from "./format";
import { COUNTED_UNITS, FOOTPRINT_UNIT, KERNEL_PAIRS, type Metrics } from "./metrics";
import type { TargetStatus } from "./targets";

/** Time per operation with its unit: 704.2 ns, 12.3 µs, 98.2 ms. */
export function perOp(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(1)} ms`;
  if (ns >= 1e4) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${ns.toFixed(1)} ns`;
}

function targetFor(targets: readonly TargetStatus[], metrics: readonly string[]): string {
  return targets
    .filter((t) => metrics.includes(t.metric) && t.state !== "not measured")
    .map((t) => t.text)
    .join("; ");
}

/** Rows of one measurement: its operations, then each other counted unit it amounts to (fork: pages). */
function rows(m: Measurement, targets: readonly TargetStatus[]): string[][] {
  const r = m.opsPerSecond;
  const primary = [`${m.name}.ops_per_s`, ...(COUNTED_UNITS.includes(m.unit) ? [`${m.name}.${m.unit}_per_s`] : [])];
  const out = [[m.name, si(r.median), si(r.min), si(r.max), perOp(m.nsPerOp.median), `${m.unit}/s`, targetFor(targets, primary)]];
  for (const [u, n] of Object.entries(m.per)) {
    if (!COUNTED_UNITS.includes(u) || u === m.unit || n === 1) continue;
    out.push([`  ${m.name} (${u})`, si(r.median * n), si(r.min * n), si(r.max * n), "", `${u}/s`, targetFor(targets, [`${m.name}.${u}_per_s`])]);
  }
  return out;
}

const HEAD = ["workload", "median", "min", "max", "per op", "unit", "target"];
const RIGHT = [false, true, true, true, true, false, false];

/** The throughput table: the model's workloads, the kernel's figures and the model-to-kernel ratios beside them, then the arch micro-benchmarks. */
export function throughputTable(model: readonly Measurement[], kernel: readonly Measurement[], metrics: Metrics, targets: readonly TargetStatus[]): string {
  const isArch = (m: Measurement) => m.name.startsWith("arch.");
  const body = [...model.filter((m) => !isArch(m)), ...kernel].flatMap((m) => rows(m, targets));
  for (const w of KERNEL_PAIRS) {
    const name = `ratio.${w}`;
    const v = metrics.values[name];
    if (v === undefined) continue;
    const r = metrics.ranges[name];
    body.push([name, times(v), r ? times(r.min) : "", r ? times(r.max) : "", "", "model/kernel", targetFor(targets, [name])]);
  }
  body.push(...model.filter(isArch).flatMap((m) => rows(m, targets)));
  return textTable(HEAD, body, RIGHT);
}

const KIND_LABEL: Readonly<Record<string, string>> = { "4k": "4K page", pmd: "PMD THP", pud: "PUD THP" };

/** Bytes per page or folio at each memory size, one row per kind, with the footprint targets. */
export function footprintTable(points: readonly FootprintPoint[], targets: readonly TargetStatus[]): string {
  const sizes = [...new Set(points.map((p) => p.mappedBytes))].sort((a, b) => a - b);
  const kinds = (["4k", "pmd", "pud"] as const).filter((k) => points.some((p) => p.kind === k));
  const body = kinds.map((k) => {
    const cells = sizes.map((s) => {
      const p = points.find((x) => x.kind === k && x.mappedBytes === s);
      return p === undefined ? "" : bytes(p.bytesPerUnit);
    });
    const u = FOOTPRINT_UNIT[k];
    return [KIND_LABEL[k]!, ...cells, targetFor(targets, [`heap.bytes_per_${u}`, `heap.growth.${u}`])];
  });
  return textTable(["heap per", ...sizes.map(sizeLabel), "target"], body, [false, ...sizes.map(() => true), false]);
}

/** One line per target: met, missed by how much, or why it was not measured. */
export function targetsSummary(targets: readonly TargetStatus[], quick: boolean): string {
  const mark = { met: "✓", missed: "✗", "not measured": "-" } as const;
  const head = quick ? "targets (quick mode: small sizes, so indicative only; the targets are for full mode)" : "targets (full mode, one core, checker off)";
  return [head, ...targets.map((t) => `  ${mark[t.state]} ${t.what}: ${t.text}`)].join("\n");
}
