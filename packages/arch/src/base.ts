import type { ArchBackend, HugeSize } from "./backend";
import type { Capabilities } from "./capabilities";
import type { DescribedEntry } from "./describe";
import { entryRegs, type EntryReg } from "./entry";
import { ArchInputError } from "./errors";
import type { Geometry } from "./geometry";
import { type Level, PTE } from "./level";
import type { ProtIndex } from "./prot";
import type { SoftleafFormat } from "./softleaf";
import type { PageTableContext } from "./tlb";
import { translationOf, type HardwareWalk, type TableStore, type Translation, type WalkAccess } from "./walk";

/**
 * The generic page-table operations every arch gets unless it overrides them:
 * one entry at a time, built from the backend's own entry algebra and raw
 * table access, as include/linux/pgtable.h does for arches without
 * contiguous-bit management. Huge sizes of a single slot are plain entries.
 */
export abstract class ArchBackendBase implements ArchBackend {
  readonly specificationVersion = "v1" as const;
  abstract readonly arch: string;
  abstract readonly variant: string;
  abstract readonly description: string;
  abstract readonly geometry: Geometry;
  abstract readonly capabilities: Capabilities;
  abstract readonly softleaf: SoftleafFormat;
  abstract readonly swapOffsetBits: number;
  abstract readonly hugeSizes: readonly HugeSize[];

  /** Scratch registers for the generic operations (never escape a call). */
  protected readonly scratch: EntryReg = entryRegs(4);

  get id(): string {
    return `${this.arch}:${this.variant}`;
  }

  // ---- algebra: every arch implements its own ------------------------------
  abstract pfnEntry(out: EntryReg, o: number, level: Level, pfn: number, prot: ProtIndex): void;
  abstract mkhuge(v: EntryReg, o: number, level: Level): void;
  abstract tableEntry(out: EntryReg, o: number, level: Level, tablePa: number, user: boolean): void;
  abstract modify(v: EntryReg, o: number, level: Level, prot: ProtIndex): void;
  abstract none(v: EntryReg, o: number, level: Level): boolean;
  abstract present(v: EntryReg, o: number, level: Level): boolean;
  abstract leaf(v: EntryReg, o: number, level: Level): boolean;
  abstract transHuge(v: EntryReg, o: number, level: Level): boolean;
  abstract table(v: EntryReg, o: number, level: Level): boolean;
  abstract bad(v: EntryReg, o: number, level: Level): boolean;
  abstract write(v: EntryReg, o: number, level: Level): boolean;
  abstract dirty(v: EntryReg, o: number, level: Level): boolean;
  abstract young(v: EntryReg, o: number, level: Level): boolean;
  abstract special(v: EntryReg, o: number, level: Level): boolean;
  abstract softDirty(v: EntryReg, o: number, level: Level): boolean;
  abstract uffdWp(v: EntryReg, o: number, level: Level): boolean;
  abstract protnone(v: EntryReg, o: number, level: Level): boolean;
  abstract user(v: EntryReg, o: number, level: Level): boolean;
  abstract exec(v: EntryReg, o: number, level: Level): boolean;
  abstract cont(v: EntryReg, o: number, level: Level): boolean;
  abstract pfn(v: EntryReg, o: number, level: Level): number;
  abstract tablePa(v: EntryReg, o: number, level: Level): number;
  abstract mkwrite(v: EntryReg, o: number, level: Level): void;
  abstract wrprotect(v: EntryReg, o: number, level: Level): void;
  abstract mkdirty(v: EntryReg, o: number, level: Level): void;
  abstract mkclean(v: EntryReg, o: number, level: Level): void;
  abstract mkyoung(v: EntryReg, o: number, level: Level): void;
  abstract mkold(v: EntryReg, o: number, level: Level): void;
  abstract mkspecial(v: EntryReg, o: number, level: Level): void;
  abstract mksoftDirty(v: EntryReg, o: number, level: Level): void;
  abstract clearSoftDirty(v: EntryReg, o: number, level: Level): void;
  abstract mkuffdWp(v: EntryReg, o: number, level: Level): void;
  abstract clearUffdWp(v: EntryReg, o: number, level: Level): void;
  abstract mkinvalid(v: EntryReg, o: number, level: Level): void;
  abstract advancePfn(v: EntryReg, o: number, level: Level, nr: number): void;
  abstract softleafEntry(out: EntryReg, o: number, level: Level, swpType: number, offset: number): void;
  abstract isSoftleaf(v: EntryReg, o: number, level: Level): boolean;
  abstract swpType(v: EntryReg, o: number, level: Level): number;
  abstract swpOffset(v: EntryReg, o: number, level: Level): number;
  abstract swpExclusive(v: EntryReg, o: number, level: Level): boolean;
  abstract swpMkExclusive(v: EntryReg, o: number, level: Level): void;
  abstract swpClearExclusive(v: EntryReg, o: number, level: Level): void;
  abstract swpSoftDirty(v: EntryReg, o: number, level: Level): boolean;
  abstract swpMkSoftDirty(v: EntryReg, o: number, level: Level): void;
  abstract swpClearSoftDirty(v: EntryReg, o: number, level: Level): void;
  abstract swpUffdWp(v: EntryReg, o: number, level: Level): boolean;
  abstract swpMkUffdWp(v: EntryReg, o: number, level: Level): void;
  abstract swpClearUffdWp(v: EntryReg, o: number, level: Level): void;
  abstract readEntry(table: Uint32Array, index: number, level: Level, out: EntryReg, o: number): void;
  abstract writeEntry(table: Uint32Array, index: number, level: Level, v: EntryReg, o: number): void;
  abstract walk(store: TableStore, rootPa: number, va: number, access?: WalkAccess): HardwareWalk;

