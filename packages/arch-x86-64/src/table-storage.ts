import { ArchInputError, type EntryReg } from "@hugemm/arch";
import { PTRS_PER_TABLE } from "./geometry";

/*
 * A table page is 512 little-endian 64-bit entries: entry i is words 2i
 * (bits 0..31) and 2i+1 (bits 32..63). Every level, folded or not, uses the
 * same layout.
 */

function checkIndex(index: number): void {
  if ((index & (PTRS_PER_TABLE - 1)) !== index) {
    throw new ArchInputError("table index", index, `an integer in [0, ${PTRS_PER_TABLE - 1}]`);
  }
}

export function readSlot(table: Uint32Array, index: number, out: EntryReg, o: number): void {
  checkIndex(index);
  const w = index << 1;
  out[o] = table[w]!;
  out[o + 1] = table[w + 1]!;
}

export function writeSlot(table: Uint32Array, index: number, v: EntryReg, o: number): void {
  checkIndex(index);
  const w = index << 1;
  table[w] = v[o]!;
  table[w + 1] = v[o + 1]!;
}
