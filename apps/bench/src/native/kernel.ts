import { spawnSync } from "node:child_process";
import { fromRates, medianOf, type Measurement } from "../harness";
import { compileKbench, findCompiler, type Compiler } from "./compile";
import { parseKbench, type KbenchOutput, type KbenchRun } from "./parse";

/** Sizes the kernel maps: the same as the model's fault workloads. */
export interface KernelSizes {
  /** Bytes of the 4K run (MADV_NOHUGEPAGE), or 0 to skip it. */
  readonly base: number;
  /** Bytes of the THP run (MADV_HUGEPAGE), or 0 to skip it. */
  readonly thp: number;
  /** Bytes of populated base pages the fork run forks with, or 0 to skip it. */
  readonly fork?: number;
  /** Bytes of THPs the split run splits through debugfs, or 0 to skip it. */
  readonly split?: number;
  /** Bytes of the MADV_COLLAPSE run (base pages collapsed into PMD THPs), or 0 (or absent) to skip it. */
  readonly collapse?: number;
}

/** The machine's own kernel, measured by kbench, or why it was not. */
export type KernelSide =
  | {
      readonly status: "measured";
      readonly compiler: string;
      readonly thpEnabled: string;
      /** Fraction of the THP run mapped huge (AnonHugePages / bytes, median), when smaps was readable. */
      readonly hugeFraction: number | undefined;
      readonly measurements: readonly Measurement[];
      /** What a reader must know to trust the ratios (THP availability, fallbacks). */
      readonly notes: readonly string[];
      readonly output: KbenchOutput;
    }
  | { readonly status: "skipped" | "failed"; readonly reason: string };

/** Run the compiled kbench; errors carry its stderr. */
export function runKbench(binary: string, reps: number, sizes: KernelSizes): KbenchOutput {
  const args = [String(reps)];
  if (sizes.base > 0) args.push(`4k:${sizes.base}`);
  if (sizes.thp > 0) args.push(`thp:${sizes.thp}`);
  if ((sizes.fork ?? 0) > 0) args.push(`fork:${sizes.fork}`);
  if ((sizes.split ?? 0) > 0) args.push(`split:${sizes.split}`);
  if ((sizes.collapse ?? 0) > 0) args.push(`collapse:${sizes.collapse}`);
  const r = spawnSync(binary, args, { encoding: "utf8", timeout: 600_000, maxBuffer: 1 << 24 });
  if (r.error !== undefined) throw new Error(`running ${binary}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${binary} ${args.join(" ")} exited with ${r.status}: ${r.stderr.trim()}`);
  return parseKbench(r.stdout);
}

/** Model-comparable measurements: a 4K fault populates a page; a THP fault populates a PMD's worth of memory. */
export function kernelMeasurements(out: KbenchOutput): Measurement[] {
  const ms: Measurement[] = [];
  const pagesPer = out.pmdSize / out.pageSize;
  for (const run of out.runs) {
    const pages = run.bytes / out.pageSize;
    if (run.mode === "fork") {
      ms.push(fromRates("kernel.fork.anon.4k", "forks", { pages }, run.reps.map((r) => 1 / (r.forkNs / 1e9))));
      continue;
    }
    if (run.mode === "split") {
      // A skipped run (no debugfs) measures nothing; kernelNotes says why.
      if (run.reps.length > 0) ms.push(fromRates("kernel.split.pmd", "folios", { pages: pagesPer }, run.reps.map((r) => r.split / (r.splitNs / 1e9))));
      continue;
    }
    if (run.mode === "collapse") {
      // One operation per 2M range collapsed, as the model's collapse.madv.pmd.
      const ranges = run.bytes / out.pmdSize;
      ms.push(fromRates("kernel.collapse.madv.pmd", "collapses", { pages: pagesPer }, run.reps.map((r) => ranges / (r.collapseNs / 1e9))));
      continue;
    }
    const kind = run.mode === "4k" ? "4k" : "pmd";
    const faults = run.mode === "4k" ? pages : run.bytes / out.pmdSize;
    ms.push(
      fromRates(
        `kernel.fault.anon.${kind}`,
        "faults",
        { pages: run.mode === "4k" ? 1 : pagesPer },
        run.reps.map((r) => faults / (r.faultNs / 1e9)),
      ),
    );
    ms.push(
      fromRates(
        `kernel.munmap.${kind}`,
        "pages",
        {},
        run.reps.map((r) => pages / (r.munmapNs / 1e9)),
      ),
    );
  }
  return ms;
}

