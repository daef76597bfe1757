import { readFileSync } from "node:fs";
import type { FootprintPoint } from "../footprint/measure";
import type { Measurement } from "../harness";
import type { MachineDescription } from "../machine";
import type { MetricRange } from "./metrics";
import type { TargetStatus } from "./targets";

export const SCHEMA = "hugemm-bench/2";

/** The kernel part of the report: measured, or why not. */
export interface KernelReport {
  readonly status: "measured" | "skipped" | "failed" | "not selected";
  readonly reason?: string;
  readonly compiler?: string;
  readonly thpEnabled?: string;
  readonly hugeFraction?: number;
  readonly notes?: readonly string[];
  readonly sizes?: { readonly base: number; readonly thp: number; readonly fork?: number; readonly split?: number; readonly collapse?: number };
  readonly reps?: number;
}

/** What --json writes. Metric names are stable; `ranges` holds each metric's sample min and max where there are samples. */
export interface BenchReport {
  readonly schema: typeof SCHEMA;
  readonly mode: "quick" | "full";
  readonly date: string;
  readonly only: readonly string[] | null;
  readonly durationSeconds: number;
  readonly machine: MachineDescription;
  readonly metrics: Readonly<Record<string, number>>;
  readonly ranges: Readonly<Record<string, MetricRange>>;
  readonly targets: readonly TargetStatus[];
  readonly footprint: { readonly method: string; readonly points: readonly FootprintPoint[] } | null;
  readonly kernel: KernelReport;
  readonly measurements: readonly Measurement[];
  /** Expected metrics this run did not produce (or produced as a non-finite number). */
  readonly missing: readonly string[];
}

/** The part of an earlier report that --compare needs. */
export interface EarlierReport {
  readonly path: string;
  readonly mode: string;
  readonly date: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly ranges: Readonly<Record<string, MetricRange>>;
}

/** Read a report written by --json (this schema or hugemm-bench/1); errors say what is wrong with the file. */
export function readEarlierReport(path: string): EarlierReport {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`--compare: cannot read ${JSON.stringify(path)}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  return parseEarlierReport(text, path);
}

export function parseEarlierReport(text: string, path: string): EarlierReport {
  const bad = (what: string) => new Error(`--compare: ${JSON.stringify(path)} is not a hugemm-bench report: ${what}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`--compare: ${JSON.stringify(path)} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw bad("expected a JSON object");
  const o = raw as Record<string, unknown>;
  if (o.schema !== SCHEMA && o.schema !== "hugemm-bench/1") throw bad(`expected "schema": "${SCHEMA}" (or "hugemm-bench/1"), got ${JSON.stringify(o.schema)}`);
  const m = o.metrics;
  if (typeof m !== "object" || m === null || Array.isArray(m)) throw bad('expected a "metrics" object of numbers');
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) {
    // A non-finite figure is written as null: the metric was not produced.
    if (v === null) continue;
    if (typeof v !== "number") throw bad(`metric ${JSON.stringify(k)}: expected a number, got ${JSON.stringify(v)}`);
    metrics[k] = v;
  }
  const ranges: Record<string, MetricRange> = {};
  const r = o.ranges;
  if (typeof r === "object" && r !== null) {
    for (const [k, v] of Object.entries(r)) {
      const x = v as { min?: unknown; max?: unknown };
      if (typeof x?.min === "number" && typeof x.max === "number") ranges[k] = { min: x.min, max: x.max };
    }
  }
  return { path, mode: typeof o.mode === "string" ? o.mode : "unknown", date: typeof o.date === "string" ? o.date : "unknown", metrics, ranges };
}
