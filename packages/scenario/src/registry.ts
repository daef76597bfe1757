import type { AddressSpace, Kernel, Mm } from "@hugemm/core";
import type { z } from "zod";
import type { StepContext } from "./context";
import type { ScopeCheck } from "./scope";
import type { Scenario, Step } from "./types";
import { installBuiltins } from "./builtins";

/** What running a step produced: success, or the errno/fault it ended with, and what it did in words. */
export interface StepOutcome {
  readonly ok: boolean;
  readonly error?: string;
  readonly detail?: string;
}

/** A step kind: the schema of its argument and what it does. */
export interface StepDefinition<A = unknown> {
  /** Checks the argument as written (sizes and addresses stay unresolved). */
  readonly schema: z.ZodType<A>;
  run(ctx: StepContext, arg: A, step: Step): StepOutcome;
  /**
   * Check the processes, names, pins and checkpoints the step uses or makes,
   * before anything runs. Without it: a `pid` field must name a live process
   * and names in `at`/`to`/`addr` must be bound in it.
   */
  scope?(s: ScopeCheck, arg: A): void;
  /** One line for --help and the README. */
  readonly summary?: string;
}

/** Applies one setting (`key` has the prefix removed); throws a ModelInputError for bad keys or values. */
export type SettingApply = (k: Kernel, key: string, value: string) => void;

/** Reads a family of counters; each key is appended to the source's prefix. */
export type CounterRead = (k: Kernel, processes: ReadonlyMap<number, Mm>) => Record<string, number>;

/** Installs a feature on a scenario's kernel right after it is built, before settings and steps (`k.use(...)`). */
export type KernelSetup = (k: Kernel, scenario: Scenario) => void;

/** Creates a file of a registered file system for a `files:` entry (`spec` is the entry's options under the file system's key). */
export type FileSystemCreate = (k: Kernel, name: string, size: number | string, spec: unknown) => AddressSpace;

const fileSystems = new Map<string, FileSystemCreate>();

/**
 * A field of `machine:` that a feature package defines (`devices:` for
 * ZONE_DEVICE memory): its schema, checked with the rest of the file, and
 * how it configures the kernel once the kernel setups have run. `fail`
 * makes an error located at a path under the field.
 */
export interface MachineFieldDefinition<A = unknown> {
  readonly schema: z.ZodType<A>;
  apply(k: Kernel, value: A, fail: (path: readonly PropertyKey[], reason: string) => Error): void;
  /** One line for the format's documentation. */
  readonly summary?: string;
}

const machineFields = new Map<string, MachineFieldDefinition>();

/** Add a `machine:` field. Names are unique and may not shadow the built-in ones. */
export function registerMachineField<A>(name: string, def: MachineFieldDefinition<A>): void {
  builtins();
  if (!/^[a-z][a-zA-Z0-9]*$/.test(name)) throw new RangeError(`invalid machine field name "${name}": expected a lower-case word`);
  if (["arch", "memory", "nodes", "movable", "swap"].includes(name) || machineFields.has(name)) throw new RangeError(`machine field "${name}" is already defined`);
  machineFields.set(name, def as unknown as MachineFieldDefinition);
}

/** The registered `machine:` field called `name`, or undefined. */
export function machineField(name: string): MachineFieldDefinition | undefined {
  builtins();
  return machineFields.get(name);
}

/** The registered `machine:` fields, in registration order. */
export function machineFieldList(): [string, MachineFieldDefinition][] {
  builtins();
  return [...machineFields];
}

const steps = new Map<string, StepDefinition>();
const kernelSetups = new Map<string, KernelSetup>();
const settings = new Map<string, SettingApply>();
const counterSources = new Map<string, CounterRead>();
let installed = false;

/** The package's own steps, settings and counters go in first, on the first use of any registry. */
function builtins(): void {
  if (installed) return;
  installed = true;
  installBuiltins();
}

/** Add a step kind (a feature package's: `hugetlb_mmap`, `khugepaged_scan`, ...). Names are unique. */
export function registerStep<A>(name: string, def: StepDefinition<A>): void {
  builtins();
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new RangeError(`invalid step name "${name}": expected lower-case letters, digits and _`);
  if (steps.has(name)) throw new RangeError(`step "${name}" is already registered`);
  steps.set(name, def as unknown as StepDefinition);
}

/** Add a family of settings: keys starting with `prefix` ("transparent_hugepage/") go to `apply`. The longest matching prefix wins. */
export function registerSetting(prefix: string, apply: SettingApply): void {
  builtins();
  if (prefix === "") throw new RangeError("a setting prefix may not be empty");
  if (settings.has(prefix)) throw new RangeError(`setting prefix "${prefix}" is already registered`);
  settings.set(prefix, apply);
}

/** Add a family of counters named `prefix + key` ("meminfo." + "AnonHugePages"). */
export function registerCounterSource(prefix: string, read: CounterRead): void {
  builtins();
  if (counterSources.has(prefix)) throw new RangeError(`counter source "${prefix}" is already registered`);
  counterSources.set(prefix, read);
}

/** Add a file system `files:` entries can name by key (`hugetlbfs: {...}`). Keys are unique. */
export function registerFileSystem(key: string, create: FileSystemCreate): void {
  builtins();
  if (fileSystems.has(key)) throw new RangeError(`file system "${key}" is already registered`);
  fileSystems.set(key, create);
}

/** The file system registered as `key`. */
export function fileSystem(key: string): FileSystemCreate | undefined {
  builtins();
  return fileSystems.get(key);
}

/** Add a kernel setup (a feature package installing itself on every scenario's kernel). Names are unique. */
export function registerKernelSetup(name: string, setup: KernelSetup): void {
  builtins();
  if (kernelSetups.has(name)) throw new RangeError(`kernel setup "${name}" is already registered`);
  kernelSetups.set(name, setup);
}

/** The kernel setups, in registration order. */
export function kernelSetupList(): [string, KernelSetup][] {
  builtins();
  return [...kernelSetups];
}

export function stepDefinition(name: string): StepDefinition | undefined {
  builtins();
  return steps.get(name);
}

export function stepNames(): string[] {
  builtins();
  return [...steps.keys()].sort();
}

/** The setting family a key belongs to: its prefix and applier, or undefined. */
export function settingFor(key: string): { prefix: string; apply: SettingApply } | undefined {
  builtins();
  let best: { prefix: string; apply: SettingApply } | undefined;
  for (const [prefix, apply] of settings) {
    if (key.startsWith(prefix) && key.length > prefix.length && (best === undefined || prefix.length > best.prefix.length)) best = { prefix, apply };
  }
  return best;
}

export function settingPrefixes(): string[] {
  builtins();
  return [...settings.keys()];
}

export function counterSourceList(): [string, CounterRead][] {
  builtins();
  return [...counterSources];
}
