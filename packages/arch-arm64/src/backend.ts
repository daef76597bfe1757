import {
  ArchBackendBase,
  ArchInputError,
  checkProt,
  checkRange,
  entryRegs,
  softleafFormat,
  PMD,
  PTE,
  PUD,
  P4D,
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
  type TableStore,
  type Translation,
  type WalkPlan,
  walkPlan,
  type WalkAccess,
} from "@hugemm/arch";
import { AddressCodec } from "./address";
import { HI_AP_TABLE_NO_EL0, HI_PXN_TABLE, HI_UXN, HI_UXN_TABLE, LO_TABLE_AF, LO_TYPE_PAGE, LO_USER, SWP_OFFSET_BITS } from "./bits";
import * as contpte from "./contpte";
import { arm64Describe } from "./describe";
import * as e from "./entry-algebra";
import { arm64Geometry, effectiveLevels } from "./geometry";
import * as hugetlb from "./hugetlb";
import { parseArm64Options, type Arm64Config, type Arm64Options } from "./options";
import { arm64ProtName, ProtectionMap } from "./prot";
import * as swp from "./softleaf";
import { loadEntry, storeEntry } from "./table-storage";
import { arm64Translate, arm64Walk } from "./walk";

/** A user read: what translate() checks when no access is given. */
const NO_ACCESS: WalkAccess = {};

const MAX_SWAP_OFFSET = 2 ** SWP_OFFSET_BITS - 1;

/**
 * The arm64 page-table format (stage 1, 64-bit descriptors) in one granule
 * and VA configuration, as arch/arm64/include/asm/pgtable*.h, contpte.c and
 * hugetlbpage.c define it. PTE-level page-table operations manage PTE_CONT
 * transparently for user mappings (contpte); hugetlb sizes of several slots
 * use the contiguous bit explicitly.
 */
export class Arm64Backend extends ArchBackendBase {
  readonly arch = "arm64";
  readonly variant: string;
  readonly description: string;
  readonly geometry: Geometry;
  readonly capabilities: Capabilities;
  readonly softleaf: SoftleafFormat;
  readonly swapOffsetBits = SWP_OFFSET_BITS;
  readonly hugeSizes: readonly HugeSize[];

  /** The parsed configuration. */
  readonly config: Arm64Config;
  readonly pageSize: number;
  /** CONT_PTES and CONT_PMDS. */
  readonly contPtes: number;
  readonly contPmds: number;
  /** PA <-> descriptor address encoding. */
  readonly codec: AddressCodec;
  readonly protMap: ProtectionMap;
  /** The level whose table holds each logical level (folded levels act as it). */
  readonly eff: Uint8Array;
  /** Base pages one entry maps, per logical level. */
  readonly pagesPerEntry: Float64Array;
  /**
   * pud_leaf() can be true: the PMD level is not folded and the granule is
   * not 64K (pud_sect()/pud_table() are constants otherwise). With 16K pages
   * the kernel never makes such a block (pud_sect_supported() is 4K only)
   * and the MMU has none without LPA2, but pud_leaf() still reads the type bits.
   */
  readonly pudSectFormat: boolean;
  /** Scratch registers for the page-table and hugetlb operations (see contpte.ts). */
  readonly regs: EntryReg = entryRegs(11);

  constructor(options?: Arm64Options | string) {
    super();
    const c = parseArm64Options(options);
    this.config = c;
    this.variant = c.variant;
    this.geometry = arm64Geometry(c);
    this.pageSize = this.geometry.pageSize;
    this.contPtes = 2 ** c.contPteShift;
    this.contPmds = 2 ** c.contPmdShift;
    this.codec = new AddressCodec(c);
    this.protMap = new ProtectionMap(c.lpa2);
    this.eff = effectiveLevels(this.geometry);
    this.pagesPerEntry = new Float64Array(5);
    for (let l = 0; l < 5; l++) this.pagesPerEntry[l] = 2 ** (this.geometry.levels[l]!.shift - c.pageShift);
    this.pudSectFormat = c.granule !== "64k" && c.levels > 2;
    this.softleaf = softleafFormat(c.physBits - c.pageShift, SWP_OFFSET_BITS);
    this.capabilities = {
      softDirty: false,
      uffdWp: true,
      special: true,
      protnone: true,
      pmdThp: true,
      pudThp: false,
      pudLeaf: c.granule === "4k",
      pmdSoftleaf: true,
      contPte: true,
      migrationYoungDirty: this.softleaf.migrationYoungDirty,
    };
    this.hugeSizes = hugetlb.arm64HugeSizes(this);
    const pa = c.lpa2 ? ", LPA2 52-bit PA" : c.pa52In64k ? ", 52-bit PA" : "";
    this.description =
      `arm64, ${c.granule.toUpperCase()} granule, ${c.vaBits}-bit VA, ${c.levels} levels${pa}` +
      (c.bbml2NoAbort ? ", BBML2 without conflict aborts" : "");
  }