function hugeFractionOf(run: KbenchRun): number | undefined {
  if (run.mode !== "thp" && run.mode !== "4k" && run.mode !== "collapse") return undefined;
  if (run.reps.some((r) => r.anonHugeBytes < 0)) return undefined;
  return medianOf(run.reps.map((r) => r.anonHugeBytes / run.bytes).sort((a, b) => a - b));
}

/** The notes that qualify the kernel's figures. */
export function kernelNotes(out: KbenchOutput): string[] {
  const notes: string[] = [];
  const thp = out.runs.find((r) => r.mode === "thp");
  const base = out.runs.find((r) => r.mode === "4k");
  const collapse = out.runs.find((r) => r.mode === "collapse");
  if (collapse !== undefined) {
    const frac = hugeFractionOf(collapse);
    if (frac !== undefined && frac < 0.99) notes.push(`MADV_COLLAPSE left only ${(frac * 100).toFixed(1)}% of its range mapped huge (AnonHugePages)`);
  }
  const selected = /\[(\w+)\]/.exec(out.thpEnabled)?.[1];
  if (thp !== undefined) {
    const frac = hugeFractionOf(thp);
    if (!out.thpAvailable) notes.push("THP is unavailable on this kernel (no /sys/kernel/mm/transparent_hugepage): the THP run used 4K pages, so kernel.fault.anon.pmd is 2 MiB populated by 512 4K faults");
    else if (selected === "never") notes.push("THP enabled=never on this machine: MADV_HUGEPAGE has no effect, the THP run used 4K pages");
    if (frac === undefined) notes.push("AnonHugePages could not be read from /proc/self/smaps: how much of the THP run was huge is unknown");
    else if (frac < 0.99) notes.push(`only ${(frac * 100).toFixed(1)}% of the THP run was mapped huge (AnonHugePages): the rest took 4K faults`);
    else notes.push(`THP: ${(frac * 100).toFixed(1)}% of the THP run was mapped huge (AnonHugePages; enabled=${selected ?? out.thpEnabled})`);
  }
  const split = out.runs.find((r) => r.mode === "split");
  if (split?.mode === "split" && split.skipped !== undefined) notes.push(`split skipped: ${split.skipped} (kernel.split.pmd and ratio.split.pmd are not produced)`);
  else if (split?.mode === "split" && split.reps.some((r) => r.split * out.pmdSize < split.bytes)) notes.push("debugfs split_huge_pages split fewer THPs than the range held: not all of it was mapped huge");
  if (base?.mode === "4k") {
    const pages = base.bytes / out.pageSize;
    const flt = medianOf(base.reps.map((r) => r.minflt).sort((a, b) => a - b));
    if (flt < pages * 0.99) notes.push(`the 4K run took ${flt} minor faults for ${pages} pages`);
  }
  return notes;
}

/**
 * Compile and run kbench at `sizes`. No C compiler: skipped, with the reason.
 * A compile or run error: failed, with the error (the metrics are then missing).
 */
export function measureKernel(sizes: KernelSizes, reps: number, cc: Compiler | { readonly missing: string } = findCompiler()): KernelSide {
  if ("missing" in cc) return { status: "skipped", reason: cc.missing };
  try {
    const out = runKbench(compileKbench(cc), reps, sizes);
    const thp = out.runs.find((r) => r.mode === "thp");
    return {
      status: "measured",
      compiler: cc.version,
      thpEnabled: out.thpEnabled,
      hugeFraction: thp === undefined ? undefined : hugeFractionOf(thp),
      measurements: kernelMeasurements(out),
      notes: kernelNotes(out),
      output: out,
    };
  } catch (e) {
    return { status: "failed", reason: (e as Error).message };
  }
}
