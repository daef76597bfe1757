/**
 * The views both sides report at a checkpoint, in the kernel's names and
 * units (kB for sizes, as /proc prints them), so that one comparison reads
 * the model and the machine alike.
 */

/** One /proc/pid/smaps entry overlapping a named range; start and end are bytes from the name's address. */
export interface VmaView {
  readonly start: number;
  readonly end: number;
  readonly perms: string;
  /** Every "Key: value" line in kB (THPeligible as 0/1). */
  readonly fields: Readonly<Record<string, number>>;
  /** VmFlags mnemonics, comma separated. */
  readonly vmFlags: string;
}

/** A range named by `as:`: the VMAs over it and the census of its pages. */
export interface RangeView {
  readonly len: number;
  readonly vmas: readonly VmaView[];
  /** The per-page census, run-length encoded (census.ts). */
  readonly census: string;
}

export interface ProcView {
  /** /proc/pid/status fields (RssAnon, RssFile, RssShmem, VmPTE, HugetlbPages) in kB. */
  readonly status: Readonly<Record<string, number>>;
  /** /proc/pid/smaps_rollup fields in kB. */
  readonly rollup: Readonly<Record<string, number>>;
  readonly ranges: ReadonlyMap<string, RangeView>;
}

export interface CheckpointView {
  readonly name: string;
  /** By scenario pid. */
  readonly procs: ReadonlyMap<number, ProcView>;
  /** /proc/vmstat and /proc/meminfo as read at the checkpoint. */
  readonly vmstat: Readonly<Record<string, number>>;
  readonly meminfo: Readonly<Record<string, number>>;
  /** The judged global counters' change since the previous checkpoint (summed over steps on the kernel side). */
  readonly judged: Readonly<Record<string, number>>;
}

/** How one step ended: "ok", an errno name, a fault, or "unsupported". */
export interface StepView {
  readonly index: number;
  readonly outcome: string;
  readonly detail?: string;
}

/** One side's run: its checkpoints, step outcomes and each process's baseline. */
export interface SideRun {
  readonly checkpoints: readonly CheckpointView[];
  readonly steps: ReadonlyMap<number, StepView>;
  /** status and rollup of each process before the scenario touched it (its own code and buffers on the kernel). */
  readonly baselines: ReadonlyMap<number, { readonly status: Readonly<Record<string, number>>; readonly rollup: Readonly<Record<string, number>> }>;
  /** Which process each forked process was forked from (a child's baseline is its parent's). */
  readonly parents: ReadonlyMap<number, number>;
}
