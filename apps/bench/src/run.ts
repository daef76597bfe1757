import { writeFileSync } from "node:fs";
import { UsageError, type BenchArgs } from "./args";
import { runFootprint, type FootprintPoint } from "./footprint/index";
import { forceGc } from "./gc";
import { FULL, QUICK, measure, type Measurement } from "./harness";
import { describeMachine, selected } from "./machine";
import { findCompiler } from "./native/compile";
import { measureKernel, type KernelSide, type KernelSizes } from "./native/kernel";
import { compareRuns, formatComparison } from "./report/compare";
import { missingMetrics, requiredMetrics } from "./report/expected";
import { bytes } from "./report/format";
import { renderHtml } from "./report/html";
import { SCHEMA, readEarlierReport, type BenchReport, type EarlierReport, type KernelReport } from "./report/json";
import { addFootprint, addHugeFraction, addMeasurement, addRatios, emptyMetrics } from "./report/metrics";
import { footprintTable, targetsSummary, throughputTable } from "./report/table";
import { evaluateTargets } from "./report/targets";
import { isEmpty, select, type KernelRun } from "./select";
import { FULL_SIZES, QUICK_SIZES, allWorkloads } from "./workloads/index";

export interface Io {
  readonly out: (s: string) => void;
  /** Progress and failures. */
  readonly err: (s: string) => void;
  /** Overwritten status line (a terminal only). */
  readonly status?: (s: string) => void;
}

export const FOOTPRINT_METHOD =
  "V8 heap in use (compiled code left out) + external memory (ArrayBuffers, where the typed arrays live, are part of it) after a forced full GC, in a fresh node process per size (--single-threaded --hash-seed=1, so that the figure repeats): a machine whose mapping is written whole, with data, minus the same machine with the mapping empty, divided by the pages or folios mapped";

function kernelReport(k: KernelSide | undefined, sizes: KernelSizes, reps: number): KernelReport {
  if (k === undefined) return { status: "not selected" };
  if (k.status !== "measured") return { status: k.status, reason: k.reason };
  return { status: "measured", compiler: k.compiler, thpEnabled: k.thpEnabled, ...(k.hugeFraction === undefined ? {} : { hugeFraction: k.hugeFraction }), notes: k.notes, sizes, reps };
}