  // ---- addresses -------------------------------------------------------------

  /** pte_pfn(): the pfn the descriptor's address field holds, unmasked. */
  rawPfn(v: EntryReg, o: number): number {
    return this.codec.decode(v[o]!, v[o + 1]!) / this.pageSize;
  }

  /** pfn_pte(pfn, pte_pgprot(v)): move the entry to `pfn`, keeping every other bit. */
  replacePfn(v: EntryReg, o: number, pfn: number): void {
    const codec = this.codec;
    const oldPa = codec.decode(v[o]!, v[o + 1]!);
    const newPa = pfn * this.pageSize;
    v[o] = ((v[o]! ^ codec.encodeLo(oldPa)) | codec.encodeLo(newPa)) >>> 0;
    v[o + 1] = ((v[o + 1]! ^ codec.encodeHi(oldPa)) | codec.encodeHi(newPa)) >>> 0;
  }

  // ---- entry construction ------------------------------------------------------

  pfnEntry(out: EntryReg, o: number, level: Level, pfn: number, prot: ProtIndex): void {
    this.checkLevel(level);
    checkRange("pfn", pfn, 0, this.geometry.maxPfn);
    checkProt(prot);
    const pa = pfn * this.pageSize;
    out[o] = (this.codec.encodeLo(pa) | this.protMap.lo[prot]!) >>> 0;
    out[o + 1] = (this.codec.encodeHi(pa) | this.protMap.hi[prot]!) >>> 0;
  }

  mkhuge(v: EntryReg, o: number, level: Level): void {
    const l = this.eff[level];
    if (l === PMD || l === PUD) e.mkhugeBits(v, o);
  }

  /**
   * pmd_populate / pud_populate / p4d_populate / pgd_populate: the table
   * address with PMD_TYPE_TABLE, the table access flag (FEAT_HAFT) and
   * PXNTable for user tables (UXNTable for kernel ones).
   */
  tableEntry(out: EntryReg, o: number, level: Level, tablePa: number, user: boolean): void {
    this.checkLevel(level);
    if (this.eff[level] === PTE) {
      throw new ArchInputError("table entry level", level, "a level above the PTE level (1 pmd, 2 pud, 3 p4d, 4 pgd)");
    }
    const maxPa = 2 ** this.config.physBits - this.pageSize;
    if (!(tablePa >= 0 && tablePa <= maxPa) || tablePa % this.pageSize !== 0) {
      throw new ArchInputError("table physical address", tablePa, `a multiple of ${this.pageSize} in [0, 2^${this.config.physBits})`);
    }
    out[o] = (this.codec.encodeLo(tablePa) | LO_TYPE_PAGE | LO_TABLE_AF) >>> 0;
    out[o + 1] = (this.codec.encodeHi(tablePa) | (user ? HI_PXN_TABLE : HI_UXN_TABLE)) >>> 0;
  }

  modify(v: EntryReg, o: number, _level: Level, prot: ProtIndex): void {
    checkProt(prot);
    e.modifyBits(v, o, this.protMap.lo[prot]!, this.protMap.hi[prot]!);
  }

  // ---- predicates ----------------------------------------------------------------

  none(v: EntryReg, o: number, _level: Level): boolean {
    return e.isNone(v, o);
  }

  /** pte/pmd/pud_present(); p4d/pgd_present() are !none. */
  present(v: EntryReg, o: number, level: Level): boolean {
    return this.eff[level]! >= P4D ? !e.isNone(v, o) : e.isPresent(v, o);
  }

