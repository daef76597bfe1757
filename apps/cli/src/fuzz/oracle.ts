import { ScenarioError, validateScenario } from "@hugemm/scenario";
import { toScenario, type FuzzCase } from "./case";
import { runCase, type Failure, type RunCaseOptions } from "./run";
import type { ShrinkOracle } from "./shrink";

const STEP_FIELD = /^steps\[(\d+)\]/;

/** Scope checking of a case: null when valid, else the step it rejects (-1: not a step). */
export function invalidAt(c: FuzzCase): number | null {
  try {
    validateScenario(toScenario(c));
    return null;
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    const m = STEP_FIELD.exec(e.field);
    return m === null ? -1 : Number(m[1]);
  }
}

/** The oracle that keeps a candidate when it fails as `target` did: the same kind and signature. */
export function sameFailure(target: Failure, opts: RunCaseOptions = {}): ShrinkOracle {
  return {
    invalidAt,
    failsAt(c) {
      const f = runCase(c, opts).failure;
      return f !== undefined && f.signature === target.signature ? f.step : null;
    },
  };
}
