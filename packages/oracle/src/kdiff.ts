import { Kernel, lruAddDrain, type KernelConfig } from "@hugemm/core";
import { runScenario, validateScenario, type RunResult, type Scenario } from "@hugemm/scenario";
import { compareCheckpoint, compareSteps, DAMON_UNJUDGED, JUDGED_GLOBALS, MACHINE_WIDE_STEPS, modelJudged, type FieldRow } from "./compare";
import { encodeScenario, type Unsupported } from "./encode";
import type { KernelOutput } from "./kernel-output";
import { probeMachine, type MachineProbe } from "./machine";
import { applyMachineThpSettings, readMachineThpSettings } from "./machine-settings";
import { modelCheckpoint } from "./model-views";
import { nameLengthsAt, scenarioShape } from "./names";
import { compileKexec, findCompiler, type Compiler } from "./native/compile";
import { runExecutor, type ExecutorPaths } from "./native/run";
import type { CheckpointView, SideRun, StepView } from "./views";

/** The oracle cannot run on this machine at all (not Linux, no compiler, not root). */
export class OracleUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OracleUnavailable";
  }
}

/** The kernel stopped the run: a setting it rejected, a process that died. The settings were restored. */
export class KernelRunError extends Error {
  constructor(
    readonly step: number,
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = "KernelRunError";
  }
}

export interface KdiffOptions {
  /** Builds the model's kernel (a test double with a planted divergence). */
  kernelFactory?(cfg: KernelConfig): Kernel;
  /** The invariant checker on the model side (default true). */
  check?: boolean;
  probe?: MachineProbe;
  compiler?: Compiler | { readonly missing: string };
  /** A compiled executor to use instead of compiling one. */
  executor?: string;
  paths?: ExecutorPaths;
  /** The machine's THP settings the model starts from (default: read from sysfs). */
  machineSettings?: readonly (readonly [string, string])[];
}

export interface KdiffSummary {
  readonly compared: number;
  readonly equal: number;
  readonly different: number;
  /** Fields shown, not judged. */
  readonly shown: number;
}

export interface KdiffResult {
  readonly scenario: Scenario;
  readonly rows: readonly FieldRow[];
  readonly unsupported: readonly Unsupported[];
  /** Checkpoints the kernel side did not reach (after an unsupported step). */
  readonly notCompared: readonly string[];
  readonly summary: KdiffSummary;
  readonly model: RunResult;
  readonly kernel: KernelOutput;
}

/** Why the oracle cannot run here, or null. */
export function unavailableReason(probe: MachineProbe, cc: Compiler | { readonly missing: string }): string | null {
  if (!probe.linux) return `the kernel oracle needs Linux (this is ${process.platform})`;
  if ("missing" in cc) return cc.missing;
  if (!probe.root) return "not root: the census reads /proc/kpageflags and pagemap PFNs, and settings are written to sysfs, which need root";
  return null;
}

/**
 * The model kernel built like the machine's (its build options) and set up
 * like it (its THP settings, before the scenario's own), through the
 * caller's factory when there is one.
 */
function modelFactory(opts: KdiffOptions, build: Readonly<Record<string, number>>, settings: readonly (readonly [string, string])[], built: (k: Kernel) => void): (cfg: KernelConfig) => Kernel {
  return (cfg) => {
    const c: KernelConfig = build.softdirty === undefined ? cfg : { ...cfg, memSoftDirty: build.softdirty === 1 };
    const k = opts.kernelFactory ? opts.kernelFactory(c) : new Kernel(c);
    applyMachineThpSettings(k, settings);
    built(k);
    return k;
  };
}

/** Run the scenario on the model, collecting each checkpoint's views. */
function runModel(s: Scenario, opts: KdiffOptions, build: Readonly<Record<string, number>>, settings: readonly (readonly [string, string])[]): { result: RunResult; side: SideRun } {
  const { parents, checkpointStep } = scenarioShape(s);
  const views: Omit<CheckpointView, "judged">[] = [];
  let kernel: Kernel | undefined;
  const result = runScenario(s, {
    check: opts.check ?? true,
    kernelFactory: modelFactory(opts, build, settings, (k) => (kernel = k)),
    // The executor drains its CPU's LRU batches after every step: so does the model, before the next one.
    onStep() {
      if (kernel !== undefined) lruAddDrain(kernel);
    },
    onCheckpoint(name, st) {
      views.push(modelCheckpoint(name, st.kernel, st.processes, st.names, nameLengthsAt(s, checkpointStep.get(name) ?? -1)));
    },
  });
  const steps = new Map<number, StepView>();
  for (const r of result.steps) steps.set(r.index, { index: r.index, outcome: r.ok ? "ok" : (r.error ?? "error"), ...(r.detail === undefined ? {} : { detail: r.detail }) });
  // A model process starts empty: its baseline is nothing.
  return { result, side: { checkpoints: modelJudged(views), steps, baselines: new Map(), parents } };
}

