import { formatSize, tlbCoverage } from "@hugemm/core";
import { runScenario, type RunResult, type ScenarioError } from "@hugemm/scenario";
import { flag, list, str } from "../cli/args";
import type { Command } from "../cli/command";
import { EXIT_FAILED, EXIT_OK, UsageError } from "../cli/errors";
import { writeHtmlReport } from "../cli/html-out";
import { AT_OPTION, RUN_OPTIONS, SCENARIO_ARG, runOptionsFromArgs, scenarioFromArg } from "../cli/scenario-input";

export const DEFAULT_COMPARE_ARCHES = ["x86-64", "arm64:4k", "arm64:64k", "ppc8xx:4k"];

/** Counters shown under the footprint rows unless --counter names others. */
const DEFAULT_COUNTERS = ["pgfault", "thp_fault_alloc", "thp_fault_fallback", "thp_split_pmd", "meminfo.AnonHugePages", "meminfo.PageTables"];

/** One arch's column. */
export interface CompareColumn {
  readonly arch: string;
  readonly passed: boolean;
  readonly expects: { readonly passed: number; readonly total: number };
  readonly violation?: string;
  /** Pages holding the live processes' page tables, deposited tables included. */
  readonly tablePages: number;
  /** Bytes the MMU translates, by TLB entry size (a contiguous run is one entry of its size). */
  readonly mappedBySize: Readonly<Record<string, number>>;
  readonly tlbEntries: number;
  /** Counters at the end (or the --at checkpoint); absent where the arch's build lacks one. */
  readonly counters: Readonly<Record<string, number | null>>;
}

export function compareColumn(r: RunResult, counterNames: readonly string[]): CompareColumn {
  let tablePages = 0;
  let tlbEntries = 0;
  const mapped: Record<string, number> = {};
  for (const mm of r.processes.values()) {
    const c = tlbCoverage(r.kernel, mm);
    tablePages += c.tablePages;
    tlbEntries += c.entries;
    for (const s of c.bySize) mapped[formatSize(s.size)] = (mapped[formatSize(s.size)] ?? 0) + s.bytes;
  }
  const last = r.checkpoints[r.checkpoints.length - 1]!.counters;
  const passed = r.expects.filter((e) => e.pass).length;
  return {
    arch: r.archId,
    passed: r.passed,
    expects: { passed, total: r.expects.length },
    ...(r.violation === undefined ? {} : { violation: `step ${r.violation.step}: ${r.violation.message}` }),
    tablePages,
    mappedBySize: mapped,
    tlbEntries,
    counters: Object.fromEntries(counterNames.map((n) => [n, n in last ? last[n]! : null])),
  };
}

