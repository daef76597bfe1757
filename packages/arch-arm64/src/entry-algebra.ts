import type { EntryReg } from "@hugemm/arch";
import {
  HI_CONT,
  HI_DIRTY,
  HI_MODIFY_MASK,
  HI_SPECIAL,
  HI_UFFD_WP,
  HI_UXN,
  HI_WRITE,
  LO_AF,
  LO_MODIFY_MASK,
  LO_PRESENT_INVALID,
  LO_RDONLY,
  LO_TABLE,
  LO_TYPE_MASK,
  LO_TYPE_PAGE,
  LO_USER,
  LO_VALID,
} from "./bits";

/*
 * The arm64 entry algebra on a register (v[o] low word, v[o+1] high word).
 * pmd_* and pud_* helpers are pte_* on the same value (pmd_pte()), so one
 * set of functions serves every level. Write/dirty follow the DBM model:
 *
 *   dirty  writable | PTE_RDONLY  PTE_WRITE  PTE_DIRTY
 *     0       0     |     1           0          0
 *     0       1     |     1           1          0
 *     1       0     |     1           0          1
 *     1       1     |     0           1          x
 */

export function isNone(v: EntryReg, o: number): boolean {
  return (v[o]! | v[o + 1]!) === 0;
}

export function isValid(v: EntryReg, o: number): boolean {
  return (v[o]! & LO_VALID) !== 0;
}

/** pte_present_invalid(): not valid for the MMU but present to the kernel (PROT_NONE, pmd_mkinvalid). */
export function isPresentInvalid(v: EntryReg, o: number): boolean {
  return (v[o]! & (LO_VALID | LO_PRESENT_INVALID)) === LO_PRESENT_INVALID;
}

/** pte_present() = valid || present-invalid. */
export function isPresent(v: EntryReg, o: number): boolean {
  return (v[o]! & (LO_VALID | LO_PRESENT_INVALID)) !== 0;
}

/** Type bits 0b11: a table above the PTE level, a page at the PTE level. */
export function isTypeTable(v: EntryReg, o: number): boolean {
  return (v[o]! & LO_TYPE_MASK) === LO_TYPE_PAGE;
}

export function isCont(v: EntryReg, o: number): boolean {
  return (v[o + 1]! & HI_CONT) !== 0;
}

/** pte_valid_cont(). */
export function isValidCont(v: EntryReg, o: number): boolean {
  return (v[o]! & LO_VALID) !== 0 && (v[o + 1]! & HI_CONT) !== 0;
}

export function isWrite(v: EntryReg, o: number): boolean {
  return (v[o + 1]! & HI_WRITE) !== 0;
}

/** pte_hw_dirty(): writable (DBM) and the hardware has cleared PTE_RDONLY. */
export function isHwDirty(v: EntryReg, o: number): boolean {
  return (v[o + 1]! & HI_WRITE) !== 0 && (v[o]! & LO_RDONLY) === 0;
}

export function isSwDirty(v: EntryReg, o: number): boolean {
  return (v[o + 1]! & HI_DIRTY) !== 0;
}

export function isDirty(v: EntryReg, o: number): boolean {
  return isSwDirty(v, o) || isHwDirty(v, o);
}

export function isYoung(v: EntryReg, o: number): boolean {
  return (v[o]! & LO_AF) !== 0;
}

export function isSpecial(v: EntryReg, o: number): boolean {
  return (v[o + 1]! & HI_SPECIAL) !== 0;
}

export function isUffdWp(v: EntryReg, o: number): boolean {
  return (v[o + 1]! & HI_UFFD_WP) !== 0;
}

export function isUser(v: EntryReg, o: number): boolean {
  return (v[o]! & LO_USER) !== 0;
}

/** pte_user_exec(): UXN clear. */
export function isUserExec(v: EntryReg, o: number): boolean {
  return (v[o + 1]! & HI_UXN) === 0;
}

/** pte_protnone(): present-invalid with the PROT_NONE encoding (!USER, UXN). */
export function isProtnone(v: EntryReg, o: number): boolean {
  return isPresentInvalid(v, o) && (v[o]! & LO_USER) === 0 && (v[o + 1]! & HI_UXN) !== 0;
}