  leaf(v: EntryReg, o: number, level: Level): boolean {
    switch (this.eff[level]) {
      case PTE:
        return e.isPresent(v, o);
      case PMD:
        return e.isPresent(v, o) && !e.isTypeTable(v, o);
      case PUD:
        return this.pudSectFormat && e.isPresent(v, o) && !e.isTypeTable(v, o);
      default:
        return false;
    }
  }

  /** pmd_trans_huge(): present and not a table once VALID is forced (present-invalid blocks count). */
  transHuge(v: EntryReg, o: number, level: Level): boolean {
    return this.eff[level] === PMD && e.isPresent(v, o) && (v[o]! & 2) === 0;
  }

  table(v: EntryReg, o: number, level: Level): boolean {
    return this.eff[level] !== PTE && e.isTypeTable(v, o);
  }

  /** pmd_bad() = !pmd_table(); a none entry is reported not bad (the kernel checks none first). */
  bad(v: EntryReg, o: number, level: Level): boolean {
    return this.eff[level] !== PTE && !e.isNone(v, o) && !e.isTypeTable(v, o);
  }

  write(v: EntryReg, o: number, _level: Level): boolean {
    return e.isWrite(v, o);
  }

  dirty(v: EntryReg, o: number, _level: Level): boolean {
    return e.isDirty(v, o);
  }

  young(v: EntryReg, o: number, _level: Level): boolean {
    return e.isYoung(v, o);
  }

  special(v: EntryReg, o: number, _level: Level): boolean {
    return e.isSpecial(v, o);
  }

  softDirty(_v: EntryReg, _o: number, _level: Level): boolean {
    return false;
  }

  uffdWp(v: EntryReg, o: number, _level: Level): boolean {
    return e.isUffdWp(v, o);
  }

  protnone(v: EntryReg, o: number, level: Level): boolean {
    return this.eff[level]! <= PUD && e.isProtnone(v, o);
  }

  /** USER (AP[1]) in a leaf; for a table, APTable[0] clear. */
  user(v: EntryReg, o: number, level: Level): boolean {
    if (this.table(v, o, level)) return (v[o + 1]! & HI_AP_TABLE_NO_EL0) === 0;
    return (v[o]! & LO_USER) !== 0;
  }

  /** EL0 may execute: UXN clear in a leaf, UXNTable clear in a table. */
  exec(v: EntryReg, o: number, level: Level): boolean {
    if (this.table(v, o, level)) return (v[o + 1]! & HI_UXN_TABLE) === 0;
    return (v[o + 1]! & HI_UXN) === 0;
  }

  cont(v: EntryReg, o: number, _level: Level): boolean {
    return e.isCont(v, o);
  }

  /** pte_pfn(); pmd_pfn() and pud_pfn() mask the address to the block size. */
  pfn(v: EntryReg, o: number, level: Level): number {
    const pfn = this.rawPfn(v, o);
    const l = this.eff[level]!;
    if (l === PMD || l === PUD) return pfn - (pfn % this.pagesPerEntry[l]!);
    return pfn;
  }

  tablePa(v: EntryReg, o: number, _level: Level): number {
    return this.codec.decode(v[o]!, v[o + 1]!);
  }

  // ---- modifiers --------------------------------------------------------------------

  mkwrite(v: EntryReg, o: number, _level: Level): void {
    e.mkwrite(v, o);
  }

  wrprotect(v: EntryReg, o: number, _level: Level): void {
    e.wrprotect(v, o);
  }

  mkdirty(v: EntryReg, o: number, _level: Level): void {
    e.mkdirty(v, o);
  }

  mkclean(v: EntryReg, o: number, _level: Level): void {
    e.mkclean(v, o);
  }

  mkyoung(v: EntryReg, o: number, _level: Level): void {
    e.mkyoung(v, o);
  }

  mkold(v: EntryReg, o: number, _level: Level): void {
    e.mkold(v, o);
  }

  mkspecial(v: EntryReg, o: number, _level: Level): void {
    e.mkspecial(v, o);
  }

  /** No HAVE_ARCH_SOFT_DIRTY: the generic helpers leave the entry unchanged. */
  mksoftDirty(_v: EntryReg, _o: number, _level: Level): void {}

  clearSoftDirty(_v: EntryReg, _o: number, _level: Level): void {}

  mkuffdWp(v: EntryReg, o: number, _level: Level): void {
    e.mkuffdWp(v, o);
  }

  clearUffdWp(v: EntryReg, o: number, _level: Level): void {
    e.clearUffdWp(v, o);
  }

