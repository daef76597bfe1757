import type { RunResult } from "./types";

const ANSI = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

function paint(on: boolean): (c: keyof typeof ANSI, s: string) => string {
  return on ? (c, s) => `\x1b[${ANSI[c]}m${s}\x1b[0m` : (_c, s) => s;
}

/**
 * What `hugemm run` prints: a header, one line per step (its result and what
 * it did), each expect with PASS/FAIL and the value found, a violation if one
 * stopped the run, and the totals.
 */
export function formatRunSummary(r: RunResult, opts: { color: boolean }): string {
  const c = paint(opts.color);
  const s = r.scenario;
  const out: string[] = [];
  out.push(c("bold", `${s.name} on ${r.archId}, seed ${r.seed}`) + (s.description === undefined ? "" : c("dim", ` — ${s.description}`)));
  const opWidth = Math.max(4, ...r.steps.map((x) => x.op.length));
  const lineWidth = Math.max(4, ...r.steps.map((x) => String(x.line).length));
  const resultOf = (x: (typeof r.steps)[number]): string => (x.ok ? "ok" : x.error ?? "failed");
  // Errors such as MIGRATION_WAIT are wider than the usual errno.
  const resultWidth = Math.min(15, Math.max(8, ...r.steps.map((x) => resultOf(x).length + 1)));
  out.push(c("dim", `${"step".padStart(4)}  ${"line".padStart(lineWidth)}  ${"op".padEnd(opWidth)}  result`));
  for (const x of r.steps) {
    const expectedErr = x.expectedError !== undefined;
    const result = resultOf(x);
    const colour = x.ok ? (expectedErr ? "yellow" : "green") : expectedErr && x.error === x.expectedError ? "green" : "yellow";
    const tag = c(colour, result.padEnd(resultWidth));
    const note = expectedErr ? c("dim", ` (expects ${x.expectedError})`) : "";
    const text = `${x.detail === undefined ? "" : ` ${x.detail}`}${note}`;
    const row = `${String(x.index).padStart(4)}  ${String(x.line).padStart(lineWidth)}  ${x.op.padEnd(opWidth)}  ${text === "" ? c(colour, result) : tag + text}`;
    out.push(row);
  }
  if (r.violation !== undefined) {
    const step = r.steps[r.steps.length - 1];
    out.push(c("red", `INVARIANT VIOLATION at step ${r.violation.step}${step === undefined ? "" : ` (${step.op}, line ${step.line})`}: ${r.violation.message}`));
  }
  if (r.expects.length > 0) {
    out.push(c("bold", "expects"));
    for (const e of r.expects) {
      const verdict = e.pass ? c("green", "PASS") : c("red", "FAIL");
      out.push(`  ${verdict}  line ${e.line}  ${e.clause}  ${c(e.pass ? "dim" : "red", e.message)}`);
    }
  }
  const failedSteps = r.steps.filter((x) => !x.ok).length;
  const expectedErrors = r.steps.filter((x) => !x.ok && x.error === x.expectedError).length;
  const passedExpects = r.expects.filter((e) => e.pass).length;
  const failedExpects = r.expects.length - passedExpects;
  const totals = `${r.steps.length} of ${s.steps.length} steps run, ${failedSteps} with errors${expectedErrors > 0 ? ` (${expectedErrors} expected)` : ""}; ${r.expects.length} expects: ${passedExpects} passed, ${failedExpects} failed`;
  out.push(`${totals}${r.violation === undefined ? "" : "; stopped by an invariant violation"} — ${r.passed ? c("green", "PASSED") : c("red", "FAILED")}`);
  return out.join("\n") + "\n";
}
