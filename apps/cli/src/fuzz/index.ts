// The fuzzer behind `hugemm fuzz`: random valid operation sequences, run with the invariant checker, shrunk to a reproducer.
export { fuzz, sequenceSeed, type FuzzOptions, type FuzzReport, type FuzzFinding } from "./fuzz";
export { formatFuzzReport } from "./format";
export { generate, type GenerateOptions } from "./generate";
export { runCase, type CaseRun, type Failure, type FailureKind, type RunCaseOptions } from "./run";
export { shrink, DEFAULT_SHRINK_RUNS, type ShrinkOracle, type ShrinkOptions, type ShrinkResult } from "./shrink";
export { sameFailure, invalidAt } from "./oracle";
export { caseName, toScenario, type FuzzCase } from "./case";
export { archProfile, type ArchProfile } from "./profile";
export { signature } from "./signature";
