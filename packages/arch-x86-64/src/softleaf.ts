import { checkRange, type EntryReg, SWP_TYPE_COUNT } from "@hugemm/arch";
import { SWP_OFFSET_BITS, SWP_OFFSET_FIRST_BIT, SWP_OFFSET_LO_BITS, SWP_TYPE_SHIFT_HI } from "./bits";

/*
 * Swap / softleaf entries (pgtable_64.h): type in bits 59..63, the offset
 * stored inverted in bits 9..58 (so that, like a PROT_NONE entry, it points
 * at non-existent memory under L1TF), and P, PSE and PROTNONE clear. The
 * same format serves PTEs, PMD migration entries and PUD entries. The flag
 * bits 1..3 sit below the offset and are handled by the caller.
 */

/** 2^50 - 1: the largest offset, and the mask that inverts one. */
export const SWP_OFFSET_MAX = 2 ** SWP_OFFSET_BITS - 1;
const LO_SPAN = 2 ** SWP_OFFSET_LO_BITS;
const OFFSET_HI_MASK = (1 << SWP_TYPE_SHIFT_HI) - 1;

/** __swp_entry_to_pte(__swp_entry(type, offset)). */
export function encodeSoftleaf(out: EntryReg, o: number, swpType: number, offset: number): void {
  checkRange("swap type", swpType, 0, SWP_TYPE_COUNT - 1);
  checkRange("swap offset", offset, 0, SWP_OFFSET_MAX);
  const inverted = SWP_OFFSET_MAX - offset;
  out[o] = ((inverted % LO_SPAN) * 2 ** SWP_OFFSET_FIRST_BIT) >>> 0;
  out[o + 1] = (Math.floor(inverted / LO_SPAN) | (swpType << SWP_TYPE_SHIFT_HI)) >>> 0;
}

/** __swp_type(). */
export function decodeSwpType(v: EntryReg, o: number): number {
  return v[o + 1]! >>> SWP_TYPE_SHIFT_HI;
}

/** __swp_offset(): un-invert bits 9..58. */
export function decodeSwpOffset(v: EntryReg, o: number): number {
  const stored = (v[o]! >>> SWP_OFFSET_FIRST_BIT) + (v[o + 1]! & OFFSET_HI_MASK) * LO_SPAN;
  return SWP_OFFSET_MAX - stored;
}
