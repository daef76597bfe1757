import { ArchBackendBase, ArchInputError, checkProt, checkRange, type EntryReg, type Level, type ProtIndex } from "@hugemm/arch";
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_EXEC,
  _PAGE_PRESENT,
  _PAGE_RO,
  _PAGE_SH,
  _PAGE_SPECIAL,
  _PMD_BAD,
  _PMD_PRESENT,
  _PMD_USER,
  HUGE_LEAF,
  PMD_TABLE_MASK,
} from "./bits";
import type { Ppc8xxConfig } from "./config";
import { isPteLevel, requireTableLevel } from "./level";

/**
 * A level-1 word that holds a huge pte value rather than a table pointer:
 * the logical entry of an 8M hugetlb page (huge_ptep_get() on its pmdp),
 * which carries pte_mkhuge()'s SPS|HUGE. A table pointer never has
 * _PAGE_HUGE (0x800), one of the _PMD_BAD bits.
 */
export function pmdHoldsHugePte(w: number): boolean {
  return (w & _PAGE_PRESENT) !== 0 && (w & HUGE_LEAF) === HUGE_LEAF;
}

/**
 * The entry algebra. 8xx entries are one 32-bit word (the high register
 * word is always 0). The pte_* helpers apply at every level: the only
 * leaves above the PTE level are the huge ptes of 8M hugetlb pages, which
 * hugetlb manipulates with the same helpers. Structural questions at
 * levels 1..4 (table, bad, user) read the word as a PMD.
 */
export abstract class Ppc8xxEntryAlgebra extends ArchBackendBase {
  protected readonly cfg: Ppc8xxConfig;

  constructor(cfg: Ppc8xxConfig) {
    super();
    this.cfg = cfg;
  }

  // ---- construction ----------------------------------------------------------

  /** pfn_pte(): RPN at PAGE_SHIFT, protection bits below. At level 1..4 it is the pte value of an 8M page. */
  pfnEntry(out: EntryReg, o: number, level: Level, pfn: number, prot: ProtIndex): void {
    isPteLevel(level);
    checkRange("pfn", pfn, 0, this.cfg.maxPfn);
    checkProt(prot);
    out[o] = (pfn * this.cfg.pageSize + this.cfg.protValues[prot]!) >>> 0;
    out[o + 1] = 0;
  }

  /** pte_mkhuge() (SPS|HUGE) for the level-1 huge pte; the contract makes it a no-op at the PTE level. */
  mkhuge(v: EntryReg, o: number, level: Level): void {
    if (!isPteLevel(level)) v[o] = (v[o]! | HUGE_LEAF) >>> 0;
  }

  /** pmd_populate() (user: adds _PMD_USER) or pmd_populate_kernel(). */
  tableEntry(out: EntryReg, o: number, level: Level, tablePa: number, user: boolean): void {
    requireTableLevel(level, "table entry");
    checkRange("PTE table physical address", tablePa, 0, PMD_TABLE_MASK);
    if ((tablePa & ~PMD_TABLE_MASK) !== 0) {
      throw new ArchInputError("PTE table physical address", tablePa, "a 4K-aligned address (PTE tables and 16K-mode fragments are 4K)");
    }
    out[o] = (tablePa | (user ? _PMD_USER : 0) | _PMD_PRESENT) >>> 0;
    out[o + 1] = 0;
  }

  /** pte_modify(): keep _PAGE_CHG_MASK (RPN, DIRTY, ACCESSED, SPECIAL), take the rest from the new protection. */
  modify(v: EntryReg, o: number, level: Level, prot: ProtIndex): void {
    isPteLevel(level);
    checkProt(prot);
    v[o] = ((v[o]! & this.cfg.chgMask) | this.cfg.protValues[prot]!) >>> 0;
  }

  // ---- predicates ------------------------------------------------------------

  /** pte_none / pmd_none: _PTE_NONE_MASK is 0, so only the zero word. */
  none(v: EntryReg, o: number, level: Level): boolean {
    isPteLevel(level);
    return v[o] === 0;
  }

  /** pte_present (_PAGE_PRESENT) / pmd_present (_PMD_PRESENT): the same bit. */
  present(v: EntryReg, o: number, level: Level): boolean {
    isPteLevel(level);
    return (v[o]! & _PAGE_PRESENT) !== 0;
  }

  /** A present PTE; at level 1 only the 8M huge pte (the kernel's pmd_leaf() is always false). */
  leaf(v: EntryReg, o: number, level: Level): boolean {
    return isPteLevel(level) ? (v[o]! & _PAGE_PRESENT) !== 0 : pmdHoldsHugePte(v[o]!);
  }

  /** No THP on 8xx. */
  transHuge(_v: EntryReg, _o: number, level: Level): boolean {
    isPteLevel(level);
    return false;
  }

  table(v: EntryReg, o: number, level: Level): boolean {
    if (isPteLevel(level)) return false;
    const w = v[o]!;
    return (w & _PMD_PRESENT) !== 0 && (w & _PMD_BAD) === 0;
  }

  /** pmd_bad(): _PMD_BAD bits in a present word. */
  bad(v: EntryReg, o: number, level: Level): boolean {
    if (isPteLevel(level)) return false;
    const w = v[o]!;
    return (w & _PMD_PRESENT) !== 0 && (w & _PMD_BAD) !== 0;
  }

  /** pte_write(): the PP field is not RO (nor NA, which shares RO's low bit). */
  write(v: EntryReg, o: number, level: Level): boolean {
    isPteLevel(level);
    return (v[o]! & _PAGE_RO) === 0;
  }

