import { InvariantViolation, Kernel, ModelBug, ModelInputError, type KernelConfig, type Mm } from "@hugemm/core";
import { parseArchSpec } from "./arch";
import { StepContext } from "./context";
import { counters } from "./counters";
import { ScenarioError } from "./errors";
import { counterValue, unknownCounter } from "./expect/evaluate";
import { validateScenario } from "./parse";
import { fileSystem, kernelSetupList, machineField, stepDefinition, type StepOutcome } from "./registry";
import type { ScopeChecker } from "./scope";
import { errorAt } from "./source";
import type { Checkpoint, ExpectResult, RunResult, Scenario, Step, StepResult } from "./types";

export interface RunOptions {
  /** Run on this arch instead of the scenario's (an arch spec such as "arm64:4k-48"). */
  arch?: string;
  /** Use this seed instead of the scenario's. */
  seed?: number;
  /** Settings applied after the scenario's own, before the first step. */
  set?: [string, string][];
  /** The invariant checker after every operation (default true). */
  check?: boolean;
  /**
   * A setting the kernel refuses (a size the arch lacks, a knob a build has
   * not): return true to skip it and go on. For running one scenario on
   * several arches; an unknown key is always an error.
   */
  skipSetting?(key: string, error: ScenarioError): boolean;
  /** Stop right after the checkpoint step of this name, leaving the state there (for reports and walks). */
  stopAfter?: string;
  /** Called at every checkpoint (start and end included) with the live state, for reports made part-way. */
  onCheckpoint?(name: string, state: CheckpointState): void;
  /** Called before each step (progress bars). */
  onStep?(i: number, total: number, step: Step): void;
  /** Builds the kernel (a test double with a planted bug, a subclass with tracing). */
  kernelFactory?(cfg: KernelConfig): Kernel;
}

/** The live state at a checkpoint: read it, do not change it. */
export interface CheckpointState {
  readonly kernel: Kernel;
  readonly processes: ReadonlyMap<number, Mm>;
  readonly names: ReadonlyMap<number, ReadonlyMap<string, number>>;
}

/** Which machine field a kernel configuration error is about. */
const CONFIG_FIELDS: Readonly<Record<string, string>> = { "memory size": "memory", "movable zone size": "movable", "swap size": "swap", "swap size in pages": "swap", seed: "seed" };

function buildKernel(s: Scenario, opts: RunOptions, seed: number): Kernel {
  const spec = opts.arch ?? s.machine.arch;
  let backend;
  try {
    backend = parseArchSpec(spec);
  } catch (e) {
    const msg = (e as Error).message;
    throw opts.arch !== undefined ? new ScenarioError("--arch", 0, 0, "", msg) : errorAt(s.source, s.file, ["machine", "arch"], msg);
  }
  const m = s.machine;
  const cfg: KernelConfig = {
    backend,
    nodes: m.nodes,
    movable: m.movable,
    swap: m.swap,
    ...(m.swapKind === undefined ? {} : { swapKind: m.swapKind }),
    ...(m.kernel === undefined ? {} : { kernelVersion: m.kernel }),
    seed,
    check: opts.check ?? true,
    ...(m.memory === undefined ? {} : { memory: m.memory }),
  };
  try {
    const k = opts.kernelFactory ? opts.kernelFactory(cfg) : new Kernel(cfg);
    for (const [, setup] of kernelSetupList()) setup(k, s);
    for (const [key, value] of Object.entries(m.extra ?? {})) {
      machineField(key)?.apply(k, value, (path, reason) => errorAt(s.source, s.file, ["machine", key, ...path], reason));
    }
    return k;
  } catch (e) {
    if (!(e instanceof ModelInputError)) throw e;
    const field = CONFIG_FIELDS[e.input];
    const path = field === "seed" ? ["seed"] : field === undefined ? ["machine"] : ["machine", field];
    throw errorAt(s.source, s.file, path, `${e.message} (on ${backend.id})`);
  }
}

const PID_COUNTER = /^pid(\d+)\./;

/** Every counter an expect names must exist on this kernel (a process's counters: the process must appear in the scenario). */
function checkCounterNames(s: Scenario, scope: ScopeChecker, start: Record<string, number>): void {
  for (const ref of scope.counterRefs) {
    const m = PID_COUNTER.exec(ref.name);
    const known = m !== null ? scope.everPids.has(Number(m[1])) && counterValue(start, ref.name) !== undefined : ref.name in start;
    if (known) continue;
    const step = s.steps[ref.step];
    const fallback = step !== undefined && step.line > 0 ? { line: step.line, column: step.column ?? 1 } : undefined;
    throw errorAt(s.source, s.file, ref.path, unknownCounter(ref.name, start), false, fallback);
  }
}

/** The index of the checkpoint step named `name`; an error listing the checkpoints when there is none. */
function checkpointStep(s: Scenario, name: string): number {
  const i = s.steps.findIndex((x) => x.op === "checkpoint" && x.arg === name);
  if (i >= 0) return i;
  const names = s.steps.filter((x) => x.op === "checkpoint").map((x) => String(x.arg));
  throw new ScenarioError("--at", 0, 0, "", `no checkpoint "${name}" in ${s.file}: expected ${names.length === 0 ? "a scenario with checkpoint steps (it has none)" : `one of ${names.join(", ")}`}`);
}

