import type { Kernel, KernelVersion, Mm } from "@hugemm/core";
import type { SourceMap } from "./source";

/** The machine a scenario runs on. Sizes are byte counts or size strings ("4G"). */
export interface MachineSpec {
  /** An arch spec: "x86-64", "x86-64:5level", "arm64:4k-48", "arm64:64k", "ppc8xx:16k". */
  readonly arch: string;
  /** Total memory; absent means the kernel's default (16G, or half the arch's physical space when that is smaller). */
  readonly memory?: number | string;
  readonly nodes: number;
  /** ZONE_MOVABLE per node. */
  readonly movable: number | string;
  readonly swap: number | string;
  /** The swap device's kind: block (the default) or zram (synchronous: swap-in may skip the swap cache). */
  readonly swapKind?: "block" | "zram";
  /** Fields feature packages define (registerMachineField), as written. */
  readonly extra?: Readonly<Record<string, unknown>>;
  /** The kernel whose /proc layout the views print (default 6.18). */
  readonly kernel?: KernelVersion;
}

/** A file declared under `files:`: a regular file of `size` bytes, or a shmem/tmpfs file. */
export interface FileSpec {
  readonly size: number | string;
  readonly shmem?: boolean;
  /** Seed of the file's initial contents (default: drawn from the kernel's generator). */
  readonly seed?: number;
  /** A file on its own hugetlbfs mount with these options (pagesize=, size=, min_size=). */
  readonly hugetlbfs?: { readonly pagesize?: number | string; readonly size?: number | string; readonly min_size?: number | string };
}

/** One step: its name, its argument as written (sizes and addresses unresolved), and where it is. */
export interface Step {
  readonly op: string;
  readonly arg: unknown;
  /** 1-based source line, 0 when the step was built in code. */
  readonly line: number;
  readonly column?: number;
  /** The errno or fault the step must end with (ENOMEM, EINVAL, SIGSEGV, ...). */
  readonly expectError?: string;
  /** The step must succeed: no errno, no fault. */
  readonly expectOk?: true;
}

export interface Scenario {
  readonly name: string;
  readonly description?: string;
  /** The file it was read from ("<inline>" for text). */
  readonly file: string;
  readonly machine: MachineSpec;
  readonly seed: number;
  /** THP and feature settings as key/value pairs, applied in order before the first step. */
  readonly settings: [string, string][];
  readonly files: Record<string, FileSpec>;
  readonly steps: Step[];
  /** Positions of every field in the source, for errors found while running. */
  readonly source?: SourceMap;
}

/** What running one step did. */
export interface StepResult {
  readonly index: number;
  readonly line: number;
  readonly op: string;
  /** The call succeeded (no errno, no fault). */
  readonly ok: boolean;
  /** The errno ("EINVAL") or fault ("SIGSEGV") it ended with. */
  readonly error?: string;
  /** What it did, in words ("mapped at 0x7f0000000000", "512 pages, 1 fault"), or why it failed. */
  readonly detail?: string;
  /** The step's expectError, when it has one. */
  readonly expectedError?: string;
}

/** Every counter at a point of the run. `step` is the checkpoint step's index; "start" is -1 and "end" the step count. */
export interface Checkpoint {
  readonly name: string;
  readonly step: number;
  readonly counters: Record<string, number>;
}

/** One expect clause (or a step's expectError) and how it came out. */
export interface ExpectResult {
  /** Index of the expect step (or of the step with expectError). */
  readonly step: number;
  readonly line: number;
  /** counter, mapped, folios, entries, data, smaps, pagemap, pin, invariants, expectError or expectOk. */
  readonly kind: string;
  /** The clause as written, in YAML flow style. */
  readonly clause: string;
  readonly pass: boolean;
  readonly expected: string | number;
  readonly actual: string | number;
  /** One line saying what was checked and what was found. */
  readonly message: string;
}

export interface RunResult {
  readonly scenario: Scenario;
  readonly archId: string;
  readonly seed: number;
  /** The kernel in its final state. */
  readonly kernel: Kernel;
  /** The live processes at the end, by scenario pid. */
  readonly processes: ReadonlyMap<number, Mm>;
  /** The names each live process has bound with `as:`, and their addresses. */
  readonly names: ReadonlyMap<number, ReadonlyMap<string, number>>;
  /** The checkpoint the run stopped after (RunOptions.stopAfter), when it stopped early. */
  readonly stoppedAt?: string;
  readonly steps: StepResult[];
  readonly checkpoints: Checkpoint[];
  readonly expects: ExpectResult[];
  /** Every expect passed and no invariant broke. A step's errno alone never fails a run. */
  readonly passed: boolean;
  /** The broken invariant (or model bug) that stopped the run. */
  readonly violation?: { readonly step: number; readonly message: string };
}
