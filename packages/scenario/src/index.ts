// The scenario format: types, parsing and errors.
export type { Scenario, Step, MachineSpec, FileSpec, RunResult, StepResult, Checkpoint, ExpectResult } from "./types";
export { parseScenario, loadScenario, validateScenario, EXPECTABLE_ERRORS } from "./parse";
export { ScenarioError, formatScenarioError } from "./errors";
export type { SourceMap, SourcePos } from "./source";
export { parseArchSpec } from "./arch";
export { parseAddressExpr, resolveAddressExpr, type AddressExpr } from "./address";

// Running and reporting.
export { runScenario, type RunOptions, type CheckpointState } from "./run";
export { counters } from "./counters";
export { formatRunSummary } from "./summary";
export { runResultJson, type RunResultJson } from "./json";
export { scenarioFromOps, type ScenarioExtras } from "./emit";

// Extension points for feature packages.
export { registerStep, registerSetting, registerCounterSource, registerKernelSetup, registerFileSystem, fileSystem, type FileSystemCreate, kernelSetupList, stepNames, stepDefinition, settingPrefixes, type StepDefinition, type StepOutcome, type SettingApply, type CounterRead, type KernelSetup } from "./registry";
export { registerMachineField, machineField, machineFieldList, type MachineFieldDefinition } from "./registry";
export { StepContext, type HeldPin } from "./context";
export { ScopeChecker, type ScopeCheck, type CounterRef } from "./scope";
export * as fields from "./fields";

// The encodings of step arguments, for tools that replay steps elsewhere (the kernel oracle).
export { MAP_FLAGS, MREMAP_FLAGS, ADVICE, protBits, flagBits } from "./flags";
export { settingText } from "./steps/control";