/** Sizes in ascending order of bytes ("4K" < "64K" < "2M"). */
function sizeOrder(a: string, b: string): number {
  const bytes = (s: string) => Number.parseFloat(s) * ({ K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[s.slice(-1)] ?? 1);
  return bytes(a) - bytes(b);
}

/** The side-by-side table. */
export function formatCompare(name: string, where: string, cols: readonly CompareColumn[], color: (ok: boolean, s: string) => string = (_ok, s) => s): string {
  const sizes = [...new Set(cols.flatMap((c) => Object.keys(c.mappedBySize)))].sort(sizeOrder);
  const counterNames = Object.keys(cols[0]?.counters ?? {});
  const rows: [string, string[]][] = [
    ["expects", cols.map((c) => (c.violation !== undefined ? "VIOLATION" : `${c.expects.passed}/${c.expects.total} pass`))],
    ["page-table pages", cols.map((c) => String(c.tablePages))],
    ...sizes.map((s): [string, string[]] => [`mapped by ${s} entries`, cols.map((c) => (c.mappedBySize[s] === undefined ? "-" : formatSize(c.mappedBySize[s]!)))]),
    ["TLB entries to cover it", cols.map((c) => String(c.tlbEntries))],
    ...counterNames.map((n): [string, string[]] => [n, cols.map((c) => (c.counters[n] === null ? "n/a" : String(c.counters[n])))]),
  ];
  const labelWidth = Math.max(...rows.map(([l]) => l.length));
  const widths = cols.map((c, i) => Math.max(c.arch.length, ...rows.map(([, v]) => v[i]!.length)));
  const line = (label: string, cells: readonly string[]) => `${label.padEnd(labelWidth)}  ${cells.map((v, i) => v.padStart(widths[i]!)).join("  ")}`.trimEnd();
  const out = [`${name}: ${where}`, line("", cols.map((c) => c.arch))];
  for (const [label, cells] of rows) {
    const text = line(label, cells);
    out.push(label === "expects" ? `${label.padEnd(labelWidth)}  ${cells.map((v, i) => color(cols[i]!.passed, v.padStart(widths[i]!))).join("  ")}` : text);
  }
  for (const c of cols) if (c.violation !== undefined) out.push(`${c.arch}: invariant violation at ${c.violation}`);
  return `${out.join("\n")}\n`;
}

export const compareCommand: Command = {
  name: "compare",
  summary: "run one scenario on several arches side by side: page tables, memory by mapping size, TLB entries",
  description:
    "Runs the same scenario on each arch (to its end, or to a checkpoint with --at) and compares the live\n" +
    "processes: page-table pages (deposited tables included), the memory the MMU translates at each entry\n" +
    "size (an arm64 contiguous run counts as one entry of its size), the TLB entries needed to cover the\n" +
    "working set, and counters. Exits 1 when the scenario fails on any arch.",
  positionals: [SCENARIO_ARG],
  options: {
    arch: { type: "string", multiple: true, value: "A,B,...", help: `the arches (default ${DEFAULT_COMPARE_ARCHES.join(",")})` },
    counter: { type: "string", multiple: true, value: "NAME", help: `counters to show (default ${DEFAULT_COUNTERS.join(", ")})` },
    ...AT_OPTION,
    ...RUN_OPTIONS,
    json: { type: "boolean", help: "print the columns as JSON" },
    html: { type: "string", value: "FILE", help: "also write a self-contained HTML report with the arches side by side" },
  },
  examples: [
    "hugemm compare compare-arches",
    "hugemm compare mthp-64k --arch x86-64,arm64:4k,arm64:64k,ppc8xx",
    "hugemm compare tour --at pmd-thp --counter nr_anon_transparent_hugepages",
    "hugemm compare my.yaml --html side-by-side.html",
  ],
  run(a, ctx) {
    const arches = list(a, "arch", true);
    const specs = arches.length === 0 ? DEFAULT_COMPARE_ARCHES : arches;
    if (specs.length < 2 && arches.length > 0) throw new UsageError(`compare: --arch ${arches.join(",")}: expected at least two arches to compare (use hugemm run for one)`);
    const s = scenarioFromArg("compare", a.positionals[0]!);
    const counters = list(a, "counter");
    const counterNames = counters.length === 0 ? DEFAULT_COUNTERS : counters;
    const runs: RunResult[] = [];
    // A setting an arch lacks (hugepages-64kB where 64K is the base page) is skipped there, with a note;
    // one no arch takes is a mistake.
    const skipped = new Map<string, Map<string, ScenarioError>>();
    specs.forEach((spec, i) => {
      const opts = runOptionsFromArgs("compare", a, ctx, spec);
      const skipSetting = (key: string, error: ScenarioError) => {
        const byArch = skipped.get(key) ?? new Map<string, ScenarioError>();
        if (!byArch.has(spec)) byArch.set(spec, error);
        skipped.set(key, byArch);
        return true;
      };
      runs.push(runScenario(s, { ...opts, skipSetting, onStep: (j, total, step) => ctx.progress.update(i * total + j, specs.length * total, `${spec} ${step.op}`) }));
    });
    ctx.progress.done();
    for (const [key, byArch] of skipped) {
      if (byArch.size === specs.length) throw byArch.values().next().value!;
      for (const [spec, error] of byArch) ctx.note(`${spec}: setting ${key} skipped: ${error.reason}`);
    }
    const known = new Set(runs.flatMap((r) => Object.keys(r.checkpoints[0]!.counters)));
    for (const n of counterNames) if (!known.has(n) && !n.startsWith("pid")) throw new UsageError(`compare: --counter ${n}: no such counter on any of the arches (see the names hugemm run --json prints)`);
    const cols = runs.map((r) => compareColumn(r, counterNames));
    const html = str(a, "html");
    if (html !== undefined) writeHtmlReport("compare", html, runs, "compare", ctx);
    const at = str(a, "at");
    const where = `${s.file}, seed ${runs[0]!.seed}, ${at === undefined ? "at the end of the run" : `at checkpoint "${at}"`}`;
    if (flag(a, "json")) ctx.io.stdout(`${JSON.stringify({ scenario: s.name, where, columns: cols }, null, 2)}\n`);
    else ctx.io.stdout(formatCompare(s.name, where, cols, (ok, t) => (ok ? ctx.style.green(t) : ctx.style.red(t))));
    return runs.every((r) => r.passed) ? EXIT_OK : EXIT_FAILED;
  },
};
