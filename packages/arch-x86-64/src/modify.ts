import { type EntryReg, type Level, PMD } from "@hugemm/arch";
import { _PAGE_DIRTY, _PAGE_RW, PAGE_CHG_MASK_HI, PAGE_CHG_MASK_LO } from "./bits";
import { constructMaskLo, flipProtnoneGuard } from "./pfn";
import { PROT_HI, PROT_LO } from "./prot";
import { clearSaveddirty, mksaveddirty } from "./saved-dirty";

/**
 * pte_modify / pmd_modify / pud_modify: keep the bits in _PAGE_CHG_MASK
 * (pfn, cache bits, Accessed, both dirties, special, soft-dirty, uffd-wp,
 * PAT/PSE), take the rest from the new protection, invert the pfn field if
 * the entry crosses the present/non-present boundary, then settle Dirty
 * against the new Write bit: an entry that was writable moves Dirty aside,
 * one that was not gets SavedDirty back if it becomes writable.
 *
 * `pmdKeepsDirty` false reproduces kernels v6.6..v7.3-rc3, whose pmd_modify
 * masked off the hardware Dirty bit.
 */
export function modifyEntry(v: EntryReg, o: number, level: Level, prot: number, pmdKeepsDirty: boolean): void {
  const oldLo = v[o]!;
  const oldHi = v[o + 1]!;
  const keepLo = level === PMD && !pmdKeepsDirty ? PAGE_CHG_MASK_LO & ~_PAGE_DIRTY : PAGE_CHG_MASK_LO;
  v[o] = ((oldLo & keepLo) | (PROT_LO[prot]! & ~PAGE_CHG_MASK_LO)) >>> 0;
  v[o + 1] = ((oldHi & PAGE_CHG_MASK_HI) | (PROT_HI[prot]! & ~PAGE_CHG_MASK_HI)) >>> 0;
  flipProtnoneGuard(oldLo, oldHi, v, o, constructMaskLo(level));
  if ((oldLo & _PAGE_RW) !== 0) mksaveddirty(v, o);
  else clearSaveddirty(v, o);
}
