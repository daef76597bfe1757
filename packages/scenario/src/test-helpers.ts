import { parseScenario } from "./parse";
import { runScenario, type RunOptions } from "./run";
import type { RunResult } from "./types";

/** Parse and run scenario text (tests). */
export function runText(text: string, opts: RunOptions = {}): RunResult {
  return runScenario(parseScenario(text, "test.yaml"), opts);
}

/** Each expect as [kind, pass, actual] (tests). */
export function verdicts(r: RunResult): [string, boolean, string | number][] {
  return r.expects.map((e) => [e.kind, e.pass, e.actual]);
}