  mkinvalid(v: EntryReg, o: number, _level: Level): void {
    e.mkinvalid(v, o);
  }

  /** pte_advance_pfn(): pfn_pte(pte_pfn(pte) + nr, pte_pgprot(pte)). */
  advancePfn(v: EntryReg, o: number, _level: Level, nr: number): void {
    const pfn = this.rawPfn(v, o) + nr;
    checkRange("pfn", pfn, 0, this.geometry.maxPfn);
    this.replacePfn(v, o, pfn);
  }

  // ---- softleaves ----------------------------------------------------------------------

  softleafEntry(out: EntryReg, o: number, level: Level, swpType: number, offset: number): void {
    this.checkLevel(level);
    if (this.eff[level]! >= P4D) {
      throw new ArchInputError("softleaf level", level, "0 (pte), 1 (pmd) or 2 (pud)");
    }
    checkRange("swap type", swpType, 0, 31);
    checkRange("swap offset", offset, 0, MAX_SWAP_OFFSET);
    swp.writeSoftleaf(out, o, swpType, offset);
  }

  isSoftleaf(v: EntryReg, o: number, level: Level): boolean {
    return !e.isNone(v, o) && !this.present(v, o, level);
  }

  swpType(v: EntryReg, o: number, _level: Level): number {
    return swp.softleafType(v, o);
  }

  swpOffset(v: EntryReg, o: number, _level: Level): number {
    return swp.softleafOffset(v, o);
  }

  swpExclusive(v: EntryReg, o: number, _level: Level): boolean {
    return swp.softleafExclusive(v, o);
  }

  swpMkExclusive(v: EntryReg, o: number, _level: Level): void {
    swp.softleafSetExclusive(v, o, true);
  }

  swpClearExclusive(v: EntryReg, o: number, _level: Level): void {
    swp.softleafSetExclusive(v, o, false);
  }

  swpSoftDirty(_v: EntryReg, _o: number, _level: Level): boolean {
    return false;
  }

  swpMkSoftDirty(_v: EntryReg, _o: number, _level: Level): void {}

  swpClearSoftDirty(_v: EntryReg, _o: number, _level: Level): void {}

  swpUffdWp(v: EntryReg, o: number, _level: Level): boolean {
    return swp.softleafUffdWp(v, o);
  }

  swpMkUffdWp(v: EntryReg, o: number, _level: Level): void {
    swp.softleafSetUffdWp(v, o, true);
  }

  swpClearUffdWp(v: EntryReg, o: number, _level: Level): void {
    swp.softleafSetUffdWp(v, o, false);
  }

  // ---- raw table storage -----------------------------------------------------------------

  readEntry(table: Uint32Array, index: number, _level: Level, out: EntryReg, o: number): void {
    loadEntry(table, index, out, o);
  }

  writeEntry(table: Uint32Array, index: number, _level: Level, v: EntryReg, o: number): void {
    storeEntry(table, index, v, o);
  }

  // ---- page-table operations: contpte at the PTE level ------------------------------------

  override setEntries(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, v: EntryReg, o: number, nr: number): void {
    if (nr < 1) return;
    const l = this.eff[level]!;
    if (nr > 1 && e.isPresent(v, o)) {
      const stride = l === PTE ? 1 : this.pagesPerEntry[l]!;
      checkRange("pfn", this.rawPfn(v, o) + (nr - 1) * stride, 0, this.geometry.maxPfn);
    }
    if (l === PTE) contpte.setPtes(this, ctx, table, index, va, v, o, nr);
    else contpte.setRun(this, table, index, v, o, nr, this.pagesPerEntry[l]!);
  }

  override getEntry(table: Uint32Array, index: number, level: Level, out: EntryReg, o: number): void {
    if (this.eff[level] === PTE) contpte.getPte(this, table, index, out, o);
    else loadEntry(table, index, out, o);
  }

  override getAndClear(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, out: EntryReg, o: number): void {
    if (this.eff[level] === PTE) contpte.getAndClearPte(this, ctx, table, index, va, out, o);
    else super.getAndClear(ctx, table, index, level, va, out, o);
  }

  override getAndClearEntries(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, nr: number, out: EntryReg, o: number): void {
    if (this.eff[level] === PTE) contpte.getAndClearPtes(this, ctx, table, index, va, nr, out, o);
    else super.getAndClearEntries(ctx, table, index, level, va, nr, out, o);
  }

