import type { EarlierReport } from "./json";
import type { MetricRange } from "./metrics";
import { change, percent, si, textTable } from "./format";

/** The smallest change --compare calls a regression, however quiet both runs were. */
export const MIN_REGRESSION = 0.05;

/** +1 when a larger figure is better, -1 when smaller is, 0 when neither (the machine's kernel, informative figures). */
export function direction(metric: string): 1 | -1 | 0 {
  // The kernel's own speed describes the machine, not the model: shown, never called a regression.
  if (metric.startsWith("kernel.")) return 0;
  if (metric.startsWith("ratio.") || metric.endsWith("_per_s")) return 1;
  if (metric.endsWith(".ns_per_op") || metric.startsWith("heap.")) return -1;
  return 0;
}

/** Relative spread of a metric's samples: (max - min) / median, 0 without samples. */
export function spread(value: number, range: MetricRange | undefined): number {
  if (range === undefined || value === 0) return 0;
  return Math.abs(range.max - range.min) / Math.abs(value);
}

export type Verdict = "regression" | "improvement" | "within noise" | "informative";

export interface MetricChange {
  readonly metric: string;
  readonly before: number;
  readonly after: number;
  /** (after - before) / before. */
  readonly change: number;
  /** The change a verdict needs: the larger relative spread of the two runs, at least MIN_REGRESSION. */
  readonly threshold: number;
  readonly verdict: Verdict;
}

export interface Comparison {
  readonly changes: readonly MetricChange[];
  /** Metrics of the earlier run this run did not produce (not selected, or lost). */
  readonly onlyEarlier: readonly string[];
  readonly onlyNow: readonly string[];
  readonly regressions: number;
}

export interface Figures {
  readonly metrics: Readonly<Record<string, number>>;
  readonly ranges: Readonly<Record<string, MetricRange>>;
}

/**
 * Each metric of both runs: a regression is a median worse than the earlier
 * one by a factor of more than 1 + the larger relative spread (max - min
 * over median) of the two runs, and by at least 5%; an improvement the same
 * the other way.
 */
export function compareRuns(earlier: Figures, now: Figures): Comparison {
  const changes: MetricChange[] = [];
  for (const [metric, after] of Object.entries(now.metrics)) {
    const before = earlier.metrics[metric];
    if (before === undefined) continue;
    const threshold = Math.max(MIN_REGRESSION, spread(before, earlier.ranges[metric]), spread(after, now.ranges[metric]));
    const rel = before === 0 ? (after === 0 ? 0 : Infinity) : (after - before) / Math.abs(before);
    const d = direction(metric);
    // Judged as a factor, not a difference: a relative spread can exceed 100% on a loaded machine,
    // and a throughput can fall by at most 100%, so a 100-fold drop must still read as a regression.
    const gain = betterFactor(before, after, d);
    const verdict: Verdict = d === 0 ? "informative" : gain < 1 / (1 + threshold) ? "regression" : gain > 1 + threshold ? "improvement" : "within noise";
    changes.push({ metric, before, after, change: rel, threshold, verdict });
  }
  return {
    changes,
    onlyEarlier: Object.keys(earlier.metrics).filter((k) => !(k in now.metrics)),
    onlyNow: Object.keys(now.metrics).filter((k) => !(k in earlier.metrics)),
    regressions: changes.filter((c) => c.verdict === "regression").length,
  };
}

/** How many times better `after` is than `before` in direction `d` (below 1: worse). */
function betterFactor(before: number, after: number, d: 1 | -1 | 0): number {
  if (before === after) return 1;
  if (before <= 0 || after <= 0) return (after - before) * d > 0 ? Infinity : 0;
  return d >= 0 ? after / before : before / after;
}

/** The comparison as text: every metric's change, regressions flagged, and a summary line. */
export function formatComparison(c: Comparison, earlier: EarlierReport): string {
  const rows = c.changes.map((x) => [x.metric, si(x.before), si(x.after), Number.isFinite(x.change) ? change(x.change) : "new", percent(x.threshold), x.verdict === "regression" ? "REGRESSION" : x.verdict]);
  const lines = [`compared with ${earlier.path} (${earlier.mode} mode, ${earlier.date})`, textTable(["metric", "earlier", "now", "change", "noise", "verdict"], rows, [false, true, true, true, true, false])];
  if (c.onlyEarlier.length > 0) lines.push(`not in this run (${c.onlyEarlier.length}): ${c.onlyEarlier.join(", ")}`);
  if (c.onlyNow.length > 0) lines.push(`new in this run (${c.onlyNow.length}): ${c.onlyNow.join(", ")}`);
  const improved = c.changes.filter((x) => x.verdict === "improvement").length;
  lines.push(
    c.regressions > 0
      ? `${c.regressions} regression${c.regressions === 1 ? "" : "s"} beyond the noise: ${c.changes
          .filter((x) => x.verdict === "regression")
          .map((x) => `${x.metric} ${change(x.change)}`)
          .join(", ")}`
      : `no regression beyond the noise (${improved} improved, ${c.changes.length} compared)`,
  );
  return lines.join("\n");
}
