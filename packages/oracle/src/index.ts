// The kernel oracle: a scenario on the machine's own kernel, diffed against the model.
export { kdiff, unavailableReason, OracleUnavailable, KernelRunError, type KdiffOptions, type KdiffResult, type KdiffSummary } from "./kdiff";
export { compareCheckpoint, compareSteps, modelJudged, DAMON_UNJUDGED, FORKED_SHOWN, type Unjudged, JUDGED_GLOBALS, JUDGED_VMSTAT, JUDGED_MEMINFO, SHOWN_GLOBALS, STATUS_JUDGED, STATUS_SHOWN, ROLLUP_JUDGED, type FieldRow } from "./compare";
export { encodeScenario, settingPath, SETTING_FILES, EncodeError, type Encoding, type Unsupported } from "./encode";
export { parseKernelOutput, type KernelOutput } from "./kernel-output";
export { pageToken, encodeRuns, decodeRuns, censusFromRecords, censusFromBytes, censusSummary } from "./census";
export { modelCheckpoint, modelProcView, modelPageToken } from "./model-views";
export { probeMachine, type MachineProbe } from "./machine";
export { findCompiler, compileKexec, compileNative, type Compiler } from "./native/compile";
export { runExecutor, executorArgs, type ExecutorPaths } from "./native/run";
export { formatKdiff, kdiffJson, type KdiffJson } from "./format";
export type { CheckpointView, ProcView, RangeView, VmaView, SideRun, StepView } from "./views";
export { readMachineThpSettings, applyMachineThpSettings, selectedValue } from "./machine-settings";