  /** By default the explained walk, copied: a backend overrides it with a walk that explains nothing. */
  translate(store: TableStore, rootPa: number, va: number, access: WalkAccess | undefined, out: Translation): boolean {
    return translationOf(this.walk(store, rootPa, va, access), out);
  }
  abstract describe(v: EntryReg, o: number, level: Level): DescribedEntry;
  abstract protName(prot: ProtIndex): string;

  // ---- generic page-table operations ----------------------------------------

  setEntries(_ctx: PageTableContext, table: Uint32Array, index: number, level: Level, _va: number, v: EntryReg, o: number, nr: number): void {
    const s = this.scratch;
    s[0] = v[o]!;
    s[1] = v[o + 1]!;
    const step = 2 ** (this.geometry.levels[level]!.shift - this.geometry.pageShift);
    for (let i = 0; ; i++) {
      this.writeEntry(table, index + i, level, s, 0);
      if (i + 1 >= nr) break;
      this.advancePfn(s, 0, level, step);
    }
  }

  getEntry(table: Uint32Array, index: number, level: Level, out: EntryReg, o: number): void {
    this.readEntry(table, index, level, out, o);
  }

  getAndClear(_ctx: PageTableContext, table: Uint32Array, index: number, level: Level, _va: number, out: EntryReg, o: number): void {
    this.readEntry(table, index, level, out, o);
    this.clearSlot(table, index, level);
  }

  getAndClearEntries(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, nr: number, out: EntryReg, o: number): void {
    this.getAndClear(ctx, table, index, level, va, out, o);
    const s = this.scratch;
    for (let i = 1; i < nr; i++) {
      this.readEntry(table, index + i, level, s, 2);
      this.clearSlot(table, index + i, level);
      if (this.present(s, 2, level)) {
        if (this.young(s, 2, level)) this.mkyoung(out, o, level);
        if (this.dirty(s, 2, level)) this.mkdirty(out, o, level);
      }
    }
  }

  wrprotectEntries(_ctx: PageTableContext, table: Uint32Array, index: number, level: Level, _va: number, nr: number): void {
    const s = this.scratch;
    for (let i = 0; i < nr; i++) {
      this.readEntry(table, index + i, level, s, 2);
      this.wrprotect(s, 2, level);
      this.writeEntry(table, index + i, level, s, 2);
    }
  }

  setAccessFlags(_ctx: PageTableContext, table: Uint32Array, index: number, level: Level, _va: number, v: EntryReg, o: number, _dirty: boolean): boolean {
    const s = this.scratch;
    this.readEntry(table, index, level, s, 2);
    if (s[2] === v[o] && s[3] === v[o + 1]) return false;
    this.writeEntry(table, index, level, v, o);
    return true;
  }

  testAndClearYoung(_ctx: PageTableContext, table: Uint32Array, index: number, level: Level, _va: number, nr: number): boolean {
    const s = this.scratch;
    let young = false;
    for (let i = 0; i < nr; i++) {
      this.readEntry(table, index + i, level, s, 2);
      if (this.present(s, 2, level) && this.young(s, 2, level)) {
        young = true;
        this.mkold(s, 2, level);
        this.writeEntry(table, index + i, level, s, 2);
      }
    }
    return young;
  }

  clearYoungDirty(_ctx: PageTableContext, table: Uint32Array, index: number, level: Level, _va: number, nr: number, young: boolean, dirty: boolean): void {
    const s = this.scratch;
    for (let i = 0; i < nr; i++) {
      this.readEntry(table, index + i, level, s, 2);
      if (!this.present(s, 2, level)) continue;
      if (young) this.mkold(s, 2, level);
      if (dirty) this.mkclean(s, 2, level);
      this.writeEntry(table, index + i, level, s, 2);
    }
  }

  modifyEntries(_ctx: PageTableContext, table: Uint32Array, index: number, level: Level, _va: number, nr: number, prot: ProtIndex): void {
    const s = this.scratch;
    for (let i = 0; i < nr; i++) {
      this.readEntry(table, index + i, level, s, 2);
      if (!this.present(s, 2, level)) continue;
      this.modify(s, 2, level, prot);
      this.writeEntry(table, index + i, level, s, 2);
    }
  }