/** pte_mkwrite_novma(): set PTE_WRITE; only a software-dirty entry becomes hardware-writable. */
export function mkwrite(v: EntryReg, o: number): void {
  const hi = (v[o + 1]! | HI_WRITE) >>> 0;
  v[o + 1] = hi;
  if ((hi & HI_DIRTY) !== 0) v[o] = (v[o]! & ~LO_RDONLY) >>> 0;
}

/** pte_wrprotect(): carry hardware dirtiness into PTE_DIRTY, clear PTE_WRITE, set PTE_RDONLY. */
export function wrprotect(v: EntryReg, o: number): void {
  let hi = v[o + 1]!;
  if (isHwDirty(v, o)) hi |= HI_DIRTY;
  v[o + 1] = (hi & ~HI_WRITE) >>> 0;
  v[o] = (v[o]! | LO_RDONLY) >>> 0;
}

/** pte_mkdirty(): set PTE_DIRTY and, if writable, clear PTE_RDONLY. */
export function mkdirty(v: EntryReg, o: number): void {
  const hi = (v[o + 1]! | HI_DIRTY) >>> 0;
  v[o + 1] = hi;
  if ((hi & HI_WRITE) !== 0) v[o] = (v[o]! & ~LO_RDONLY) >>> 0;
}

/** pte_mkclean(): clear PTE_DIRTY and set PTE_RDONLY. */
export function mkclean(v: EntryReg, o: number): void {
  v[o + 1] = (v[o + 1]! & ~HI_DIRTY) >>> 0;
  v[o] = (v[o]! | LO_RDONLY) >>> 0;
}

export function mkyoung(v: EntryReg, o: number): void {
  v[o] = (v[o]! | LO_AF) >>> 0;
}

export function mkold(v: EntryReg, o: number): void {
  v[o] = (v[o]! & ~LO_AF) >>> 0;
}

export function mkspecial(v: EntryReg, o: number): void {
  v[o + 1] = (v[o + 1]! | HI_SPECIAL) >>> 0;
}

export function mkcont(v: EntryReg, o: number): void {
  v[o + 1] = (v[o + 1]! | HI_CONT) >>> 0;
}

export function mknoncont(v: EntryReg, o: number): void {
  v[o + 1] = (v[o + 1]! & ~HI_CONT) >>> 0;
}

/** pte_mkuffd_wp(): set PTE_UFFD_WP and write-protect. */
export function mkuffdWp(v: EntryReg, o: number): void {
  v[o + 1] = (v[o + 1]! | HI_UFFD_WP) >>> 0;
  wrprotect(v, o);
}

export function clearUffdWp(v: EntryReg, o: number): void {
  v[o + 1] = (v[o + 1]! & ~HI_UFFD_WP) >>> 0;
}

/** pte_mkinvalid(): PRESENT_INVALID on, VALID off; the kernel still sees a present entry. */
export function mkinvalid(v: EntryReg, o: number): void {
  v[o] = ((v[o]! | LO_PRESENT_INVALID) & ~LO_VALID) >>> 0;
}

/** pmd_mkhuge() / pud_mkhuge(): type SECT (clear bit 1), leaving VALID alone. */
export function mkhugeBits(v: EntryReg, o: number): void {
  v[o] = (v[o]! & ~LO_TABLE) >>> 0;
}

/**
 * pte_modify(): replace the protection bits, keeping the pfn, young, dirty
 * and software state. Hardware dirtiness is saved in PTE_DIRTY first and
 * re-applied afterwards, because the new RDONLY would otherwise erase it.
 */
export function modifyBits(v: EntryReg, o: number, protLo: number, protHi: number): void {
  let lo = v[o]!;
  let hi = v[o + 1]!;
  if ((hi & HI_WRITE) !== 0 && (lo & LO_RDONLY) === 0) hi |= HI_DIRTY;
  lo = (lo & ~LO_MODIFY_MASK) | (protLo & LO_MODIFY_MASK);
  hi = (hi & ~HI_MODIFY_MASK) | (protHi & HI_MODIFY_MASK);
  v[o] = lo >>> 0;
  v[o + 1] = hi >>> 0;
  if ((hi & HI_DIRTY) !== 0) mkdirty(v, o);
}
