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
 * linked with pXd_populate as user tables. The last PTE table found is cached;
 * `generation` invalidates the cache whenever a table of this mm is freed or
 * a table entry is replaced.
 */
export class Walker {
  readonly tables: readonly TableGeometry[];
  private readonly reg = entryRegs(1);
  generation = 0;
  private cacheGen = -1;
  private cacheBase = 0;
  private cacheEnd = 0;
  private cacheTable: Uint32Array = new Uint32Array(0);
  private cachePa = -1;
  private cacheParentPa = -1;
  private cacheParentIndex = 0;
  private readonly pteShift: number;
  private readonly pteEntries: number;
  private readonly pteSpan: number;
  /** Tables this walker allocated and freed, for the mm's counters. */
  allocated = 0;

  constructor(
    readonly b: ArchBackend,
    readonly pt: PageTables,
    readonly mmId: number,
    public rootPa: number,
  ) {
    this.tables = b.geometry.tables;
    const t = this.tables[this.tables.length - 1]!;
    this.pteShift = t.shift;
    this.pteEntries = t.entries;
    this.pteSpan = 2 ** t.shift * t.entries;
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
    if (level === PTE && this.cacheGen === this.generation && va >= this.cacheBase && va < this.cacheEnd) {
      out.table = this.cacheTable;
      out.tablePa = this.cachePa;
      out.index = Math.floor(va / 2 ** this.pteShift) & (this.pteEntries - 1);
      out.level = PTE;
      out.parentPa = this.cacheParentPa;
      out.parentIndex = this.cacheParentIndex;
      return WALK_OK;
    }
    const b = this.b;
    const reg = this.reg;
    let tablePa = this.rootPa;
    let parentPa = -1;
    let parentIndex = 0;
    const tables = this.tables;
    for (let i = 0; i < tables.length; i++) {
      const t = tables[i]!;
      const table = this.pt.get(tablePa);
      const index = Math.floor(va / 2 ** t.shift) & (t.entries - 1);
      out.table = table;
      out.tablePa = tablePa;
      out.index = index;
      out.level = t.level;
      out.parentPa = parentPa;
      out.parentIndex = parentIndex;
      if (t.level === level) {
        if (level === PTE) {
          this.cacheGen = this.generation;
          this.cacheBase = va - (va % this.pteSpan);
          this.cacheEnd = this.cacheBase + this.pteSpan;
          this.cacheTable = table;
          this.cachePa = tablePa;
          this.cacheParentPa = parentPa;
          this.cacheParentIndex = parentIndex;
        }
        return WALK_OK;
      }
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