function summarize(rows: readonly FieldRow[]): KdiffSummary {
  let compared = 0;
  let equal = 0;
  for (const r of rows) {
    if (!r.judged) continue;
    compared++;
    if (r.equal) equal++;
  }
  return { compared, equal, different: compared - equal, shown: rows.length - compared };
}

/**
 * Run `s` on the model and on the machine's kernel and compare every view
 * at every checkpoint both reached. Throws OracleUnavailable when the
 * machine cannot run it, KernelRunError when the kernel stopped the run.
 */
export function kdiff(s: Scenario, opts: KdiffOptions = {}): KdiffResult {
  const probe = opts.probe ?? probeMachine();
  let binary = opts.executor;
  if (binary === undefined) {
    const cc = opts.compiler ?? findCompiler();
    const why = unavailableReason(probe, cc);
    if (why !== null) throw new OracleUnavailable(why);
    binary = compileKexec(cc as Compiler);
  }
  // Bad input is found before the machine is touched.
  validateScenario(s);
  const enc = encodeScenario(s, probe, JUDGED_GLOBALS);
  // Read before the run: the executor changes them while it runs and puts them back after.
  const settings = opts.machineSettings ?? readMachineThpSettings();
  const raw = runExecutor(binary, enc.lines, opts.paths);
  const model = runModel(s, opts, raw.build, settings);
  const { parents, checkpointStep } = scenarioShape(s);
  const kernel: KernelOutput = { ...raw, parents };
  if (kernel.fatal !== undefined) {
    const line = s.steps[kernel.fatal.step]?.line ?? 0;
    const where = kernel.fatal.step < 0 ? "setup" : `step ${kernel.fatal.step} (${s.steps[kernel.fatal.step]?.op ?? "?"}, ${s.file}:${line})`;
    throw new KernelRunError(kernel.fatal.step, line, `the kernel stopped the run at ${where}: ${kernel.fatal.message}; the machine's settings were restored`);
  }
  const rejected = [...kernel.steps.values()].find((v) => v.outcome !== "ok" && v.outcome !== "unsupported" && s.steps[v.index]?.op === "set");
  const setupRejected = kernel.steps.get(-1);
  for (const bad of [setupRejected, rejected]) {
    if (bad === undefined || bad.outcome === "ok" || bad.outcome === "unsupported") continue;
    const line = s.steps[bad.index]?.line ?? 0;
    throw new KernelRunError(bad.index, line, `the kernel rejected a setting at ${bad.index < 0 ? "setup" : `step ${bad.index} (${s.file}:${line})`}: ${bad.outcome} ${bad.detail ?? ""}; the original value was restored`.trim());
  }
  const rows: FieldRow[] = [...compareSteps(model.side, kernel, s.steps.map((x) => x.op))];
  const notCompared: string[] = [];
  const kByName = new Map(kernel.checkpoints.map((c, i) => [c.name, i]));
  model.side.checkpoints.forEach((m, i) => {
    const ki = kByName.get(m.name);
    const at = checkpointStep.get(m.name) ?? -1;
    if (ki === undefined || (enc.stopAt !== undefined && at >= enc.stopAt)) {
      notCompared.push(m.name);
      return;
    }
    const k = kernel.checkpoints[ki]!;
    const from = i === 0 ? -1 : (checkpointStep.get(model.side.checkpoints[i - 1]!.name) ?? -1);
    const wide = s.steps.slice(from + 1, Math.max(at, from + 1)).find((x) => MACHINE_WIDE_STEPS[x.op] !== undefined);
    rows.push(...compareCheckpoint(m, k, model.side.checkpoints[i - 1], kernel.checkpoints[ki - 1], model.side, kernel, wide && `a machine-wide step in this interval: ${MACHINE_WIDE_STEPS[wide.op]}`, probe.damon ? DAMON_UNJUDGED : {}));
  });
  return { scenario: s, rows, unsupported: enc.unsupported, notCompared, summary: summarize(rows), model: model.result, kernel };
}