/** Run a scenario deterministically: the same scenario, seed and options give the same result. */
export function runScenario(s: Scenario, opts: RunOptions = {}): RunResult {
  const scope = validateScenario(s);
  const last = opts.stopAfter === undefined ? s.steps.length - 1 : checkpointStep(s, opts.stopAfter);
  const seed = opts.seed ?? s.seed;
  const k = buildKernel(s, opts, seed);
  const checkpoints: Checkpoint[] = [];
  const ctx: StepContext = new StepContext(
    k,
    s,
    seed,
    () => counters(k, ctx.processes),
    (name) => {
      const snap = counters(k, ctx.processes);
      checkpoints.push({ name, step: ctx.index, counters: snap });
      ctx.checkpointCounters.set(name, snap);
      opts.onCheckpoint?.(name, { kernel: k, processes: ctx.processes, names: ctx.boundNames() });
      // With checking on, the full invariant check runs at every checkpoint, the start and the end included.
      k.checkpoint(`checkpoint ${name}`);
    },
  );
  const skip = opts.skipSetting;
  if (skip !== undefined) ctx.skipSetting = (key, e) => skip.call(opts, key, e);
  ctx.addProcess(1, k.createMm());
  for (const [key, value] of s.settings) ctx.applySetting(key, value, (reason) => errorAt(s.source, s.file, ["settings", key], reason));
  for (const [key, value] of opts.set ?? []) ctx.applySetting(key, value, (reason) => new ScenarioError("--set", 0, 0, key, reason));
  // Files after the settings: a hugetlbfs mount's min_size reserves from the pool the settings sized.
  for (const [name, f] of Object.entries(s.files)) {
    try {
      const fs = f.hugetlbfs !== undefined ? fileSystem("hugetlbfs") : undefined;
      ctx.files.set(name, fs !== undefined ? fs(k, name, f.size, f.hugetlbfs) : k.createFile(name, f.size, { ...(f.shmem === undefined ? {} : { shmem: f.shmem }), ...(f.seed === undefined ? {} : { seed: f.seed }) }));
    } catch (e) {
      if (e instanceof ModelInputError) throw errorAt(s.source, s.file, ["files", name], e.message);
      throw e;
    }
  }
  ctx.checkpoint("start");
  checkCounterNames(s, scope, checkpoints[0]!.counters);

  const results: StepResult[] = [];
  const expects: ExpectResult[] = ctx.expects;
  let violation: RunResult["violation"];
  const total = last + 1;
  for (let i = 0; i < total; i++) {
    const step = s.steps[i]!;
    opts.onStep?.(i, total, step);
    ctx.index = i;
    ctx.step = step;
    const def = stepDefinition(step.op)!;
    const arg = step.arg === null && def.schema.safeParse({}).success ? {} : step.arg;
    let out: StepOutcome;
    try {
      out = def.run(ctx, def.schema.parse(arg), step);
    } catch (e) {
      if (e instanceof InvariantViolation || e instanceof ModelBug) {
        const message = e instanceof ModelBug ? `model bug: ${e.message}` : e.message;
        violation = { step: i, message };
        results.push({ index: i, line: step.line, op: step.op, ok: false, error: e.name, detail: message });
        break;
      }
      if (e instanceof ModelInputError) throw ctx.error("", e.message);
      throw e;
    }
    results.push({
      index: i,
      line: step.line,
      op: step.op,
      ok: out.ok,
      ...(out.error === undefined ? {} : { error: out.error }),
      ...(out.detail === undefined ? {} : { detail: out.detail }),
      ...(step.expectError === undefined ? {} : { expectedError: step.expectError }),
    });
    if (step.expectError !== undefined) {
      const actual = out.error ?? "success";
      const pass = actual === step.expectError;
      expects.push({
        step: i,
        line: ctx.lineOf(["expectError"], step),
        kind: "expectError",
        clause: `${step.op} expectError: ${step.expectError}`,
        pass,
        expected: step.expectError,
        actual,
        message: `${step.op} ended with ${actual}${pass ? "" : `, expected ${step.expectError}`}`,
      });
    }
    if (step.expectOk === true) {
      const actual = out.error ?? "success";
      const pass = out.ok;
      expects.push({
        step: i,
        line: ctx.lineOf(["expectOk"], step),
        kind: "expectOk",
        clause: `${step.op} expectOk: true`,
        pass,
        expected: "success",
        actual,
        message: `${step.op} ${pass ? "succeeded" : `ended with ${actual}${out.detail === undefined ? "" : ` (${out.detail})`}, expected success`}`,
      });
    }
  }
  ctx.index = violation === undefined ? total : violation.step;
  ctx.step = null;
  try {
    ctx.checkpoint("end");
  } catch (e) {
    // The state a violation left may not add up; the counters at the point it broke are what the run reports.
    if (violation === undefined) throw e;
  }
  return {
    scenario: s,
    archId: k.backend.id,
    seed,
    kernel: k,
    processes: ctx.processes,
    names: ctx.boundNames(),
    steps: results,
    checkpoints,
    expects,
    passed: violation === undefined && expects.every((x) => x.pass),
    ...(violation === undefined ? {} : { violation }),
    ...(opts.stopAfter === undefined ? {} : { stoppedAt: opts.stopAfter }),
  };
}
