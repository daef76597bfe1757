import type { EntryReg } from "@hugemm/arch";
import {
  HI_SWP_OFFSET_MASK,
  LO_SWP_EXCLUSIVE,
  LO_SWP_UFFD_WP,
  SWP_OFFSET_LO_BITS,
  SWP_OFFSET_SHIFT,
  SWP_TYPE_MASK,
  SWP_TYPE_SHIFT,
} from "./bits";

/*
 * The swap / softleaf layout since v6.10 (the same at PTE and PMD level;
 * __pte_to_swp_entry() is the raw value, no inversion):
 *
 *   bits 0-1   zero (not valid, not a table)
 *   bit  2     PTE_SWP_EXCLUSIVE
 *   bit  3     PTE_SWP_UFFD_WP
 *   bits 4-5   unused
 *   bits 6-10  swap type
 *   bit  11    zero (would read as PTE_PRESENT_INVALID)
 *   bits 12-61 swap offset
 */

const OFFSET_LO_SPAN = 2 ** SWP_OFFSET_LO_BITS;

/** __swp_entry_to_pte(__swp_entry(type, offset)); the caller has range-checked both. */
export function writeSoftleaf(out: EntryReg, o: number, swpType: number, offset: number): void {
  out[o] = (((swpType & SWP_TYPE_MASK) << SWP_TYPE_SHIFT) | ((offset % OFFSET_LO_SPAN) << SWP_OFFSET_SHIFT)) >>> 0;
  out[o + 1] = Math.floor(offset / OFFSET_LO_SPAN);
}

export function softleafType(v: EntryReg, o: number): number {
  return (v[o]! >>> SWP_TYPE_SHIFT) & SWP_TYPE_MASK;
}

export function softleafOffset(v: EntryReg, o: number): number {
  return (v[o]! >>> SWP_OFFSET_SHIFT) + (v[o + 1]! & HI_SWP_OFFSET_MASK) * OFFSET_LO_SPAN;
}

export function softleafExclusive(v: EntryReg, o: number): boolean {
  return (v[o]! & LO_SWP_EXCLUSIVE) !== 0;
}

export function softleafSetExclusive(v: EntryReg, o: number, on: boolean): void {
  v[o] = (on ? v[o]! | LO_SWP_EXCLUSIVE : v[o]! & ~LO_SWP_EXCLUSIVE) >>> 0;
}

export function softleafUffdWp(v: EntryReg, o: number): boolean {
  return (v[o]! & LO_SWP_UFFD_WP) !== 0;
}

export function softleafSetUffdWp(v: EntryReg, o: number, on: boolean): void {
  v[o] = (on ? v[o]! | LO_SWP_UFFD_WP : v[o]! & ~LO_SWP_UFFD_WP) >>> 0;
}
