import {
  ArchBackendBase,
  ArchInputError,
  type Capabilities,
  checkProt,
  checkRange,
  type DescribedEntry,
  type EntryReg,
  type Geometry,
  type HardwareWalk,
  type HugeSize,
  type Level,
  type PageTableContext,
  PGD,
  PMD,
  type ProtIndex,
  PTE,
  PUD,
  softleafFormat,
  type SoftleafFormat,
  type TableStore,
  type Translation,
  type WalkPlan,
  walkPlan,
  type WalkAccess,
} from "@hugemm/arch";
import {
  _KERNPG_TABLE,
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_NX_HI,
  _PAGE_PRESENT,
  _PAGE_PROTNONE,
  _PAGE_PSE,
  _PAGE_RW,
  _PAGE_SAVED_DIRTY_HI,
  _PAGE_SOFT_DIRTY,
  _PAGE_SPECIAL,
  _PAGE_SWP_EXCLUSIVE,
  _PAGE_SWP_SOFT_DIRTY,
  _PAGE_SWP_UFFD_WP,
  _PAGE_TABLE,
  _PAGE_UFFD_WP,
  _PAGE_USER,
  SWP_OFFSET_BITS,
} from "./bits";
import { describeEntry, type DescribeContext } from "./describe";
import { PAGE_SHIFT, PMD_SHIFT, PUD_SHIFT, x86Geometry } from "./geometry";
import { modifyEntry } from "./modify";
import { resolveOptions, variantOf, type X86_64Config, type X86_64Options } from "./options";
import { advancePfn, encodePfn, entryAddress, mkinvalid, pfnMaskLo, readPfn } from "./pfn";
import { isBad, isLeaf, isNone, isPresent, isProtnone, isTable, isTransHuge, isWrite } from "./predicates";
import { PROT_HI, PROT_LO, protName } from "./prot";
import { clearSaveddirty, mksaveddirty } from "./saved-dirty";
import { decodeSwpOffset, decodeSwpType, encodeSoftleaf } from "./softleaf";
import { readSlot, writeSlot } from "./table-storage";
import { NO_ACCESS, translateTables, walkTables } from "./walk";

const TWO_32 = 0x100000000;

/** Everything but a contiguous hint: x86 has none. */
const X86_CAPABILITIES: Capabilities = {
  softDirty: true,
  uffdWp: true,
  special: true,
  protnone: true,
  pmdThp: true,
  pudThp: true,
  pudLeaf: true,
  pmdSoftleaf: true,
  contPte: false,
  migrationYoungDirty: true,
};

/** 2M PMD and 1G PUD leaves (1G hugetlb assumes X86_FEATURE_GBPAGES). */
const X86_HUGE_SIZES: readonly HugeSize[] = [
  { shift: PMD_SHIFT, level: PMD, ncontig: 1, cont: false, viaPteTables: false, thp: true, hugetlb: true },
  { shift: PUD_SHIFT, level: PUD, ncontig: 1, cont: false, viaPteTables: false, thp: true, hugetlb: true },
];

/** The x86-64 page-table format in 4-level or 5-level (LA57) paging. */
export class X86_64Backend extends ArchBackendBase {
  readonly arch = "x86-64";
  readonly variant: string;
  readonly description: string;
  readonly geometry: Geometry;
  readonly capabilities: Capabilities = X86_CAPABILITIES;
  readonly softleaf: SoftleafFormat;
  readonly swapOffsetBits = SWP_OFFSET_BITS;
  readonly hugeSizes: readonly HugeSize[] = X86_HUGE_SIZES;
  readonly config: X86_64Config;
  private readonly l5: boolean;
  private readonly describeContext: DescribeContext;

  constructor(config: X86_64Config) {
    super();
    this.config = config;
    this.l5 = config.levels === 5;
    this.variant = variantOf(config);
    this.geometry = x86Geometry(config.levels);
    this.softleaf = softleafFormat(this.geometry.physBits - PAGE_SHIFT, SWP_OFFSET_BITS);
    this.description = this.l5 ? "x86-64, 5-level paging (LA57), 57-bit VA" : "x86-64, 4-level paging, 48-bit VA";
    if (!config.shadowStack) this.description += ", no shadow stacks";
    if (!config.pmdModifyKeepsDirty) this.description += ", pmd_modify drops Dirty (v6.6..v7.3-rc3)";
    this.describeContext = {
      l5: this.l5,
      shadowStack: config.shadowStack,
      softleaf: this.softleaf,
      rootLevel: this.geometry.tables[0]!.level,
    };
  }

