import { type EntryReg, type Level, PMD, PUD } from "@hugemm/arch";
import {
  _PAGE_PRESENT,
  _PAGE_PROTNONE,
  _PAGE_PSE,
  PFN_MASK_HI,
  PMD_PAGE_MASK_LO,
  PTE_PFN_MASK_LO,
  PUD_PAGE_MASK_LO,
} from "./bits";

/*
 * The pfn field and the L1TF "PTE inversion" (pgtable-invert.h). A
 * non-present entry that is not all zero stores its pfn bits inverted, so a
 * speculative load through it hits memory that does not exist; pfn readers
 * undo the inversion. All arithmetic is on the two 32-bit words.
 */

const TWO_20 = 0x100000;
const TWO_32 = 0x100000000;

/** __pte_needs_invert(): a non-zero entry without PRESENT. */
export function needsInvert(lo: number, hi: number): boolean {
  return (lo | hi) !== 0 && (lo & _PAGE_PRESENT) === 0;
}

/** pXd_pfn_mask() (low word): PSE entries at PMD/PUD use the large mask; everything else bits 12..51. */
export function pfnMaskLo(level: Level, lo: number): number {
  if ((lo & _PAGE_PSE) !== 0) {
    if (level === PMD) return PMD_PAGE_MASK_LO;
    if (level === PUD) return PUD_PAGE_MASK_LO;
  }
  return PTE_PFN_MASK_LO;
}

/** The mask pfn_pte / pfn_pmd / pfn_pud apply whatever the flags (low word). */
export function constructMaskLo(level: Level): number {
  if (level === PMD) return PMD_PAGE_MASK_LO;
  if (level === PUD) return PUD_PAGE_MASK_LO;
  return PTE_PFN_MASK_LO;
}

/** pte_pfn / pmd_pfn / pud_pfn; p4d_pfn and pgd_pfn never invert. */
export function readPfn(v: EntryReg, o: number, level: Level): number {
  const lo = v[o]!;
  const hi = v[o + 1]!;
  const inv = level <= PUD && needsInvert(lo, hi) ? -1 : 0;
  const alo = ((lo ^ inv) & pfnMaskLo(level, lo)) >>> 12;
  const ahi = (hi ^ inv) & PFN_MASK_HI;
  return ahi * TWO_20 + alo;
}

/**
 * pfn_pte / pfn_pmd / pfn_pud: the pfn (inverted when the protection is not
 * present) masked to the level's address bits, OR the protection words.
 */
export function encodePfn(out: EntryReg, o: number, level: Level, pfn: number, protLo: number, protHi: number): void {
  const inv = needsInvert(protLo, protHi) ? -1 : 0;
  const alo = (pfn % TWO_20) * 4096;
  const ahi = Math.floor(pfn / TWO_20);
  out[o] = (((alo ^ inv) & constructMaskLo(level)) | protLo) >>> 0;
  out[o + 1] = (((ahi ^ inv) & PFN_MASK_HI) | protHi) >>> 0;
}

/** The physical address an entry points to (table entries: never inverted). */
export function entryAddress(lo: number, hi: number, maskLo: number): number {
  return (hi & PFN_MASK_HI) * TWO_32 + ((lo & maskLo) >>> 0);
}

/**
 * flip_protnone_guard(): when an update moves an entry across the
 * present/non-present boundary, invert the pfn field under `maskLo`.
 */
export function flipProtnoneGuard(oldLo: number, oldHi: number, v: EntryReg, o: number, maskLo: number): void {
  if (needsInvert(oldLo, oldHi) !== needsInvert(v[o]!, v[o + 1]!)) {
    v[o] = (v[o]! ^ maskLo) >>> 0;
    v[o + 1] = (v[o + 1]! ^ PFN_MASK_HI) >>> 0;
  }
}

/** pte_advance_pfn(): add nr pages, or subtract them from an inverted entry. */
export function advancePfn(v: EntryReg, o: number, nr: number): void {
  const delta = nr * 4096;
  const dlo = delta % TWO_32;
  const dhi = Math.floor(delta / TWO_32);
  const lo = v[o]!;
  const hi = v[o + 1]!;
  if (needsInvert(lo, hi)) {
    const borrow = lo < dlo ? 1 : 0;
    v[o] = (lo - dlo) >>> 0;
    v[o + 1] = (hi - dhi - borrow) >>> 0;
  } else {
    const sum = lo + dlo;
    v[o] = sum >>> 0;
    v[o + 1] = (hi + dhi + (sum >= TWO_32 ? 1 : 0)) >>> 0;
  }
}

/**
 * pmd_mkinvalid / pud_mkinvalid: pfn_pXd(pXd_pfn(x), flags & ~(PRESENT|PROTNONE)).
 * The flags keep PSE, so the result is still non-zero and non-present: the
 * pfn comes back inverted. At PTE level the same construction is applied.
 */
export function mkinvalid(v: EntryReg, o: number, level: Level): void {
  const lo = v[o]!;
  const hi = v[o + 1]!;
  const maskLo = pfnMaskLo(level, lo);
  const inv = level <= PUD && needsInvert(lo, hi) ? -1 : 0;
  const alo = (lo ^ inv) & maskLo;
  const ahi = (hi ^ inv) & PFN_MASK_HI;
  const flo = lo & ~maskLo & ~(_PAGE_PRESENT | _PAGE_PROTNONE);
  const fhi = hi & ~PFN_MASK_HI;
  const inv2 = needsInvert(flo, fhi) ? -1 : 0;
  v[o] = (((alo ^ inv2) & constructMaskLo(level)) | flo) >>> 0;
  v[o + 1] = (((ahi ^ inv2) & PFN_MASK_HI) | fhi) >>> 0;
}
