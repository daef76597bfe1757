import type { EntryReg } from "@hugemm/arch";
import { _PAGE_DIRTY, _PAGE_RW, _PAGE_SAVED_DIRTY_HI } from "./bits";

/*
 * With shadow stacks, Write=0,Dirty=1 marks a shadow-stack page. The kernel
 * therefore never leaves Dirty set on an ordinary read-only entry: it moves
 * Dirty into the software SavedDirty bit (58) when Write is clear, and back
 * when Write is set. These moves are unconditional in the kernel; only
 * pte_write()'s reading of Write=0,Dirty=1 depends on the CPU feature.
 */

/** mksaveddirty_shift(): if Write=0, Dirty moves to SavedDirty. */
export function mksaveddirty(v: EntryReg, o: number): void {
  const lo = v[o]!;
  if ((lo & _PAGE_RW) === 0 && (lo & _PAGE_DIRTY) !== 0) {
    v[o] = (lo & ~_PAGE_DIRTY) >>> 0;
    v[o + 1] = (v[o + 1]! | _PAGE_SAVED_DIRTY_HI) >>> 0;
  }
}

/** clear_saveddirty_shift(): if Write=1, SavedDirty moves back to Dirty. */
export function clearSaveddirty(v: EntryReg, o: number): void {
  const lo = v[o]!;
  if ((lo & _PAGE_RW) !== 0) {
    const hi = v[o + 1]!;
    if ((hi & _PAGE_SAVED_DIRTY_HI) !== 0) v[o] = (lo | _PAGE_DIRTY) >>> 0;
    v[o + 1] = (hi & ~_PAGE_SAVED_DIRTY_HI) >>> 0;
  }
}