  // ---- construction --------------------------------------------------------

  pfnEntry(out: EntryReg, o: number, level: Level, pfn: number, prot: ProtIndex): void {
    this.checkLevel(level);
    checkRange("pfn", pfn, 0, this.geometry.maxPfn);
    checkProt(prot);
    encodePfn(out, o, level, pfn, PROT_LO[prot]!, PROT_HI[prot]!);
  }

  /** pmd_mkhuge / pud_mkhuge set PSE; x86 has no leaves above the PUD. */
  mkhuge(v: EntryReg, o: number, level: Level): void {
    if (level === PMD || level === PUD) v[o] = (v[o]! | _PAGE_PSE) >>> 0;
    else if (level !== PTE) throw new ArchInputError("huge level", level, "0 (pte, no-op), 1 (pmd, 2M) or 2 (pud, 1G): x86 has no larger leaves");
  }

  /** pmd/pud/p4d/pgd_populate: _PAGE_TABLE for user tables, _KERNPG_TABLE for kernel ones. */
  tableEntry(out: EntryReg, o: number, level: Level, tablePa: number, user: boolean): void {
    if (!(level >= PMD && level <= PGD) || (level | 0) !== level) {
      throw new ArchInputError("table-entry level", level, "1 (pmd), 2 (pud), 3 (p4d) or 4 (pgd)");
    }
    const limit = 2 ** this.geometry.physBits;
    if (!(Number.isInteger(tablePa) && tablePa >= 0 && tablePa < limit && tablePa % 4096 === 0)) {
      throw new ArchInputError("table physical address", tablePa, `a 4K-aligned address below 2^${this.geometry.physBits}`);
    }
    out[o] = ((tablePa % TWO_32) | (user ? _PAGE_TABLE : _KERNPG_TABLE)) >>> 0;
    out[o + 1] = Math.floor(tablePa / TWO_32);
  }

  modify(v: EntryReg, o: number, level: Level, prot: ProtIndex): void {
    this.checkLevel(level);
    checkProt(prot);
    modifyEntry(v, o, level, prot, this.config.pmdModifyKeepsDirty);
  }

  // ---- predicates ----------------------------------------------------------

  none(v: EntryReg, o: number, level: Level): boolean {
    return isNone(v[o]!, v[o + 1]!, level, this.l5);
  }
  present(v: EntryReg, o: number, level: Level): boolean {
    return isPresent(v[o]!, level);
  }
  leaf(v: EntryReg, o: number, level: Level): boolean {
    return isLeaf(v[o]!, level);
  }
  transHuge(v: EntryReg, o: number, level: Level): boolean {
    return isTransHuge(v[o]!, level);
  }
  table(v: EntryReg, o: number, level: Level): boolean {
    return isTable(v[o]!, level);
  }
  bad(v: EntryReg, o: number, level: Level): boolean {
    return isBad(v[o]!, v[o + 1]!, level, this.l5);
  }
  write(v: EntryReg, o: number, level: Level): boolean {
    return isWrite(v[o]!, level, this.config.shadowStack);
  }
  /** _PAGE_DIRTY_BITS: hardware Dirty or SavedDirty. */
  dirty(v: EntryReg, o: number, _level: Level): boolean {
    return (v[o]! & _PAGE_DIRTY) !== 0 || (v[o + 1]! & _PAGE_SAVED_DIRTY_HI) !== 0;
  }
  young(v: EntryReg, o: number, _level: Level): boolean {
    return (v[o]! & _PAGE_ACCESSED) !== 0;
  }
  special(v: EntryReg, o: number, _level: Level): boolean {
    return (v[o]! & _PAGE_SPECIAL) !== 0;
  }
  softDirty(v: EntryReg, o: number, _level: Level): boolean {
    return (v[o]! & _PAGE_SOFT_DIRTY) !== 0;
  }
  uffdWp(v: EntryReg, o: number, _level: Level): boolean {
    return (v[o]! & _PAGE_UFFD_WP) !== 0;
  }
  protnone(v: EntryReg, o: number, level: Level): boolean {
    return isProtnone(v[o]!, level);
  }
  user(v: EntryReg, o: number, _level: Level): boolean {
    return (v[o]! & _PAGE_USER) !== 0;
  }
  exec(v: EntryReg, o: number, _level: Level): boolean {
    return (v[o + 1]! & _PAGE_NX_HI) === 0;
  }
  cont(_v: EntryReg, _o: number, _level: Level): boolean {
    return false;
  }
  pfn(v: EntryReg, o: number, level: Level): number {
    return readPfn(v, o, level);
  }
  tablePa(v: EntryReg, o: number, level: Level): number {
    const lo = v[o]!;
    return entryAddress(lo, v[o + 1]!, pfnMaskLo(level, lo));
  }

