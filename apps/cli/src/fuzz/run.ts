import { runScenario, ScenarioError, type RunOptions, type Scenario } from "@hugemm/scenario";
import { toScenario, type FuzzCase } from "./case";
import { signature } from "./signature";

/**
 * How a sequence failed. `violation`: the invariant checker (or a
 * ModelBug) stopped the run. `crash`: the model threw anything else (a
 * TypeError, a RangeError): a bug in the model. `generator`: the scenario
 * runner refused the sequence (a ScenarioError): a bug in the generator.
 */
export type FailureKind = "violation" | "crash" | "generator";

export interface Failure {
  readonly kind: FailureKind;
  readonly message: string;
  /** What stays the same while a sequence shrinks: the kind and the message with numbers masked. */
  readonly signature: string;
  /** Index of the step it failed at (-1: before the first step). */
  readonly step: number;
  /** For a crash: where it was thrown (the top frames of the stack). */
  readonly where?: string;
}

export interface CaseRun {
  /** Steps started. */
  readonly steps: number;
  readonly failure?: Failure;
}

export interface RunCaseOptions {
  readonly kernelFactory?: RunOptions["kernelFactory"];
  /** Called before each step. */
  onStep?(i: number, total: number): void;
}

const STEP_FIELD = /^steps\[(\d+)\]/;

function failure(kind: FailureKind, message: string, step: number, where?: string): Failure {
  return { kind, message, signature: `${kind}: ${signature(message)}`, step, ...(where === undefined ? {} : { where }) };
}

/** The top frames of an error's stack, without the message. */
function topFrames(e: Error, n = 3): string | undefined {
  const frames = (e.stack ?? "").split("\n").filter((l) => /^\s+at /.test(l)).slice(0, n).map((l) => l.trim());
  return frames.length === 0 ? undefined : frames.join("\n");
}

/** Run a case with the invariant checker on after every operation, and say whether and how it failed. */
export function runCase(c: FuzzCase, opts: RunCaseOptions = {}): CaseRun {
  return runChecked(() => toScenario(c), opts);
}

/** Run the scenario `load` returns (reading it may fail too), checked, and classify how it failed. */
export function runChecked(load: () => Scenario, opts: RunCaseOptions = {}): CaseRun {
  let current = -1;
  try {
    const r = runScenario(load(), {
      check: true,
      ...(opts.kernelFactory === undefined ? {} : { kernelFactory: opts.kernelFactory }),
      onStep(i, total) {
        current = i;
        opts.onStep?.(i, total);
      },
    });
    if (r.violation === undefined) return { steps: current + 1 };
    return { steps: r.violation.step + 1, failure: failure("violation", r.violation.message, r.violation.step) };
  } catch (e) {
    if (e instanceof ScenarioError) {
      const m = STEP_FIELD.exec(e.field);
      return { steps: current + 1, failure: failure("generator", e.message, m === null ? current : Number(m[1])) };
    }
    const err = e instanceof Error ? e : new Error(String(e));
    const where = topFrames(err);
    return { steps: current + 1, failure: failure("crash", `${err.name}: ${err.message}`, current, where) };
  }
}
