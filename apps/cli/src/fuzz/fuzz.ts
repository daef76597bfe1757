import { parseScenario, scenarioFromOps, type RunOptions, type Step } from "@hugemm/scenario";
import { caseName, step, type FuzzCase } from "./case";
import { generate } from "./generate";
import { sameFailure } from "./oracle";
import { archProfile } from "./profile";
import { runCase, runChecked, type Failure, type FailureKind } from "./run";
import { DEFAULT_SHRINK_RUNS, shrink } from "./shrink";

export interface FuzzOptions {
  /** Steps per sequence. */
  readonly ops: number;
  /** Sequence i is generated, and its kernel seeded, from seed + i. */
  readonly seed: number;
  /** Arch spec ("x86-64", "arm64:4k", "arm64:64k", "ppc8xx:4k", ...). */
  readonly arch: string;
  /** Sequences to run (default 1); the first failure stops the fuzzing. */
  readonly runs?: number;
  /** Builds each kernel (a test double with a planted bug). */
  readonly kernelFactory?: RunOptions["kernelFactory"];
  /** Budget of shrinking, in runs (default 2000). */
  readonly maxShrinkRuns?: number;
  /** Progress: steps run of all sequences while fuzzing, runs of the budget while shrinking. */
  onProgress?(done: number, total: number, phase: "fuzz" | "shrink"): void;
}

/** A failure found, shrunk, and written as a scenario that reproduces it. */
export interface FuzzFinding {
  readonly kind: FailureKind;
  /** The checker's message, the model bug, or "TypeError: ..." for a crash. */
  readonly message: string;
  /** For a crash: where it was thrown. */
  readonly where?: string;
  /** Which sequence failed (0-based)... */
  readonly sequence: number;
  /** ...and its seed (`--seed` plus the sequence). */
  readonly seed: number;
  /** Steps of the sequence up to the one that failed. */
  readonly originalSteps: number;
  readonly minimalSteps: Step[];
  /** Runs shrinking took. */
  readonly shrinkRuns: number;
  /** Shrinking stopped at its budget: the steps may not be minimal. */
  readonly shrinkExhausted: boolean;
  /** The reproducer's scenario name, fuzz-<arch>-seed-<seed> (a file name for it without the .yaml). */
  readonly name: string;
  /** The reproducer: scenario YAML, ending with `expect: [invariants: clean]`. */
  readonly scenario: string;
  /** Parsing `scenario` back and running it fails the same way (checked before reporting). */
  readonly reproduces: boolean;
}

export interface FuzzReport {
  readonly arch: string;
  /** The backend's id ("x86-64:4level"). */
  readonly archId: string;
  readonly ops: number;
  readonly seed: number;
  /** Sequences asked for. */
  readonly runs: number;
  /** Sequences run (fewer than `runs` when one failed). */
  readonly sequences: number;
  /** Steps run over all sequences. */
  readonly steps: number;
  readonly finding?: FuzzFinding;
}

const SEEDS = 2 ** 32;

/** The seed of sequence `i` of a fuzz run from `seed`: `hugemm fuzz --seed <it>` generates that sequence first. */
export function sequenceSeed(seed: number, i: number): number {
  return (seed + i) % SEEDS;
}

function checkOptions(o: FuzzOptions): void {
  if (!Number.isSafeInteger(o.ops) || o.ops < 1) throw new RangeError(`ops is ${o.ops}: expected a whole number of steps, at least 1`);
  if (!Number.isSafeInteger(o.seed) || o.seed < 0 || o.seed >= SEEDS) throw new RangeError(`seed is ${o.seed}: expected a whole number in [0, 2^32)`);
  const runs = o.runs ?? 1;
  if (!Number.isSafeInteger(runs) || runs < 1) throw new RangeError(`runs is ${runs}: expected a whole number of sequences, at least 1`);
}