  // ---- modifiers -----------------------------------------------------------

  /**
   * pte_mkwrite() for an ordinary (non-shadow-stack) VMA: set Write and bring
   * SavedDirty back to Dirty. pte_mkwrite_novma() alone leaves SavedDirty in
   * place; pte_dirty() reads the same either way.
   */
  mkwrite(v: EntryReg, o: number, _level: Level): void {
    v[o] = (v[o]! | _PAGE_RW) >>> 0;
    clearSaveddirty(v, o);
  }
  wrprotect(v: EntryReg, o: number, _level: Level): void {
    v[o] = (v[o]! & ~_PAGE_RW) >>> 0;
    mksaveddirty(v, o);
  }
  /** pte_mkdirty also marks the entry soft-dirty. */
  mkdirty(v: EntryReg, o: number, _level: Level): void {
    v[o] = (v[o]! | _PAGE_DIRTY | _PAGE_SOFT_DIRTY) >>> 0;
    mksaveddirty(v, o);
  }
  mkclean(v: EntryReg, o: number, _level: Level): void {
    v[o] = (v[o]! & ~_PAGE_DIRTY) >>> 0;
    v[o + 1] = (v[o + 1]! & ~_PAGE_SAVED_DIRTY_HI) >>> 0;
  }
  mkyoung(v: EntryReg, o: number, _level: Level): void {
    v[o] = (v[o]! | _PAGE_ACCESSED) >>> 0;
  }
  mkold(v: EntryReg, o: number, _level: Level): void {
    v[o] = (v[o]! & ~_PAGE_ACCESSED) >>> 0;
  }
  mkspecial(v: EntryReg, o: number, _level: Level): void {
    v[o] = (v[o]! | _PAGE_SPECIAL) >>> 0;
  }
  mksoftDirty(v: EntryReg, o: number, _level: Level): void {
    v[o] = (v[o]! | _PAGE_SOFT_DIRTY) >>> 0;
  }
  clearSoftDirty(v: EntryReg, o: number, _level: Level): void {
    v[o] = (v[o]! & ~_PAGE_SOFT_DIRTY) >>> 0;
  }
  /** pte_mkuffd_wp also write-protects. */
  mkuffdWp(v: EntryReg, o: number, level: Level): void {
    v[o] = (v[o]! | _PAGE_UFFD_WP) >>> 0;
    this.wrprotect(v, o, level);
  }
  clearUffdWp(v: EntryReg, o: number, _level: Level): void {
    v[o] = (v[o]! & ~_PAGE_UFFD_WP) >>> 0;
  }
  mkinvalid(v: EntryReg, o: number, level: Level): void {
    this.checkLevel(level);
    mkinvalid(v, o, level);
  }
  advancePfn(v: EntryReg, o: number, _level: Level, nr: number): void {
    checkRange("nr", nr, 0, this.geometry.maxPfn + 1);
    advancePfn(v, o, nr);
  }

  // ---- softleaves ------------------------------------------------------------

