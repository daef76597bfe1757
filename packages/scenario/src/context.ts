import { ModelInputError, Rng, parseSize, type AddressSpace, type GupResult, type Kernel, type MigrationJob, type Mm } from "@hugemm/core";
import { addressExpr, resolveAddressExpr } from "./address";
import type { ScenarioError } from "./errors";
import { settingFor, settingPrefixes } from "./registry";
import { errorAt, locate } from "./source";
import type { ExpectResult, Scenario, Step } from "./types";

/** A pin held by a `pin` step until its `unpin`. */
export interface HeldPin {
  readonly pid: number;
  /** The first pinned page's address. */
  readonly start: number;
  readonly res: GupResult;
  readonly flags: number;
  readonly write: boolean;
}

/** A name bound by `as:` in one process: its address, or why it has none (its mmap failed). */
type Binding = { readonly addr: number } | { readonly failed: string };

/**
 * What a step runs in: the kernel, the processes by scenario pid, the names
 * each has bound, pins, files, checkpoints, and a generator seeded from the
 * scenario's seed (apart from the kernel's own). Errors it raises name the
 * running step's field and source line.
 */
export class StepContext {
  readonly rng: Rng;
  /** The step running now. */
  index = -1;
  step: Step | null = null;
  private readonly procs = new Map<number, Mm>();
  private readonly names = new Map<number, Map<string, Binding>>();
  /** Processes a failed fork never made, and why. */
  private readonly unborn = new Map<number, string>();
  readonly pins = new Map<string, HeldPin>();
  /** Migrations held with their folios behind migration entries, until migrate_finish. */
  readonly migrations = new Map<string, MigrationJob>();
  readonly files = new Map<string, AddressSpace>();
  /** Counter snapshots by checkpoint name. */
  readonly checkpointCounters = new Map<string, Record<string, number>>();
  readonly expects: ExpectResult[] = [];

  constructor(
    readonly k: Kernel,
    readonly scenario: Scenario,
    seed: number,
    /** Snapshot of every counter now. */
    readonly counters: () => Record<string, number>,
    /** Record a checkpoint. */
    readonly checkpoint: (name: string) => void,
  ) {
    // Steps' own choices must not disturb the kernel's generator.
    this.rng = new Rng((seed ^ 0x5ce7a210) >>> 0);
  }

  /** Live processes by scenario pid. */
  get processes(): ReadonlyMap<number, Mm> {
    return this.procs;
  }

  /** A ScenarioError at `field` of the running step ("len", "expect.0.pid", ...). */
  error(field: string | readonly PropertyKey[], reason: string): ScenarioError {
    const step = this.step;
    const rel = typeof field === "string" ? (field === "" ? [] : field.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p))) : field;
    const path = step === null ? rel : ["steps", this.index, step.op, ...rel];
    const fallback = step === null || step.line === 0 ? undefined : { line: step.line, column: step.column ?? 1 };
    return errorAt(this.scenario.source, this.scenario.file, path, reason, false, fallback);
  }

  /** The source line of a field of the running step (its own line when the field has none). */
  lineOf(field: readonly PropertyKey[], step: Step): number {
    const fallback = step.line === 0 ? undefined : { line: step.line, column: step.column ?? 1 };
    return locate(this.scenario.source, ["steps", this.index, step.op, ...field], false, fallback).line;
  }

  /** The process `pid`, which must be alive. */
  mm(pid: number, field = "pid"): Mm {
    const mm = this.procs.get(pid);
    if (mm !== undefined) return mm;
    const why = this.unborn.get(pid);
    if (why !== undefined) throw this.error(field, `process ${pid} does not exist: ${why}`);
    throw this.error(field, `unknown process ${pid}: expected a live pid (${this.procs.size === 0 ? "none is alive" : [...this.procs.keys()].join(", ")})`);
  }

  /** Process `pid` was never made (its fork failed): using it is an error saying `why`. */
  markUnborn(pid: number, why: string): void {
    this.unborn.set(pid, why);
  }

  /** A new process under scenario pid `pid`, inheriting `parent`'s names (fork) or none (spawn). */
  addProcess(pid: number, mm: Mm, parent?: number): void {
    this.procs.set(pid, mm);
    this.names.set(pid, new Map(parent === undefined ? [] : this.names.get(parent)));
  }

  removeProcess(pid: number): void {
    this.procs.delete(pid);
    this.names.delete(pid);
  }

  /** Bind `name` in process `pid` to `addr`, or record that the mmap meant to bind it failed with `failed`. */
  bind(pid: number, name: string, addr: number, failed?: string): void {
    let m = this.names.get(pid);
    if (m === undefined) this.names.set(pid, (m = new Map()));
    m.set(name, failed === undefined ? { addr } : { failed });
  }

  /** The addresses bound in each live process (names whose mmap failed are left out). */
  boundNames(): Map<number, ReadonlyMap<string, number>> {
    const out = new Map<number, ReadonlyMap<string, number>>();
    for (const [pid, m] of this.names) {
      const named = new Map<string, number>();
      for (const [name, b] of m) if ("addr" in b) named.set(name, b.addr);
      out.set(pid, named);
    }
    return out;
  }

  /** Bytes from a number or size string. */
  size(v: number | string, field: string): number {
    try {
      return parseSize(field, v);
    } catch (e) {
      throw this.error(field, e instanceof ModelInputError ? `expected ${e.expected}` : String(e));
    }
  }

  /** An address expression resolved in process `pid`. */
  address(pid: number, v: number | string, field: string): number {
    const e = addressExpr(v);
    let base: number;
    if (typeof e.base === "number") base = e.base;
    else {
      const b = this.names.get(pid)?.get(e.base);
      if (b === undefined) throw this.error(field, `unknown name "${e.base}" in process ${pid}: expected a name bound by an earlier mmap or mremap "as:"`);
      if ("failed" in b) throw this.error(field, `name "${e.base}" has no address in process ${pid}: ${b.failed}`);
      base = b.addr;
    }
    const a = resolveAddressExpr(e, base);
    if (!Number.isSafeInteger(a) || a < 0) throw this.error(field, `address ${String(v)} is ${a}: expected a non-negative address`);
    return a;
  }

  /** A file declared under `files:`. */
  file(name: string, field: string): AddressSpace {
    const f = this.files.get(name);
    if (f === undefined) throw this.error(field, `unknown file "${name}": expected one declared under files:`);
    return f;
  }

  /** Decides whether a setting this kernel refuses is skipped rather than an error (RunOptions.skipSetting). */
  skipSetting: ((key: string, error: ScenarioError) => boolean) | null = null;

  /** Apply one setting now; a bad key or value is an error made by `at` from the reason. */
  applySetting(key: string, value: string, at: (reason: string) => ScenarioError): void {
    const s = settingFor(key);
    if (s === undefined) throw at(`unknown setting "${key}": expected a key starting with ${settingPrefixes().map((p) => `"${p}"`).join(", ")}`);
    try {
      s.apply(this.k, key.slice(s.prefix.length), value);
    } catch (e) {
      if (!(e instanceof ModelInputError)) throw e;
      const err = at(e.message);
      if (this.skipSetting?.(key, err) !== true) throw err;
    }
  }
}
