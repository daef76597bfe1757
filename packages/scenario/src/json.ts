import type { Checkpoint, ExpectResult, StepResult } from "./types";
import type { RunResult } from "./types";

/** A run result as plain data (no kernel): what `hugemm run --json` prints. */
export interface RunResultJson {
  readonly scenario: { readonly name: string; readonly file: string; readonly description?: string };
  readonly archId: string;
  readonly seed: number;
  readonly passed: boolean;
  readonly steps: readonly StepResult[];
  readonly checkpoints: readonly Checkpoint[];
  readonly expects: readonly ExpectResult[];
  readonly violation?: { readonly step: number; readonly message: string };
  readonly stoppedAt?: string;
}

export function runResultJson(r: RunResult): RunResultJson {
  const s = r.scenario;
  return {
    scenario: { name: s.name, file: s.file, ...(s.description === undefined ? {} : { description: s.description }) },
    archId: r.archId,
    seed: r.seed,
    passed: r.passed,
    steps: r.steps,
    checkpoints: r.checkpoints,
    expects: r.expects,
    ...(r.violation === undefined ? {} : { violation: r.violation }),
    ...(r.stoppedAt === undefined ? {} : { stoppedAt: r.stoppedAt }),
  };
}