  softleafEntry(out: EntryReg, o: number, level: Level, swpType: number, offset: number): void {
    if (!(level >= PTE && level <= PUD) || (level | 0) !== level) {
      throw new ArchInputError("softleaf level", level, "0 (pte), 1 (pmd) or 2 (pud)");
    }
    encodeSoftleaf(out, o, swpType, offset);
  }
  /**
   * Neither none nor present. A PUD with PSE or PROTNONE is a huge leaf the
   * kernel reaches through pud_trans_huge() (pud_present() looks at PRESENT
   * only), never a softleaf.
   */
  isSoftleaf(v: EntryReg, o: number, level: Level): boolean {
    const lo = v[o]!;
    if (level > PUD || isNone(lo, v[o + 1]!, level, this.l5) || isPresent(lo, level)) return false;
    return level !== PUD || (lo & (_PAGE_PSE | _PAGE_PROTNONE)) === 0;
  }
  swpType(v: EntryReg, o: number, _level: Level): number {
    return decodeSwpType(v, o);
  }
  swpOffset(v: EntryReg, o: number, _level: Level): number {
    return decodeSwpOffset(v, o);
  }
  swpExclusive(v: EntryReg, o: number, _level: Level): boolean {
    return (v[o]! & _PAGE_SWP_EXCLUSIVE) !== 0;
  }
  swpMkExclusive(v: EntryReg, o: number, _level: Level): void {
    v[o] = (v[o]! | _PAGE_SWP_EXCLUSIVE) >>> 0;
  }
  swpClearExclusive(v: EntryReg, o: number, _level: Level): void {
    v[o] = (v[o]! & ~_PAGE_SWP_EXCLUSIVE) >>> 0;
  }
  swpSoftDirty(v: EntryReg, o: number, _level: Level): boolean {
    return (v[o]! & _PAGE_SWP_SOFT_DIRTY) !== 0;
  }
  swpMkSoftDirty(v: EntryReg, o: number, _level: Level): void {
    v[o] = (v[o]! | _PAGE_SWP_SOFT_DIRTY) >>> 0;
  }
  swpClearSoftDirty(v: EntryReg, o: number, _level: Level): void {
    v[o] = (v[o]! & ~_PAGE_SWP_SOFT_DIRTY) >>> 0;
  }
  swpUffdWp(v: EntryReg, o: number, _level: Level): boolean {
    return (v[o]! & _PAGE_SWP_UFFD_WP) !== 0;
  }
  swpMkUffdWp(v: EntryReg, o: number, _level: Level): void {
    v[o] = (v[o]! | _PAGE_SWP_UFFD_WP) >>> 0;
  }
  swpClearUffdWp(v: EntryReg, o: number, _level: Level): void {
    v[o] = (v[o]! & ~_PAGE_SWP_UFFD_WP) >>> 0;
  }

  // ---- storage and page-table operations ------------------------------------

  readEntry(table: Uint32Array, index: number, _level: Level, out: EntryReg, o: number): void {
    readSlot(table, index, out, o);
  }
  writeEntry(table: Uint32Array, index: number, _level: Level, v: EntryReg, o: number): void {
    writeSlot(table, index, v, o);
  }

  /**
   * ptep/pmdp/pudp_set_access_flags: the MMU sets Accessed and Dirty itself,
   * so the entry is rewritten only for a write fault (`dirty`), where it also
   * gains Write. Reports whether the entries differed.
   */
  override setAccessFlags(_ctx: PageTableContext, table: Uint32Array, index: number, level: Level, _va: number, v: EntryReg, o: number, dirty: boolean): boolean {
    const s = this.scratch;
    this.readEntry(table, index, level, s, 2);
    const changed = s[2] !== v[o] || s[3] !== v[o + 1];
    if (changed && dirty) this.writeEntry(table, index, level, v, o);
    return changed;
  }

  /**
   * pmdp_invalidate_ad: no flush of its own. Once the entry is invalid the
   * MMU can no longer set Accessed or Dirty in it, so the flush the caller
   * issues afterwards (change_huge_pmd's) is enough.
   */
  override invalidateAd(_ctx: PageTableContext, table: Uint32Array, index: number, level: Level, _va: number, out: EntryReg, o: number): void {
    this.establishInvalid(table, index, level, out, o);
  }

  // ---- hardware view -------------------------------------------------------

  /** The MMU tests _PAGE_PRESENT alone; pmd_present() also accepts PSE (pmd_mkinvalid) and PROTNONE. */
  protected override mmuValid(v: EntryReg, o: number, _level: Level): boolean {
    return (v[o]! & _PAGE_PRESENT) !== 0;
  }

  walk(store: TableStore, rootPa: number, va: number, access: WalkAccess = {}): HardwareWalk {
    return walkTables(this.geometry, store, rootPa, va, access, (v, o, level) => this.describe(v, o, level));
  }

  private plan: WalkPlan | undefined;

  override translate(store: TableStore, rootPa: number, va: number, access: WalkAccess | undefined, out: Translation): boolean {
    return translateTables(this.geometry, (this.plan ??= walkPlan(this.geometry)), store, rootPa, va, access ?? NO_ACCESS, out, null, null);
  }

  describe(v: EntryReg, o: number, level: Level): DescribedEntry {
    this.checkLevel(level);
    return describeEntry(v, o, level, this.describeContext);
  }

  protName(prot: ProtIndex): string {
    return protName(prot);
  }
}

/** Create an x86-64 backend from options or a variant string ("4level", "5level", "5level+no-shstk"). */
export function createX86_64Backend(options?: X86_64Options | string): X86_64Backend {
  return new X86_64Backend(resolveOptions(options));
}