  dirty(v: EntryReg, o: number, level: Level): boolean {
    isPteLevel(level);
    return (v[o]! & _PAGE_DIRTY) !== 0;
  }

  young(v: EntryReg, o: number, level: Level): boolean {
    isPteLevel(level);
    return (v[o]! & _PAGE_ACCESSED) !== 0;
  }

  special(v: EntryReg, o: number, level: Level): boolean {
    isPteLevel(level);
    return (v[o]! & _PAGE_SPECIAL) !== 0;
  }

  softDirty(_v: EntryReg, _o: number, level: Level): boolean {
    isPteLevel(level);
    return false;
  }

  uffdWp(_v: EntryReg, _o: number, level: Level): boolean {
    isPteLevel(level);
    return false;
  }

  /** 8xx has no ARCH_HAS_PTE_PROTNONE: PAGE_NONE is a valid entry with NA permissions. */
  protnone(_v: EntryReg, _o: number, level: Level): boolean {
    isPteLevel(level);
    return false;
  }

  /**
   * There is no user bit in a PTE: user access is granted by _PMD_USER in the
   * PMD (walk() applies it). For a leaf the answer is "an ASID-tagged
   * mapping": present without _PAGE_SH, which every kernel protection
   * (_PAGE_KERNEL_*) carries and no user protection does. A table pointer
   * answers with its _PMD_USER.
   */
  user(v: EntryReg, o: number, level: Level): boolean {
    const w = v[o]!;
    if (isPteLevel(level) || pmdHoldsHugePte(w)) return (w & (_PAGE_PRESENT | _PAGE_SH)) === _PAGE_PRESENT;
    return (w & _PMD_PRESENT) !== 0 && (w & _PMD_USER) !== 0;
  }

  /** pte_exec(). A table pointer's bit 0x40 is _PMD_USER, not exec. */
  exec(v: EntryReg, o: number, level: Level): boolean {
    const w = v[o]!;
    if (isPteLevel(level) || pmdHoldsHugePte(w)) return (w & _PAGE_EXEC) !== 0;
    return false;
  }

  /** 8xx has no contiguous hint bit: its large pages are page-size flags on replicated cells. */
  cont(_v: EntryReg, _o: number, level: Level): boolean {
    isPteLevel(level);
    return false;
  }

  /** pte_pfn / pmd_pfn: the word shifted by PAGE_SHIFT. */
  pfn(v: EntryReg, o: number, level: Level): number {
    isPteLevel(level);
    return v[o]! >>> this.cfg.pageShift;
  }

  /** __pa of pmd_page_vaddr(): the 4K-aligned PTE table address. */
  tablePa(v: EntryReg, o: number, level: Level): number {
    requireTableLevel(level, "tablePa");
    return (v[o]! & PMD_TABLE_MASK) >>> 0;
  }

  // ---- modifiers ---------------------------------------------------------------

  /** pte_mkwrite_novma(): clear the whole PP field (so PAGE_NONE becomes RW too). */
  mkwrite(v: EntryReg, o: number, level: Level): void {
    isPteLevel(level);
    v[o] = (v[o]! & ~_PAGE_RO) >>> 0;
  }

  /** pte_wrprotect(): PP = RO, keeping DIRTY. */
  wrprotect(v: EntryReg, o: number, level: Level): void {
    isPteLevel(level);
    v[o] = (v[o]! | _PAGE_RO) >>> 0;
  }

  mkdirty(v: EntryReg, o: number, level: Level): void {
    isPteLevel(level);
    v[o] = (v[o]! | _PAGE_DIRTY) >>> 0;
  }

  mkclean(v: EntryReg, o: number, level: Level): void {
    isPteLevel(level);
    v[o] = (v[o]! & ~_PAGE_DIRTY) >>> 0;
  }

  mkyoung(v: EntryReg, o: number, level: Level): void {
    isPteLevel(level);
    v[o] = (v[o]! | _PAGE_ACCESSED) >>> 0;
  }

  mkold(v: EntryReg, o: number, level: Level): void {
    isPteLevel(level);
    v[o] = (v[o]! & ~_PAGE_ACCESSED) >>> 0;
  }

  mkspecial(v: EntryReg, o: number, level: Level): void {
    isPteLevel(level);
    v[o] = (v[o]! | _PAGE_SPECIAL) >>> 0;
  }

  /** No HAVE_ARCH_SOFT_DIRTY: the generic helpers return the entry unchanged. */
  mksoftDirty(_v: EntryReg, _o: number, level: Level): void {
    isPteLevel(level);
  }

  clearSoftDirty(_v: EntryReg, _o: number, level: Level): void {
    isPteLevel(level);
  }

  /** No HAVE_ARCH_USERFAULTFD_WP: unchanged. */
  mkuffdWp(_v: EntryReg, _o: number, level: Level): void {
    isPteLevel(level);
  }

  clearUffdWp(_v: EntryReg, _o: number, level: Level): void {
    isPteLevel(level);
  }

  /** pmd_mkinvalid() exists only with THP, which 8xx does not have. */
  mkinvalid(_v: EntryReg, _o: number, level: Level): void {
    isPteLevel(level);
    throw new ArchInputError("entry operation", "mkinvalid", "an operation ppc8xx has: pmd_mkinvalid() needs THP, which 8xx lacks");
  }

  /** pte_advance_pfn(): add nr pages to the word (wrapping as the C unsigned add does). */
  advancePfn(v: EntryReg, o: number, level: Level, nr: number): void {
    isPteLevel(level);
    v[o] = (v[o]! + nr * this.cfg.pageSize) >>> 0;
  }
}
