import type { FileSpec, MachineSpec, Scenario, Step } from "@hugemm/scenario";

/**
 * One generated sequence: the machine, the settings applied before the
 * first step, the files it may map, and the steps, each as a scenario
 * writes it (sizes like "64K", addresses like "m3+2M").
 */
export interface FuzzCase {
  /** The arch spec it was generated for. */
  readonly arch: string;
  /** Seed of the generator and of the kernel (the scenario's `seed:`). */
  readonly seed: number;
  readonly machine: MachineSpec;
  readonly settings: readonly (readonly [string, string])[];
  readonly files: Readonly<Record<string, FileSpec>>;
  readonly steps: readonly Step[];
}

/** The scenario name of a case: fuzz-<arch>-seed-<seed> ("fuzz-arm64-4k-seed-7"). */
export function caseName(c: Pick<FuzzCase, "arch" | "seed">): string {
  const arch = c.arch.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return `fuzz-${arch}-seed-${c.seed}`;
}

/** The case as a scenario the runner takes, without going through text. */
export function toScenario(c: FuzzCase): Scenario {
  const name = caseName(c);
  return {
    name,
    file: `${name}.yaml`,
    machine: c.machine,
    seed: c.seed,
    settings: c.settings.map(([k, v]) => [k, v]),
    files: c.files,
    steps: [...c.steps],
  };
}

/** A step built in code (no source line). */
export function step(op: string, arg: unknown): Step {
  return { op, arg, line: 0 };
}
