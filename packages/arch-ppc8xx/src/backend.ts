import {
  type ArchBackend,
  type Capabilities,
  type DescribedEntry,
  type EntryReg,
  type Geometry,
  type HardwareWalk,
  type HugeSize,
  type Level,
  type PageTableContext,
  type ProtIndex,
  type SoftleafFormat,
  softleafFormat,
  type TableStore,
  type Translation,
  type WalkAccess,
} from "@hugemm/arch";
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_EXEC, _PAGE_NA, _PAGE_PRESENT, _PAGE_RO, _PAGE_SPS, _PAGE_SWP_EXCLUSIVE, HUGE_LEAF, PP_MASK, SWP_OFFSET_BITS } from "./bits";
import { ppc8xxConfig } from "./config";
import { describeWord } from "./describe";
import { Ppc8xxEntryAlgebra } from "./entry-algebra";
import { ppc8xxCapabilities, ppc8xxGeometry, ppc8xxHugeSizes } from "./geometry";
import { checkHugeSize, getHuge, setHuge, setHugeAccessFlags, updateHuge } from "./huge";
import { isPteLevel } from "./level";
import { PPC8XX_ARCH, type Ppc8xxOptions, resolvePpc8xxVariant, type Ppc8xxVariant } from "./options";
import { protName } from "./prot";
import { isSwpWord, swpEntryWord, swpExclusiveWord, swpOffsetOfWord, swpTypeOfWord } from "./softleaf";
import { entryWordIndex, ptePartialUpdate } from "./table-storage";
import { translate8xx, walk8xx } from "./walk";

/** A user read: what translate() checks when no access is given. */
const NO_ACCESS: WalkAccess = {};

/** The PowerPC 8xx (MPC8xx) backend: one instance per page-size configuration. */
export class Ppc8xxBackend extends Ppc8xxEntryAlgebra {
  readonly arch = PPC8XX_ARCH;
  readonly variant: Ppc8xxVariant;
  readonly description: string;
  readonly geometry: Geometry;
  readonly capabilities: Capabilities;
  readonly softleaf: SoftleafFormat;
  readonly swapOffsetBits = SWP_OFFSET_BITS;
  readonly hugeSizes: readonly HugeSize[];

  constructor(variant: Ppc8xxVariant) {
    const cfg = ppc8xxConfig(variant);
    super(cfg);
    this.variant = variant;
    this.description = `PowerPC 8xx, ${variant === "16k" ? "16K" : "4K"} pages, 2-level tables (PGD/PMD -> PTE), 32-bit entries`;
    this.geometry = ppc8xxGeometry(cfg);
    this.capabilities = ppc8xxCapabilities(cfg);
    this.softleaf = softleafFormat(cfg.swpPfnBits, SWP_OFFSET_BITS);
    this.hugeSizes = ppc8xxHugeSizes(cfg);
  }

  // ---- softleaves: the same word format at every level (8M hugetlb entries at level 1) ----

  softleafEntry(out: EntryReg, o: number, level: Level, swpType: number, offset: number): void {
    isPteLevel(level);
    out[o] = swpEntryWord(swpType, offset);
    out[o + 1] = 0;
  }

  isSoftleaf(v: EntryReg, o: number, level: Level): boolean {
    isPteLevel(level);
    return isSwpWord(v[o]!);
  }

  swpType(v: EntryReg, o: number, level: Level): number {
    isPteLevel(level);
    return swpTypeOfWord(v[o]!);
  }

  swpOffset(v: EntryReg, o: number, level: Level): number {
    isPteLevel(level);
    return swpOffsetOfWord(v[o]!);
  }

  swpExclusive(v: EntryReg, o: number, level: Level): boolean {
    isPteLevel(level);
    return swpExclusiveWord(v[o]!);
  }

  swpMkExclusive(v: EntryReg, o: number, level: Level): void {
    isPteLevel(level);
    v[o] = (v[o]! | _PAGE_SWP_EXCLUSIVE) >>> 0;
  }

  swpClearExclusive(v: EntryReg, o: number, level: Level): void {
    isPteLevel(level);
    v[o] = (v[o]! & ~_PAGE_SWP_EXCLUSIVE) >>> 0;
  }

  /** No soft-dirty bit in 8xx swap entries. */
  swpSoftDirty(_v: EntryReg, _o: number, level: Level): boolean {
    isPteLevel(level);
    return false;
  }

  swpMkSoftDirty(_v: EntryReg, _o: number, level: Level): void {
    isPteLevel(level);
  }

  swpClearSoftDirty(_v: EntryReg, _o: number, level: Level): void {
    isPteLevel(level);
  }

  /** No uffd-wp bit in 8xx swap entries. */
  swpUffdWp(_v: EntryReg, _o: number, level: Level): boolean {
    isPteLevel(level);
    return false;
  }

  swpMkUffdWp(_v: EntryReg, _o: number, level: Level): void {
    isPteLevel(level);
  }

  swpClearUffdWp(_v: EntryReg, _o: number, level: Level): void {
    isPteLevel(level);
  }

  // ---- raw storage ---------------------------------------------------------------

  /** ptep_get(): the first cell of a pte_t; a level-1 entry is one word. */
  readEntry(table: Uint32Array, index: number, level: Level, out: EntryReg, o: number): void {
    const cells = isPteLevel(level) ? this.cfg.cellsPerPte : 1;
    out[o] = table[entryWordIndex(table, index, cells)]!;
    out[o + 1] = 0;
  }

