import { spawnSync } from "node:child_process";
import { parseKernelOutput, type KernelOutput } from "../kernel-output";

/** Where the executor keeps its machine-wide lock and its settings journal, and what it prefixes settings paths with. */
export interface ExecutorPaths {
  /** Prefix of every settings path (tests point it at a fake sysfs tree). */
  readonly sysroot?: string;
  readonly lock?: string;
  readonly journal?: string;
  /** Leave khugepaged's scan interval alone (default: paused for the run). */
  readonly noQuiesce?: boolean;
}

export function executorArgs(p: ExecutorPaths): string[] {
  const args: string[] = [];
  if (p.sysroot !== undefined) args.push("--sysroot", p.sysroot);
  if (p.lock !== undefined) args.push("--lock", p.lock);
  if (p.journal !== undefined) args.push("--journal", p.journal);
  if (p.noQuiesce === true) args.push("--no-quiesce");
  return args;
}

/** Run the executor on `lines` and parse what it printed. A crash or a signal throws with its stderr. */
export function runExecutor(binary: string, lines: readonly string[], paths: ExecutorPaths = {}, timeoutMs = 120_000): KernelOutput {
  const r = spawnSync(binary, executorArgs(paths), { input: `${lines.join("\n")}\n`, encoding: "utf8", timeout: timeoutMs, maxBuffer: 1 << 28 });
  if (r.error !== undefined) throw new Error(`running ${binary}: ${r.error.message}`);
  if (r.signal !== null) throw new Error(`${binary} was killed by ${r.signal}${r.stderr ? `: ${r.stderr.trim()}` : ""}`);
  if (r.status !== 0 && r.status !== 1) throw new Error(`${binary} exited with ${r.status}: ${r.stderr.trim()}`);
  return parseKernelOutput(r.stdout);
}