/** The first line of a message, at most `n` characters. */
function brief(message: string, n = 160): string {
  const line = message.split("\n")[0]!;
  return line.length > n ? `${line.slice(0, n - 1)}…` : line;
}

const KIND_WORDS: Readonly<Record<FailureKind, string>> = { violation: "an invariant violation", crash: "a crash of the model", generator: "a sequence the scenario runner refused (a fuzzer bug)" };

/** The reproducer's text: the minimal steps, then a clean invariant check. */
function reproducer(c: FuzzCase, f: Failure, o: FuzzOptions, sequence: number, from: number): string {
  const name = caseName(c);
  const description =
    `hugemm fuzz found ${KIND_WORDS[f.kind]}: ${brief(f.message)}. ` +
    `Sequence ${sequence} of \`hugemm fuzz --arch ${o.arch} --ops ${o.ops} --seed ${o.seed}\` (its seed ${c.seed}), shrunk from ${from} to ${c.steps.length} steps. ` +
    "Re-run: hugemm run <this file>";
  const steps = [...c.steps, step("expect", [{ invariants: "clean" }])];
  return scenarioFromOps(name, c.machine, c.settings, steps, { description, seed: c.seed, files: c.files });
}


/**
 * Run `runs` random sequences of `ops` steps on `arch` with the invariant
 * checker on after every operation. The first that fails (a violation, a
 * crash, or a sequence the runner refuses) is shrunk to a minimal sequence
 * failing the same way and written as a scenario that reproduces it.
 * Deterministic: the same options give the same report.
 */
export function fuzz(o: FuzzOptions): FuzzReport {
  checkOptions(o);
  const profile = archProfile(o.arch);
  const runs = o.runs ?? 1;
  const total = runs * o.ops;
  const factory = o.kernelFactory === undefined ? {} : { kernelFactory: o.kernelFactory };
  let steps = 0;
  for (let i = 0; i < runs; i++) {
    const c = generate({ arch: o.arch, ops: o.ops, seed: sequenceSeed(o.seed, i) });
    const done = steps;
    const r = runCase(c, { ...factory, onStep: (j) => o.onProgress?.(done + j, total, "fuzz") });
    steps += r.steps;
    o.onProgress?.(Math.min(total, (i + 1) * o.ops), total, "fuzz");
    const f = r.failure;
    if (f === undefined) continue;
    const failing: FuzzCase = { ...c, steps: c.steps.slice(0, f.step + 1) };
    // A refused sequence is reported as generated: shrinking needs sequences the runner accepts.
    const s =
      f.kind === "generator"
        ? { case: failing, runs: 0, exhausted: false }
        : shrink(failing, sameFailure(f, factory), profile, { maxRuns: o.maxShrinkRuns ?? DEFAULT_SHRINK_RUNS, onRun: (n, max) => o.onProgress?.(n, max, "shrink") });
    // The minimal case's own failure (its pfns and counts), read back from the reproducer's text.
    const first = reproducer(s.case, f, o, i, failing.steps.length);
    const replay = runChecked(() => parseScenario(first, `${caseName(c)}.yaml`), factory).failure;
    const same = replay !== undefined && replay.signature === f.signature;
    const shown = same ? replay : f;
    const scenario = same ? reproducer(s.case, shown, o, i, failing.steps.length) : first;
    const finding: FuzzFinding = {
      kind: f.kind,
      message: shown.message,
      ...(shown.where === undefined ? {} : { where: shown.where }),
      sequence: i,
      seed: c.seed,
      originalSteps: failing.steps.length,
      minimalSteps: [...s.case.steps],
      shrinkRuns: s.runs,
      shrinkExhausted: s.exhausted,
      name: caseName(c),
      scenario,
      reproduces: same,
    };
    return { arch: o.arch, archId: profile.id, ops: o.ops, seed: o.seed, runs, sequences: i + 1, steps, finding };
  }
  return { arch: o.arch, archId: profile.id, ops: o.ops, seed: o.seed, runs, sequences: runs, steps };
}
