import { checkRange, SWP_TYPE_COUNT } from "@hugemm/arch";
import {
  _PAGE_PRESENT,
  _PAGE_SWP_EXCLUSIVE,
  SWP_OFFSET_BITS,
  SWP_OFFSET_SHIFT,
  SWP_TYPE_MASK,
  SWP_TYPE_SHIFT,
} from "./bits";

/**
 * The 8xx swap PTE (nohash/32/pgtable.h): __swp_entry(type, offset) is
 * type | offset << 5 and __swp_entry_to_pte() shifts that left by 3, so
 *   bits 0..1   zero (PRESENT and NO_CACHE: not present)
 *   bit  2      _PAGE_SWP_EXCLUSIVE (borrowed from _PAGE_SH)
 *   bits 3..7   type
 *   bits 8..31  offset
 * There is no soft-dirty or uffd-wp bit. With 16K pages the word is
 * replicated into the four cells like any pte_t.
 */
export const SWP_MAX_OFFSET = 2 ** SWP_OFFSET_BITS - 1;

export function swpEntryWord(swpType: number, offset: number): number {
  checkRange("swap type", swpType, 0, SWP_TYPE_COUNT - 1);
  checkRange("swap offset", offset, 0, SWP_MAX_OFFSET);
  return ((swpType << SWP_TYPE_SHIFT) | (offset << SWP_OFFSET_SHIFT)) >>> 0;
}

/** !pte_none && !pte_present. */
export function isSwpWord(w: number): boolean {
  return w !== 0 && (w & _PAGE_PRESENT) === 0;
}

export function swpTypeOfWord(w: number): number {
  return (w >>> SWP_TYPE_SHIFT) & SWP_TYPE_MASK;
}

export function swpOffsetOfWord(w: number): number {
  return w >>> SWP_OFFSET_SHIFT;
}

export function swpExclusiveWord(w: number): boolean {
  return (w & _PAGE_SWP_EXCLUSIVE) !== 0;
}
