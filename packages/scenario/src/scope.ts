import { addressExpr } from "./address";
import type { ScenarioError } from "./errors";
import { errorAt, type SourceMap, type SourcePos } from "./source";

/** A counter an expect clause names, checked against the kernel's counters when the run starts. */
export interface CounterRef {
  readonly name: string;
  readonly step: number;
  readonly path: readonly PropertyKey[];
}

/**
 * Walks a scenario's steps before anything runs and follows what they make:
 * live processes, the names each has bound, pins and checkpoints. A step
 * that uses one that does not exist yet is an error at its field.
 */
export class ScopeChecker {
  /** Live pid -> names bound in it. */
  readonly live = new Map<number, Set<string>>([[1, new Set()]]);
  /** Every pid that ever lives. */
  readonly everPids = new Set<number>([1]);
  readonly checkpoints = new Set<string>(["start"]);
  /** Handles held by name: pins (pin/unpin) and held migrations (migrate hold/migrate_finish). */
  readonly held = { pin: new Set<string>(), migration: new Set<string>() };
  readonly counterRefs: CounterRef[] = [];
  private base: PropertyKey[] = [];
  private fallback: SourcePos | undefined;
  step = -1;

  constructor(
    private readonly sourceFile: string,
    private readonly source: SourceMap | undefined,
    readonly files: ReadonlySet<string>,
    readonly nodes: number,
  ) {}

  /** Point the checker at step `i`, whose argument sits at `base` (["steps", i, op]). */
  at(i: number, base: PropertyKey[], fallback?: SourcePos): void {
    this.step = i;
    this.base = base;
    this.fallback = fallback;
  }

  error(field: string | readonly PropertyKey[], reason: string): ScenarioError {
    const rel = typeof field === "string" ? (field === "" ? [] : field.split(".")) : field;
    return errorAt(this.source, this.sourceFile, [...this.base, ...rel], reason, false, this.fallback);
  }

  private livePids(): string {
    return this.live.size === 0 ? "none is alive" : `one of ${[...this.live.keys()].join(", ")}`;
  }

  /** The process must be alive here. */
  pid(pid: number, field: string | readonly PropertyKey[] = "pid"): void {
    if (!this.live.has(pid)) throw this.error(field, `unknown process ${pid}: expected a live pid (${this.livePids()})`);
  }

  /** An address written in process `pid` must use only names bound there. */
  address(pid: number, v: unknown, field: string | readonly PropertyKey[]): void {
    if (typeof v !== "number" && typeof v !== "string") return;
    const e = addressExpr(v);
    if (typeof e.base !== "string") return;
    const names = this.live.get(pid);
    if (names === undefined || !names.has(e.base)) {
      const known = names === undefined || names.size === 0 ? "none is bound yet" : `bound: ${[...names].join(", ")}`;
      throw this.error(field, `unknown name "${e.base}" in process ${pid}: expected a name bound by an earlier mmap or mremap "as:" (${known})`);
    }
  }

  bind(pid: number, name: string): void {
    this.live.get(pid)?.add(name);
  }

  /** A new process: empty, or with a copy of `parent`'s names. */
  addPid(pid: number, field: string, parent?: number): void {
    if (this.live.has(pid)) throw this.error(field, `process ${pid} already exists: expected a pid not in use (live: ${[...this.live.keys()].join(", ")})`);
    this.live.set(pid, new Set(parent === undefined ? [] : this.live.get(parent)));
    this.everPids.add(pid);
  }

  removePid(pid: number): void {
    this.live.delete(pid);
  }

  defineCheckpoint(name: string, field: string | readonly PropertyKey[]): void {
    if (this.checkpoints.has(name)) throw this.error(field, `checkpoint "${name}" already exists: expected a new name`);
    this.checkpoints.add(name);
  }

  since(name: string, field: string | readonly PropertyKey[]): void {
    if (!this.checkpoints.has(name)) throw this.error(field, `unknown checkpoint "${name}": expected "start" or an earlier checkpoint (${[...this.checkpoints].join(", ")})`);
  }

  /** A pin or held migration taken under `name`. */
  take(kind: "pin" | "migration", name: string, field: string): void {
    const set = this.held[kind];
    if (set.has(name)) throw this.error(field, `${kind} "${name}" is already held: expected a new name, or release it first`);
    set.add(name);
  }

  /** A pin or held migration released by `name`. */
  release(kind: "pin" | "migration", name: string, field: string): void {
    const set = this.held[kind];
    if (!set.has(name)) throw this.error(field, `unknown ${kind} "${name}": expected a ${kind} held here (${set.size === 0 ? "none" : [...set].join(", ")})`);
    set.delete(name);
  }

  file(name: string, field: string): void {
    if (!this.files.has(name)) throw this.error(field, `unknown file "${name}": expected one declared under files: (${this.files.size === 0 ? "none is" : [...this.files].join(", ")})`);
  }

  node(nid: number, field: string): void {
    if (nid >= this.nodes) throw this.error(field, `unknown node ${nid}: expected a node id in [0, ${this.nodes - 1}] (machine.nodes is ${this.nodes})`);
  }

  counter(name: string, field: readonly PropertyKey[]): void {
    this.counterRefs.push({ name, step: this.step, path: [...this.base, ...field] });
  }

  /** The default check of a step: its `pid` is live and the names in `at`, `to` and `addr` are bound. */
  generic(arg: unknown): void {
    if (arg === null || typeof arg !== "object" || Array.isArray(arg)) return;
    const a = arg as Record<string, unknown>;
    if (typeof a.pid !== "number") return;
    this.pid(a.pid);
    for (const f of ["at", "to", "addr"]) if (f in a) this.address(a.pid, a[f], f);
  }
}

/** The interface steps see when checking their scope. */
export type ScopeCheck = ScopeChecker;