  invalidate(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, out: EntryReg, o: number): void {
    this.establishInvalid(table, index, level, out, o);
    const size = 2 ** this.geometry.levels[level]!.shift;
    ctx.flushTlbRange(va, va + size, size, level, "clear-flush");
  }

  /** pmdp_establish(pmd_mkinvalid(old)) without a flush; the old value in `out`. */
  protected establishInvalid(table: Uint32Array, index: number, level: Level, out: EntryReg, o: number): void {
    this.readEntry(table, index, level, out, o);
    const s = this.scratch;
    s[2] = out[o]!;
    s[3] = out[o + 1]!;
    this.mkinvalid(s, 2, level);
    this.writeEntry(table, index, level, s, 2);
  }

  /** The generic pmdp_invalidate_ad: pmdp_invalidate, flush included. */
  invalidateAd(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, out: EntryReg, o: number): void {
    this.invalidate(ctx, table, index, level, va, out, o);
  }

  batchHint(_table: Uint32Array, _index: number, _level: Level): number {
    return 1;
  }

  // ---- the MMU's access-flag and dirty updates ------------------------------

  hwAccess(table: Uint32Array, index: number, level: Level, write: boolean): boolean {
    const s = this.scratch;
    this.readEntry(table, index, level, s, 4);
    if (!this.mmuValid(s, 4, level) || (level > PTE && !this.leaf(s, 4, level))) return false;
    if (write && !this.write(s, 4, level)) return false;
    const young = this.young(s, 4, level);
    if (young && (!write || this.dirty(s, 4, level))) return true;
    this.mkyoung(s, 4, level);
    if (write) this.mkdirty(s, 4, level);
    this.writeEntry(table, index, level, s, 4);
    return true;
  }

  /**
   * Whether the MMU may use this leaf for a user data access at all. The
   * kernel's present() is wider: it also holds for PROT_NONE and for a
   * pmd_mkinvalid() entry, both of which the hardware faults on. The default
   * suits arches whose invalid forms clear what present() tests; arches with
   * a separate hardware valid bit override it (walk() is the reference).
   */
  protected mmuValid(v: EntryReg, o: number, level: Level): boolean {
    return this.present(v, o, level) && !this.protnone(v, o, level);
  }

  // ---- huge entries: single-slot sizes are plain entries ----------------------

  makeHugeEntry(v: EntryReg, o: number, size: HugeSize): void {
    this.mkhuge(v, o, size.level);
  }

  setHugeEntry(ctx: PageTableContext, _store: TableStore, table: Uint32Array, index: number, va: number, v: EntryReg, o: number, size: HugeSize): void {
    this.requireSingleSlot(size);
    this.setEntries(ctx, table, index, size.level, va, v, o, 1);
  }

  getHugeEntry(_store: TableStore, table: Uint32Array, index: number, _va: number, out: EntryReg, o: number, size: HugeSize): void {
    this.requireSingleSlot(size);
    this.readEntry(table, index, size.level, out, o);
  }

  getAndClearHugeEntry(ctx: PageTableContext, _store: TableStore, table: Uint32Array, index: number, va: number, out: EntryReg, o: number, size: HugeSize): void {
    this.requireSingleSlot(size);
    this.getAndClear(ctx, table, index, size.level, va, out, o);
  }

  wrprotectHugeEntry(ctx: PageTableContext, _store: TableStore, table: Uint32Array, index: number, va: number, size: HugeSize): void {
    this.requireSingleSlot(size);
    this.wrprotectEntries(ctx, table, index, size.level, va, 1);
  }

  setHugeAccessFlags(ctx: PageTableContext, _store: TableStore, table: Uint32Array, index: number, va: number, v: EntryReg, o: number, dirty: boolean, size: HugeSize): boolean {
    this.requireSingleSlot(size);
    return this.setAccessFlags(ctx, table, index, size.level, va, v, o, dirty);
  }

  // ---- helpers for subclasses --------------------------------------------------

  /** Write a cleared entry into a slot. */
  protected clearSlot(table: Uint32Array, index: number, level: Level): void {
    const s = this.scratch;
    s[6] = 0;
    s[7] = 0;
    this.writeEntry(table, index, level, s, 6);
  }

  protected requireSingleSlot(size: HugeSize): void {
    if (size.ncontig !== 1 || size.viaPteTables) {
      throw new ArchInputError("huge size", `2^${size.shift} at level ${size.level}`, `a size ${this.id} implements (override the huge-entry operations for multi-slot sizes)`);
    }
  }

  /** Throws unless `level` is one of the five levels. */
  protected checkLevel(level: number): void {
    if (!(level >= PTE && level <= 4) || (level | 0) !== level) {
      throw new ArchInputError("page-table level", level, "0 (pte), 1 (pmd), 2 (pud), 3 (p4d) or 4 (pgd)");
    }
  }
}
