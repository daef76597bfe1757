import { type Level, PGD, PMD, PTE, PUD } from "@hugemm/arch";
import {
  _KERNPG_TABLE,
  _PAGE_DIRTY,
  _PAGE_KNL_ERRATUM_MASK,
  _PAGE_NX_HI,
  _PAGE_PRESENT,
  _PAGE_PROTNONE,
  _PAGE_PSE,
  _PAGE_ACCESSED,
  _PAGE_RW,
  _PAGE_USER,
  FLAGS_HI,
} from "./bits";
import { pfnMaskLo } from "./pfn";

/*
 * The kernel's entry predicates on the (low, high) words. The PRESENT test
 * differs per level: PTEs count PROT_NONE entries as present, PMDs also count
 * PSE (a huge PMD being split or invalidated has PRESENT clear but stays
 * huge), PUDs and upper levels look at PRESENT alone.
 */

/**
 * pXd_none(): every level ignores stray Accessed/Dirty bits (Knights Landing
 * erratum) except the 5-level PGD, which only ever points to tables (and
 * Knights Landing has no LA57).
 */
export function isNone(lo: number, hi: number, level: Level, l5: boolean): boolean {
  if (level === PGD && l5) return (lo | hi) === 0;
  return ((lo & ~_PAGE_KNL_ERRATUM_MASK) | hi) === 0;
}

export function isPresent(lo: number, level: Level): boolean {
  if (level === PTE) return (lo & (_PAGE_PRESENT | _PAGE_PROTNONE)) !== 0;
  if (level === PMD) return (lo & (_PAGE_PRESENT | _PAGE_PROTNONE | _PAGE_PSE)) !== 0;
  return (lo & _PAGE_PRESENT) !== 0;
}

/** pte_protnone / pmd_protnone: PROTNONE without PRESENT. x86 has no pud_protnone. */
export function isProtnone(lo: number, level: Level): boolean {
  return level <= PMD && (lo & (_PAGE_PROTNONE | _PAGE_PRESENT)) === _PAGE_PROTNONE;
}

/** pmd_leaf / pud_leaf: PSE. A present PTE is a leaf; P4D and PGD never are. */
export function isLeaf(lo: number, level: Level): boolean {
  if (level === PTE) return isPresent(lo, PTE);
  if (level === PMD || level === PUD) return (lo & _PAGE_PSE) !== 0;
  return false;
}

/** pmd_trans_huge / pud_trans_huge: PSE (regardless of PRESENT). */
export function isTransHuge(lo: number, level: Level): boolean {
  return (level === PMD || level === PUD) && (lo & _PAGE_PSE) !== 0;
}

/** A present entry pointing to a next-level table. */
export function isTable(lo: number, level: Level): boolean {
  if (level === PTE) return false;
  if ((lo & _PAGE_PRESENT) === 0) return false;
  return level > PUD || (lo & _PAGE_PSE) === 0;
}

/**
 * pmd_bad / pud_bad / p4d_bad / pgd_bad: flags (under the level's pfn mask)
 * other than those of a table pointer. PMD and 5-level PGD require exactly
 * _KERNPG_TABLE (USER and Accessed aside); PUD and P4D only forbid other
 * bits. P4D and PGD tolerate NX, which page-table isolation sets on the
 * kernel copy of user PGD entries. The kernel asks only after ruling out
 * none and softleaf entries; so does this. A huge leaf, PROT_NONE or
 * invalidated ones included, is bad: it does not point to a table.
 */
export function isBad(lo: number, hi: number, level: Level, l5: boolean): boolean {
  if (level === PTE || isNone(lo, hi, level, l5)) return false;
  const p = (lo & _PAGE_PRESENT) !== 0;
  if (level === PMD && !isPresent(lo, PMD)) return false;
  if (level === PUD && !p && (lo & (_PAGE_PSE | _PAGE_PROTNONE)) === 0) return false;
  if (level > PUD && !p) return true;
  const flo = lo & ~pfnMaskLo(level, lo);
  const fhi = hi & FLAGS_HI;
  if (level === PMD) {
    return (flo & ~(_PAGE_USER | _PAGE_ACCESSED)) !== (_KERNPG_TABLE & ~_PAGE_ACCESSED) || fhi !== 0;
  }
  if (level === PUD) return (flo & ~(_KERNPG_TABLE | _PAGE_USER)) !== 0 || fhi !== 0;
  if (level === PGD && l5) return (flo & ~_PAGE_USER) !== _KERNPG_TABLE || (fhi & ~_PAGE_NX_HI) !== 0;
  return (flo & ~(_KERNPG_TABLE | _PAGE_USER)) !== 0 || (fhi & ~_PAGE_NX_HI) !== 0;
}

/**
 * pte_write / pmd_write / pud_write: Write, or (with shadow stacks) the
 * Write=0,Dirty=1 shadow-stack encoding at PTE and PSE-PMD level.
 */
export function isWrite(lo: number, level: Level, shadowStack: boolean): boolean {
  if ((lo & _PAGE_RW) !== 0) return true;
  if (!shadowStack) return false;
  if (level === PTE) return (lo & (_PAGE_RW | _PAGE_DIRTY)) === _PAGE_DIRTY;
  if (level === PMD) return (lo & (_PAGE_RW | _PAGE_DIRTY | _PAGE_PSE)) === (_PAGE_DIRTY | _PAGE_PSE);
  return false;
}