  /** __set_pte_at(): pte3 = pte2 = pte1 = pte with 16K pages. */
  writeEntry(table: Uint32Array, index: number, level: Level, v: EntryReg, o: number): void {
    const cells = isPteLevel(level) ? this.cfg.cellsPerPte : 1;
    const w = entryWordIndex(table, index, cells);
    const val = v[o]!;
    for (let i = 0; i < cells; i++) table[w + i] = val;
  }

  // ---- page-table operations that differ from the generic ones -----------------------

  /**
   * ptep_set_access_flags() through the 8xx __ptep_set_access_flags(): if the
   * entry differs from `v`, set DIRTY, ACCESSED and EXEC from `v` and clear
   * the RO bits `v` lacks (other bits of the old entry stay), then
   * flush_tlb_page().
   */
  override setAccessFlags(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, v: EntryReg, o: number, _dirty: boolean): boolean {
    const pte = isPteLevel(level);
    const cell = entryWordIndex(table, index, pte ? this.cfg.cellsPerPte : 1);
    const val = v[o]!;
    if (table[cell] === val) return false;
    const set = val & (_PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_EXEC);
    const clr = ~val & _PAGE_RO;
    if (pte) ptePartialUpdate(this.cfg, table, cell, clr, set, false, false);
    else table[cell] = ((table[cell]! & ~clr) | set) >>> 0;
    const size = 2 ** this.geometry.levels[level]!.shift;
    ctx.flushTlbRange(va, va + size, size, level, "access-flags");
    return true;
  }

  // ---- hugetlb ----------------------------------------------------------------------

  /** arch_make_huge_pte(): 4K pages: 16K gets SPS only, larger sizes SPS|HUGE; 16K pages: pte_mkhuge(). */
  override makeHugeEntry(v: EntryReg, o: number, size: HugeSize): void {
    checkHugeSize(this.hugeSizes, size);
    const bits = this.cfg.pageShift === 12 && size.shift === 14 ? _PAGE_SPS : HUGE_LEAF;
    v[o] = (v[o]! | bits) >>> 0;
  }

  override setHugeEntry(_ctx: PageTableContext, store: TableStore, table: Uint32Array, index: number, _va: number, v: EntryReg, o: number, size: HugeSize): void {
    checkHugeSize(this.hugeSizes, size);
    setHuge(this.cfg, store, table, index, v[o]!, size);
  }

  override getHugeEntry(store: TableStore, table: Uint32Array, index: number, _va: number, out: EntryReg, o: number, size: HugeSize): void {
    checkHugeSize(this.hugeSizes, size);
    out[o] = getHuge(this.cfg, store, table, index, size);
    out[o + 1] = 0;
  }

  /** huge_ptep_get_and_clear(): pte_update(~0, 0, huge), with the kernel's cell count and increments. */
  override getAndClearHugeEntry(_ctx: PageTableContext, store: TableStore, table: Uint32Array, index: number, _va: number, out: EntryReg, o: number, size: HugeSize): void {
    checkHugeSize(this.hugeSizes, size);
    out[o] = updateHuge(this.cfg, store, table, index, 0xffffffff, 0, size);
    out[o + 1] = 0;
  }

  /** huge_ptep_set_wrprotect(): pte_update(0, _PAGE_RO, huge). */
  override wrprotectHugeEntry(_ctx: PageTableContext, store: TableStore, table: Uint32Array, index: number, _va: number, size: HugeSize): void {
    checkHugeSize(this.hugeSizes, size);
    updateHuge(this.cfg, store, table, index, 0, _PAGE_RO, size);
  }

  override setHugeAccessFlags(ctx: PageTableContext, store: TableStore, table: Uint32Array, index: number, va: number, v: EntryReg, o: number, _dirty: boolean, size: HugeSize): boolean {
    checkHugeSize(this.hugeSizes, size);
    if (!setHugeAccessFlags(this.cfg, store, table, index, v[o]!, size)) return false;
    const bytes = 2 ** size.shift;
    ctx.flushTlbRange(va, va + bytes, bytes, size.level, "access-flags");
    return true;
  }

  // ---- hardware view -------------------------------------------------------------------

  /** PAGE_NONE is present with PP = _PAGE_NA: the MMU denies every data access to it. */
  protected override mmuValid(v: EntryReg, o: number, _level: Level): boolean {
    const w = v[o]!;
    return (w & _PAGE_PRESENT) !== 0 && (w & PP_MASK) !== _PAGE_NA;
  }

  walk(store: TableStore, rootPa: number, va: number, access: WalkAccess = {}): HardwareWalk {
    return walk8xx(this.cfg, store, rootPa, va, access, (w, pte) => describeWord(this.cfg, this.softleaf, w, 0, pte ? 0 : 1, pte));
  }

  override translate(store: TableStore, rootPa: number, va: number, access: WalkAccess | undefined, out: Translation): boolean {
    return translate8xx(this.cfg, store, rootPa, va, access ?? NO_ACCESS, out, null, null);
  }

  describe(v: EntryReg, o: number, level: Level): DescribedEntry {
    return describeWord(this.cfg, this.softleaf, v[o]!, v[o + 1]!, level, isPteLevel(level));
  }

  protName(prot: ProtIndex): string {
    return protName(prot);
  }
}

/**
 * The factory: `createPpc8xxBackend()`, `createPpc8xxBackend("16k")`,
 * `createPpc8xxBackend("ppc8xx:16k")` or `createPpc8xxBackend({ pageSize: "16k" })`.
 */
export function createPpc8xxBackend(options?: Ppc8xxOptions | string): ArchBackend {
  return new Ppc8xxBackend(resolvePpc8xxVariant(options));
}
