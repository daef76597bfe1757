import { tlbCoverage, type Kernel, type Mm } from "@hugemm/core";
import { mapProcess } from "./address-map";
import type { ArchColumn, CheckpointRow, ExpectRow, HtmlReport } from "./model";
import { physMap } from "./phys-map";
import { mappingSizes, summarize } from "./summary";

/** What a finished scenario run provides (the scenario runner's RunResult has these fields). */
export interface RunLike {
  readonly archId: string;
  readonly seed: number;
  readonly scenarioName: string;
  readonly kernel: Kernel;
  /** Live and exited processes by the pid the scenario knows them by. */
  readonly processes: ReadonlyMap<number, Mm>;
  readonly checkpoints: readonly { readonly name: string; readonly counters: Readonly<Record<string, number>> }[];
  readonly expects: readonly { readonly clause: string; readonly pass: boolean; readonly expected: unknown; readonly actual: unknown }[];
}

export interface HtmlReportOptions {
  /** The page title (default: "hugemm run: <scenario>" or "hugemm compare: <scenario>"). */
  readonly title?: string;
  /** "compare" shows the comparison table; default: "compare" when there is more than one run. */
  readonly mode?: "run" | "compare";
  /** Counters charted when the page opens (default: THP and fault counters the checkpoints have). */
  readonly counters?: readonly string[];
  /** Most runs or cells one VMA's bar shows (default 1024). */
  readonly maxRunsPerVma?: number;
  /** Most cells one zone's strip shows (default 2048). */
  readonly maxCellsPerZone?: number;
}

/** Bad input to the report builder, naming what was wrong and what was expected. */
export class HtmlReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HtmlReportError";
  }
}

/** Charted by default, in this order, when the checkpoints have them. */
const PREFERRED_COUNTERS = ["thp_fault_alloc", "thp_fault_fallback", "pgfault", "thp_split_pmd", "thp_split_page", "nr_anon_transparent_hugepages", "AnonHugePages"];
const DEFAULT_CHARTED = 4;

/** An expect's value as text: strings as they are, everything else as JSON. */
export function valueText(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === undefined) return "undefined";
  if (typeof v === "bigint") return `${v}`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function counterNames(runs: readonly RunLike[]): string[] {
  const names = new Set<string>();
  for (const r of runs) for (const c of r.checkpoints) for (const n of Object.keys(c.counters)) names.add(n);
  return [...names].sort();
}

function chosenCounters(runs: readonly RunLike[], asked: readonly string[] | undefined): string[] {
  const all = counterNames(runs);
  if (asked !== undefined) {
    for (const n of asked) {
      if (!all.includes(n)) {
        const known = all.length === 0 ? "the checkpoints have no counters" : `expected one of the checkpoint counters (${all.slice(0, 12).join(", ")}${all.length > 12 ? ", ..." : ""})`;
        throw new HtmlReportError(`unknown counter "${n}" to chart: ${known}`);
      }
    }
    return [...asked];
  }
  const preferred = PREFERRED_COUNTERS.filter((n) => all.includes(n)).slice(0, DEFAULT_CHARTED);
  return preferred.length > 0 ? preferred : all.slice(0, Math.min(3, all.length));
}

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new HtmlReportError(`${name} ${v}: expected a positive integer`);
  return v;
}

function column(run: RunLike, maxRuns: number, maxCells: number): ArchColumn {
  const k = run.kernel;
  const sizes = mappingSizes(k);
  const processes = [...run.processes].sort((a, b) => a[0] - b[0]).map(([pid, mm]) => mapProcess(k, pid, mm, maxRuns));
  const checkpoints: CheckpointRow[] = run.checkpoints.map((c) => ({ name: c.name, counters: { ...c.counters } }));
  const expects: ExpectRow[] = run.expects.map((e) => ({ clause: e.clause, pass: e.pass, expected: valueText(e.expected), actual: valueText(e.actual) }));
  return {
    archId: run.archId,
    archDescription: k.backend.description,
    seed: run.seed,
    sizes,
    maxOrder: k.phys.maxOrder,
    processes,
    phys: physMap(k, maxCells),
    checkpoints,
    expects,
    // TLB entries from the core's hardware-view count, so the page and `hugemm compare` agree exactly.
    summary: { ...summarize(k, processes, sizes), tlbEntries: [...run.processes.values()].reduce((n, mm) => n + tlbCoverage(k, mm).entries, 0) },
  };
}

/**
 * The report of one or more finished runs of one scenario: each run's
 * address spaces, physical memory, counters and expects, as one column.
 */
export function htmlReportFromRuns(runs: readonly RunLike[], opts: HtmlReportOptions = {}): HtmlReport {
  if (runs.length === 0) throw new HtmlReportError("no runs to report: expected at least one finished run");
  const names = new Set(runs.map((r) => r.scenarioName));
  if (names.size > 1) throw new HtmlReportError(`runs of different scenarios (${[...names].join(", ")}): expected runs of one scenario`);
  const maxRuns = positiveInt("maxRunsPerVma", opts.maxRunsPerVma, 1024);
  const maxCells = positiveInt("maxCellsPerZone", opts.maxCellsPerZone, 2048);
  const mode = opts.mode ?? (runs.length > 1 ? "compare" : "run");
  const scenarioName = runs[0]!.scenarioName;
  return {
    title: opts.title ?? `hugemm ${mode}: ${scenarioName}`,
    scenarioName,
    mode,
    columns: runs.map((r) => column(r, maxRuns, maxCells)),
    defaultCounters: chosenCounters(runs, opts.counters),
  };
}
