import type { DescribedEntry } from "./describe";
import type { Geometry } from "./geometry";
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

/**
 * The MMU's translation of one address without the explained steps, for
 * bulk use (TLB coverage, views, traces): filled in place by
 * ArchBackend.translate, so that one object serves any number of calls.
 * Field for field what walk() reports, plus the TLB entry the translation
 * would fill. On a fault only `va`, `fault` and `level` are meaningful and
 * `reason` is empty: walk() explains.
 */
export class Translation {
  ok = false;
  va = 0;
  pa = 0;
  level: Level = 0 as Level;
  pageSize = 0;
  tlbSize = 0;
  /** The virtual and physical base of the TLB entry (the leaf, or the whole contiguous run). */
  tlbVa = 0;
  tlbPa = 0;
  read = false;
  write = false;
  exec = false;
  user = false;
  young = false;
  dirty = false;
  setsYoung = false;
  setsDirty = false;
  fault: WalkFault | null = null;
  reason = "";

  /** Record a fault at `level`; returns false, for `return t.fail(...)`. */
  fail(va: number, fault: WalkFault, level: Level, reason: string): false {
    this.ok = false;
    this.va = va;
    this.fault = fault;
    this.level = level;
    this.reason = reason;
    return false;
  }

  /** Record a translation of `va` to `pa` by a leaf at `level` of `pageSize` bytes, in a TLB entry of `tlbSize`. */
  leaf(va: number, pa: number, level: Level, pageSize: number, tlbSize: number): void {
    this.ok = true;
    this.va = va;
    this.pa = pa;
    this.level = level;
    this.pageSize = pageSize;
    this.tlbSize = tlbSize;
    const off = va % tlbSize;
    this.tlbVa = va - off;
    this.tlbPa = pa - off;
    this.fault = null;
    this.reason = "";
  }

  /** Record the permissions and the access and dirty state of the leaf; returns true. */
  perms(read: boolean, write: boolean, exec: boolean, user: boolean, young: boolean, dirty: boolean, setsYoung: boolean, setsDirty: boolean): true {
    this.read = read;
    this.write = write;
    this.exec = exec;
    this.user = user;
    this.young = young;
    this.dirty = dirty;
    this.setsYoung = setsYoung;
    this.setsDirty = setsDirty;
    return true;
  }
}

/** The explained walk made of a translation and the steps read on the way. */
export function hardwareWalkOf(t: Translation, steps: readonly WalkStep[]): HardwareWalk {
  if (!t.ok) return { ok: false, va: t.va, fault: t.fault ?? "translation", level: t.level, reason: t.reason, steps };
  return {
    ok: true,
    va: t.va,
    pa: t.pa,
    level: t.level,
    pageSize: t.pageSize,
    tlbSize: t.tlbSize,
    read: t.read,
    write: t.write,
    exec: t.exec,
    user: t.user,
    young: t.young,
    dirty: t.dirty,
    setsYoung: t.setsYoung,
    setsDirty: t.setsDirty,
    steps,
  };
}

/** Fill `out` from an explained walk (the translate of a backend that has no faster one). */
export function translationOf(w: HardwareWalk, out: Translation): boolean {
  if (!w.ok) return out.fail(w.va, w.fault, w.level, w.reason);
  out.leaf(w.va, w.pa, w.level, w.pageSize, w.tlbSize);
  return out.perms(w.read, w.write, w.exec, w.user, w.young, w.dirty, w.setsYoung, w.setsDirty);
}

/**
 * What a translation reads of each table of a geometry, top-down, as typed
 * arrays: the bytes one entry maps (the divisor of its index), the index
 * mask, the level, whether it may hold a leaf, its contiguous-run length.
 * A backend makes it once; a hot walk then reads no geometry objects.
 */
export interface WalkPlan {
  readonly tables: number;
  /** 2^vaBits: the bytes of virtual address the tables translate. */
  readonly vaSpan: number;
  readonly entrySize: Float64Array;
  readonly mask: Int32Array;
  readonly level: Uint8Array;
  readonly leafAllowed: Uint8Array;
  readonly contEntries: Int32Array;
}

export function walkPlan(g: Geometry): WalkPlan {
  const n = g.tables.length;
  const plan = { tables: n, vaSpan: 2 ** g.vaBits, entrySize: new Float64Array(n), mask: new Int32Array(n), level: new Uint8Array(n), leafAllowed: new Uint8Array(n), contEntries: new Int32Array(n) };
  g.tables.forEach((t, i) => {
    plan.entrySize[i] = 2 ** t.shift;
    plan.mask[i] = t.entries - 1;
    plan.level[i] = t.level;
    plan.leafAllowed[i] = t.leafAllowed ? 1 : 0;
    plan.contEntries[i] = t.contEntries;
  });
  return plan;
}