/** Run the selected parts of the suite, print the report, write the files; the exit status. */
export async function runBench(args: BenchArgs, io: Io): Promise<number> {
  const started = performance.now();
  let earlier: EarlierReport | undefined;
  if (args.compare !== undefined) {
    try {
      earlier = readEarlierReport(args.compare);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const quick = args.quick;
  const sizes = quick ? QUICK_SIZES : FULL_SIZES;
  const all = allWorkloads(sizes);
  const sel = select(all, args.only, quick);
  if (isEmpty(sel)) {
    throw new UsageError(`--only ${args.only!.join(",")}: nothing matches; names: ${all.map((w) => w.name).filter((n) => !n.startsWith("arch.")).join(", ")}, arch.<backend>.*, heap.4k_page, heap.pmd_thp, heap.pud_thp, kernel.fault.anon.4k, kernel.munmap.4k, kernel.fault.anon.pmd, kernel.munmap.pmd, kernel.fork.anon.4k, kernel.split.pmd, kernel.collapse.madv.pmd`);
  }
  const wantKernel = sel.kernel.base || sel.kernel.thp || sel.kernel.fork || sel.kernel.split || sel.kernel.collapse;
  const cc = wantKernel ? findCompiler() : undefined;
  const machine = describeMachine(cc !== undefined && !("missing" in cc) ? cc.version : null);
  const failures: string[] = [];

  // The model's workloads, one after another on this thread.
  const opts = { ...(quick ? QUICK : FULL), gc: forceGc };
  const model: Measurement[] = [];
  sel.workloads.forEach((w, i) => {
    io.status?.(`[${i + 1}/${sel.workloads.length}] ${w.name}`);
    try {
      model.push(measure(w, opts));
    } catch (e) {
      failures.push(`${w.name}: ${(e as Error).message}`);
    }
  });

  // The machine's kernel on the same sizes, right after.
  const kernelSizes: KernelSizes = {
    base: sel.kernel.base ? sizes.fault4k : 0,
    thp: sel.kernel.thp ? sizes.faultPmd : 0,
    fork: sel.kernel.fork ? sizes.fork : 0,
    split: sel.kernel.split ? sizes.split : 0,
    collapse: sel.kernel.collapse ? sizes.collapse : 0,
  };
  const reps = quick ? 3 : 5;
  let kernel: KernelSide | undefined;
  if (wantKernel) {
    io.status?.("the machine's kernel (kbench)");
    kernel = measureKernel(kernelSizes, reps, cc);
    if (kernel.status === "failed") failures.push(`kernel: ${kernel.reason}`);
  }

  let points: FootprintPoint[] = [];
  if (sel.footprint.length > 0) {
    io.status?.(`footprint: ${sel.footprint.join(", ")}`);
    try {
      points = await runFootprint(sel.footprint, quick);
    } catch (e) {
      failures.push(`footprint: ${(e as Error).message}`);
    }
  }
  io.status?.("");

  const metrics = emptyMetrics();
  const kernelMs = kernel?.status === "measured" ? kernel.measurements : [];
  for (const m of [...model, ...kernelMs]) addMeasurement(metrics, m);
  if (kernel?.status === "measured") addHugeFraction(metrics, kernel.hugeFraction);
  addRatios(metrics);
  addFootprint(metrics, points);

  const why = (metric: string): string => {
    if ((metric.startsWith("ratio.") || metric.startsWith("kernel.")) && kernel !== undefined && kernel.status !== "measured") return `the kernel run ${kernel.status}: ${kernel.reason}`;
    if (args.only !== undefined) return `not selected by --only ${args.only.join(",")}`;
    return "the workload failed";
  };
  const targets = evaluateTargets(metrics.values, why);
  const kernelSkipped = kernel?.status === "skipped";
  // debugfs split_huge_pages may be out of reach (no root, no debugfs): the split run then says so and measures nothing.
  const runsSkipped = new Set<KernelRun>(kernel?.status === "measured" && kernel.output.runs.some((r) => r.mode === "split" && r.skipped !== undefined) ? ["split"] : []);
  const missing = missingMetrics(requiredMetrics(sel, quick, args.only, kernelSkipped, runsSkipped), metrics.values);

  const thpMode = selected(machine.thp?.enabled);
  io.out(
    `hugemm-bench ${quick ? "quick" : "full"} mode: ${machine.model}; ${machine.cpuModel} (${machine.cpus} cores), ${bytes(machine.memoryBytes)}, node ${machine.node}, ${machine.platform} ${machine.kernel}, THP ${thpMode === undefined ? "unavailable" : `enabled=${thpMode}`}\n`,
  );
  io.out(`${throughputTable(model, kernelMs, metrics, targets)}\n`);
  if (kernel !== undefined) {
    if (kernel.status === "measured") io.out(`\nthe machine's kernel (kbench, ${kernel.compiler}, ${reps} repetitions; ratios are model/kernel):\n${kernel.notes.map((n) => `  ${n}`).join("\n")}\n`);
    else io.out(`\nthe machine's kernel: ${kernel.status === "skipped" ? "skipped" : "FAILED"}: ${kernel.reason}${kernel.status === "skipped" ? " (kernel.* and ratio.* metrics are not produced)" : ""}\n`);
  }
  if (points.length > 0) io.out(`\nheap per mapped page or folio (${quick ? "quick sizes" : "1 GiB to 64 GiB, 512 GiB for PUD THPs"}):\n${footprintTable(points, targets)}\n`);
  io.out(`\n${targetsSummary(targets, quick)}\n`);

  const durationSeconds = (performance.now() - started) / 1e3;
  const report: BenchReport = {
    schema: SCHEMA,
    mode: quick ? "quick" : "full",
    date: new Date().toISOString(),
    only: args.only ?? null,
    durationSeconds: Math.round(durationSeconds * 10) / 10,
    machine,
    metrics: metrics.values,
    ranges: metrics.ranges,
    targets,
    footprint: sel.footprint.length > 0 ? { method: FOOTPRINT_METHOD, points } : null,
    kernel: kernelReport(kernel, kernelSizes, reps),
    measurements: [...model, ...kernelMs],
    missing,
  };
  if (args.json !== undefined) {
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    io.out(`\nwrote ${Object.keys(report.metrics).length} metrics to ${args.json}\n`);
  }
  if (args.html !== undefined) {
    writeFileSync(args.html, renderHtml(report));
    io.out(`wrote the HTML report to ${args.html}\n`);
  }

  let status = 0;
  if (earlier !== undefined) {
    const c = compareRuns(earlier, { metrics: metrics.values, ranges: metrics.ranges });
    io.out(`\n${formatComparison(c, earlier)}\n`);
    if (c.regressions > 0) status = 1;
  }
  for (const f of failures) io.err(`hugemm-bench: ${f}\n`);
  if (missing.length > 0) {
    io.err(`hugemm-bench: ${missing.length} expected metric${missing.length === 1 ? "" : "s"} not produced: ${missing.join(", ")}\n`);
    status = 1;
  }
  if (failures.length > 0) status = 1;
  io.out(`${quick ? "quick" : "full"} run took ${durationSeconds.toFixed(1)} s\n`);
  return status;
}