  override wrprotectEntries(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, nr: number): void {
    if (this.eff[level] === PTE) contpte.wrprotectPtes(this, ctx, table, index, va, nr);
    else super.wrprotectEntries(ctx, table, index, level, va, nr);
  }

  override setAccessFlags(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, v: EntryReg, o: number, dirty: boolean): boolean {
    if (this.eff[level] === PTE) return contpte.setAccessFlagsPte(this, ctx, table, index, va, v, o, dirty);
    return contpte.setAccessFlagsOne(this, ctx, table, index, level, va, v, o, dirty);
  }

  override testAndClearYoung(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, nr: number): boolean {
    if (this.eff[level] === PTE) return contpte.testAndClearYoungPtes(this, table, index, nr);
    return super.testAndClearYoung(ctx, table, index, level, va, nr);
  }

  override clearYoungDirty(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, nr: number, young: boolean, dirty: boolean): void {
    if (this.eff[level] === PTE) contpte.clearYoungDirtyPtes(this, table, index, nr, young, dirty);
    else super.clearYoungDirty(ctx, table, index, level, va, nr, young, dirty);
  }

  override modifyEntries(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, nr: number, prot: ProtIndex): void {
    checkProt(prot);
    if (this.eff[level] === PTE) contpte.modifyPtes(this, ctx, table, index, va, nr, prot);
    else super.modifyEntries(ctx, table, index, level, va, nr, prot);
  }

  override batchHint(table: Uint32Array, index: number, level: Level): number {
    return this.eff[level] === PTE ? contpte.batchHint(this, table, index) : 1;
  }

  // ---- hugetlb -------------------------------------------------------------------------------

  override makeHugeEntry(v: EntryReg, o: number, size: HugeSize): void {
    hugetlb.makeHuge(this, v, o, size);
  }

  override setHugeEntry(ctx: PageTableContext, _store: TableStore, table: Uint32Array, index: number, va: number, v: EntryReg, o: number, size: HugeSize): void {
    hugetlb.setHuge(this, ctx, table, index, va, v, o, size);
  }

  override getHugeEntry(_store: TableStore, table: Uint32Array, index: number, _va: number, out: EntryReg, o: number, size: HugeSize): void {
    hugetlb.getHuge(this, table, index, out, o, size);
  }

  override getAndClearHugeEntry(_ctx: PageTableContext, _store: TableStore, table: Uint32Array, index: number, _va: number, out: EntryReg, o: number, size: HugeSize): void {
    hugetlb.getAndClearHuge(this, table, index, out, o, size);
  }

  override wrprotectHugeEntry(ctx: PageTableContext, _store: TableStore, table: Uint32Array, index: number, va: number, size: HugeSize): void {
    hugetlb.wrprotectHuge(this, ctx, table, index, va, size);
  }

  override setHugeAccessFlags(ctx: PageTableContext, _store: TableStore, table: Uint32Array, index: number, va: number, v: EntryReg, o: number, dirty: boolean, size: HugeSize): boolean {
    return hugetlb.setHugeAccessFlags(this, ctx, table, index, va, v, o, dirty, size);
  }

  // ---- hardware view --------------------------------------------------------------------------

  /** The MMU tests PTE_VALID alone; present() also accepts PTE_PRESENT_INVALID (PROT_NONE, pmd_mkinvalid). */
  protected override mmuValid(v: EntryReg, o: number, _level: Level): boolean {
    return e.isValid(v, o);
  }

  walk(store: TableStore, rootPa: number, va: number, access?: WalkAccess): HardwareWalk {
    return arm64Walk(this, store, rootPa, va, access);
  }

  private plan: WalkPlan | undefined;

  override translate(store: TableStore, rootPa: number, va: number, access: WalkAccess | undefined, out: Translation): boolean {
    return arm64Translate(this, (this.plan ??= walkPlan(this.geometry)), store, rootPa, va, access ?? NO_ACCESS, out, null);
  }

  describe(v: EntryReg, o: number, level: Level): DescribedEntry {
    this.checkLevel(level);
    return arm64Describe(this, v, o, level);
  }

  protName(prot: ProtIndex): string {
    return arm64ProtName(prot);
  }
}
