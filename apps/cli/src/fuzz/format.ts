import { makeStyle } from "../style";
import { stepLine } from "./flow";
import type { FuzzReport } from "./fuzz";

const KIND_TITLE = { violation: "INVARIANT VIOLATION", crash: "CRASH", generator: "FUZZER BUG (a sequence the scenario runner refused)" } as const;

/**
 * What `hugemm fuzz` prints: what was run, and for a finding what failed,
 * where, how far it shrank, and the minimal steps one per line.
 */
export function formatFuzzReport(r: FuzzReport, opts: { color: boolean }): string {
  const c = makeStyle(opts.color);
  const out: string[] = [];
  const last = r.seed + r.sequences - 1;
  const seeds = r.sequences === 1 ? `seed ${r.seed}` : `seeds ${r.seed}..${last}`;
  out.push(c.bold(`fuzz on ${r.archId}: ${r.sequences} of ${r.runs} sequence${r.runs === 1 ? "" : "s"} of ${r.ops} steps (${seeds}), ${r.steps} steps run with the invariant checker after every operation`));
  const f = r.finding;
  if (f === undefined) {
    out.push(c.green("no violation, crash or refused sequence found"));
    return `${out.join("\n")}\n`;
  }
  const where = f.originalSteps === 0 ? "before the first step" : `at step ${f.originalSteps - 1}`;
  out.push(c.red(`${KIND_TITLE[f.kind]} in sequence ${f.sequence} (seed ${f.seed}) ${where}:`));
  for (const line of f.message.split("\n")) out.push(`  ${line}`);
  if (f.where !== undefined) for (const line of f.where.split("\n")) out.push(c.dim(`    ${line}`));
  const budget = f.shrinkExhausted ? c.yellow(" (the shrink budget ran out: it may not be minimal)") : "";
  out.push(`shrunk from ${f.originalSteps} to ${f.minimalSteps.length} step${f.minimalSteps.length === 1 ? "" : "s"} in ${f.shrinkRuns} run${f.shrinkRuns === 1 ? "" : "s"}${budget}:`);
  f.minimalSteps.forEach((s, i) => out.push(`  ${c.dim(String(i).padStart(2))}  ${stepLine(s)}`));
  if (!f.reproduces) out.push(c.yellow("the reproducer scenario did not fail the same way when read back and run"));
  return `${out.join("\n")}\n`;
}
