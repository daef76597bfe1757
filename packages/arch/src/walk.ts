import type { DescribedEntry } from "./describe";
import type { Level } from "./level";

/** Resolves the physical address of a table to its storage. */
export interface TableStore {
  /** The storage of the table at `pa`, or undefined if no table lives there. */
  tableAt(pa: number): Uint32Array | undefined;
}

/** The access a hardware walk checks permissions for. */
export interface WalkAccess {
  readonly write?: boolean;
  readonly exec?: boolean;
  /** User-mode access (default true). */
  readonly user?: boolean;
}

/** One step of a hardware walk: the entry read at one table. */
export interface WalkStep {
  /** The logical level of the entry (the lowest level folded into this table). */
  readonly level: Level;
  readonly tablePa: number;
  readonly index: number;
  /** Physical address of the entry itself. */
  readonly entryPa: number;
  readonly raw: bigint;
  readonly described: DescribedEntry;
}

export type WalkFault =
  /** The entry at some level is not valid for the MMU (none, softleaf, protnone, invalid). */
  | "translation"
  /** The mapping exists but does not permit the access. */
  | "permission"
  /** arm64 without hardware AF management: AF clear. (The model assumes FEAT_HAFDBS, so this is reported only when asked for.) */
  | "access-flag"
  /** A table pointer leads to memory that holds no table, or an encoding the MMU rejects. */
  | "bad-table"
  /** Reserved bits are set in an entry the MMU reads. */
  | "reserved";

export interface HardwareTranslation {
  readonly ok: true;
  readonly va: number;
  readonly pa: number;
  /** The leaf's level. */
  readonly level: Level;
  /** Bytes the leaf maps (4K, 2M, 1G, 8xx 16K/512K/8M, arm64 64K cont counts as its base size). */
  readonly pageSize: number;
  /** Bytes one TLB entry covers for this translation (a contiguous run counts once). */
  readonly tlbSize: number;
  readonly read: boolean;
  readonly write: boolean;
  readonly exec: boolean;
  readonly user: boolean;
  readonly young: boolean;
  readonly dirty: boolean;
  /** What hardware would update on this access: set the access flag, set dirty. */
  readonly setsYoung: boolean;
  readonly setsDirty: boolean;
  readonly steps: readonly WalkStep[];
}

export interface HardwareFault {
  readonly ok: false;
  readonly va: number;
  readonly fault: WalkFault;
  readonly level: Level;
  readonly reason: string;
  readonly steps: readonly WalkStep[];
}

export type HardwareWalk = HardwareTranslation | HardwareFault;

/** A simple TableStore for tests, demos and tools: tables allocated at increasing physical addresses. */
export class TableMemory implements TableStore {
  private readonly tables = new Map<number, Uint32Array>();
  private next: number;

  /** `basePa` is where the first table goes; it must be page aligned. */
  constructor(basePa = 0x10_0000) {
    this.next = basePa;
  }

  /** Allocate a zeroed table of `bytes` (aligned to its size) and return its physical address. */
  alloc(bytes: number): number {
    const pa = Math.ceil(this.next / bytes) * bytes;
    this.next = pa + bytes;
    this.tables.set(pa, new Uint32Array(bytes / 4));
    return pa;
  }

  tableAt(pa: number): Uint32Array | undefined {
    return this.tables.get(pa);
  }

  /** The table at `pa`, throwing if there is none. */
  get(pa: number): Uint32Array {
    const t = this.tables.get(pa);
    if (t === undefined) throw new RangeError(`no table at physical address 0x${pa.toString(16)}`);
    return t;
  }

  get count(): number {
    return this.tables.size;
  }
}
