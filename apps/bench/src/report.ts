import type { Measurement } from "./harness";
import type { MachineDescription } from "./machine";

/** Stable metric names: `<workload>.ops_per_s` and `<workload>.ns_per_op` (medians). */
export function metrics(ms: readonly Measurement[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of ms) {
    out[`${m.name}.ops_per_s`] = round(m.opsPerSecond.median);
    out[`${m.name}.ns_per_op`] = round(m.nsPerOp.median, 3);
  }
  return out;
}

export interface BenchReport {
  readonly schema: "hugemm-bench/1";
  readonly mode: "quick" | "full";
  readonly date: string;
  readonly machine: MachineDescription;
  readonly metrics: Record<string, number>;
  readonly measurements: readonly Measurement[];
}

export function table(ms: readonly Measurement[]): string {
  const rows = ms.map((m) => [m.name, fmt(m.opsPerSecond.median), fmt(m.opsPerSecond.min), fmt(m.opsPerSecond.max), m.nsPerOp.median.toFixed(1), m.unit]);
  const head = ["workload", "ops/s median", "min", "max", "ns/op", "unit"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function fmt(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(1);
}

function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
