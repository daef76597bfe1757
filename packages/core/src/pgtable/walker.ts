import { PTE, entryRegs, type ArchBackend, type Level, type TableGeometry } from "@hugemm/arch";
import type { PageTables } from "./tables";

/** How a walk ended. */
export const WALK_OK = 0;
/** A table on the way is missing and allocation was not asked for. */
export const WALK_NONE = 1;
/** A table could not be allocated. */
export const WALK_ENOMEM = 2;
/** A leaf (huge mapping) sits at a level above the one asked for; the cursor points at it. */
export const WALK_LEAF = 3;
/** A non-present entry (a PMD migration entry, a device-private entry, ...) sits above; the cursor points at it. */
export const WALK_SOFTLEAF = 4;
/** An entry the kernel would call pXd_bad. */
export const WALK_BAD = 5;
export type WalkStatus = 0 | 1 | 2 | 3 | 4 | 5;

/** A slot: the table holding an entry, its physical address, and the entry's index and level. */
export class Slot {
  table: Uint32Array = new Uint32Array(0);
  tablePa = -1;
  index = 0;
  level: Level = PTE;
  /** The physical address of the table one level up (the PMD table when level is PTE), or -1. */
  parentPa = -1;
  parentIndex = 0;
}

/**
 * The core's page-table walker for one mm: find the slot of `va` at a level,
 * allocating missing tables when asked (p4d_alloc ... pte_alloc). Tables are
 * linked with pXd_populate as user tables. The last table found at each
 * level is cached (by the span of addresses it covers); `generation`
 * invalidates the caches whenever a table of this mm is freed or a table
 * entry is replaced.
 */
export class Walker {
  readonly tables: readonly TableGeometry[];
  private readonly reg = entryRegs(1);
  generation = 0;
  /** Per level (by table index): the generation, address span, table and parent of the last table found. */
  private readonly cacheGen: Float64Array;
  private readonly cacheBase: Float64Array;
  private readonly cacheEnd: Float64Array;
  private readonly cacheTable: Uint32Array[];
  private readonly cachePa: Float64Array;
  private readonly cacheParentPa: Float64Array;
  private readonly cacheParentIndex: Float64Array;
  /** Per table index: bytes one entry maps, and bytes the whole table maps. */
  private readonly entrySize: Float64Array;
  private readonly tableSpan: Float64Array;
  /** Table index of each level (-1 when the arch has no table at it). */
  private readonly indexOfLevel: Int8Array;
  /** Tables this walker allocated and freed, for the mm's counters. */
  allocated = 0;

  constructor(
    readonly b: ArchBackend,
    readonly pt: PageTables,
    readonly mmId: number,
    public rootPa: number,
  ) {
    const tables = b.geometry.tables;
    this.tables = tables;
    const n = tables.length;
    this.cacheGen = new Float64Array(n).fill(-1);
    this.cacheBase = new Float64Array(n);
    this.cacheEnd = new Float64Array(n);
    this.cacheTable = Array.from({ length: n }, () => new Uint32Array(0));
    this.cachePa = new Float64Array(n).fill(-1);
    this.cacheParentPa = new Float64Array(n).fill(-1);
    this.cacheParentIndex = new Float64Array(n);
    this.entrySize = new Float64Array(n);
    this.tableSpan = new Float64Array(n);
    this.indexOfLevel = new Int8Array(8).fill(-1);
    for (let i = 0; i < n; i++) {
      const t = tables[i]!;
      this.entrySize[i] = 2 ** t.shift;
      this.tableSpan[i] = 2 ** t.shift * t.entries;
      this.indexOfLevel[t.level] = i;
    }
  }

  /** Forget cached tables. */
  invalidate(): void {
    this.generation++;
  }

  /**
   * Walk to the slot of `va` at `level`. Returns WALK_OK with `out` filled,
   * or a status saying where and why the walk stopped (with `out` at that slot).
   */
  find(va: number, level: Level, alloc: boolean, out: Slot, nid = 0): WalkStatus {
    const tables = this.tables;
    // Start from the deepest cached table on the way to `level` that covers `va`.
    let from = 0;
    let tablePa = this.rootPa;
    let parentPa = -1;
    let parentIndex = 0;
    const want = this.indexOfLevel[level]!;
    for (let i = want < 0 ? tables.length - 1 : want; i > 0; i--) {
      if (this.cacheGen[i] === this.generation && va >= this.cacheBase[i]! && va < this.cacheEnd[i]!) {
        from = i;
        tablePa = this.cachePa[i]!;
        parentPa = this.cacheParentPa[i]!;
        parentIndex = this.cacheParentIndex[i]!;
        if (i === want) {
          this.pt.touched?.add(tablePa);
          out.table = this.cacheTable[i]!;
          out.tablePa = tablePa;
          out.index = Math.floor(va / this.entrySize[i]!) & (tables[i]!.entries - 1);
          out.level = level;
          out.parentPa = parentPa;
          out.parentIndex = parentIndex;
          return WALK_OK;
        }
        break;
      }
    }
    const b = this.b;
    const reg = this.reg;
    for (let i = from; i < tables.length; i++) {
      const t = tables[i]!;
      const table = this.pt.get(tablePa);
      const index = Math.floor(va / this.entrySize[i]!) & (t.entries - 1);
      out.table = table;
      out.tablePa = tablePa;
      out.index = index;
      out.level = t.level;
      out.parentPa = parentPa;
      out.parentIndex = parentIndex;
      if (i > 0) {
        const span = this.tableSpan[i]!;
        this.cacheGen[i] = this.generation;
        this.cacheBase[i] = va - (va % span);
        this.cacheEnd[i] = this.cacheBase[i]! + span;
        this.cacheTable[i] = table;
        this.cachePa[i] = tablePa;
        this.cacheParentPa[i] = parentPa;
        this.cacheParentIndex[i] = parentIndex;
      }
      if (t.level === level) return WALK_OK;
      if (t.level < level) return WALK_BAD;
      b.readEntry(table, index, t.level, reg, 0);
      if (b.none(reg, 0, t.level)) {
        if (!alloc) return WALK_NONE;
        const next = tables[i + 1]!;
        const pa = this.pt.alloc(next.level, this.mmId, nid);
        if (pa < 0) return WALK_ENOMEM;
        this.allocated++;
        b.tableEntry(reg, 0, t.level, pa, true);
        b.writeEntry(table, index, t.level, reg, 0);
        parentPa = tablePa;
        parentIndex = index;
        tablePa = pa;
        continue;
      }
      if (b.table(reg, 0, t.level)) {
        parentPa = tablePa;
        parentIndex = index;
        tablePa = b.tablePa(reg, 0, t.level);
        continue;
      }
      if (b.leaf(reg, 0, t.level) || b.transHuge(reg, 0, t.level)) return WALK_LEAF;
      if (b.isSoftleaf(reg, 0, t.level)) return WALK_SOFTLEAF;
      return WALK_BAD;
    }
    return WALK_BAD;
  }

  /** Bytes one entry at `level` maps. */
  levelSize(level: Level): number {
    return 2 ** this.b.geometry.levels[level]!.shift;
  }
}
