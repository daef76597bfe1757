import type { EntryReg } from "@hugemm/arch";

/*
 * Raw table access, the kernel's __ptep_get() / __set_pte(): an 8-byte
 * descriptor is two consecutive little-endian words of the table page.
 */

export function loadEntry(table: Uint32Array, index: number, out: EntryReg, o: number): void {
  const w = index << 1;
  out[o] = table[w]!;
  out[o + 1] = table[w + 1]!;
}

export function storeEntry(table: Uint32Array, index: number, v: EntryReg, o: number): void {
  const w = index << 1;
  table[w] = v[o]!;
  table[w + 1] = v[o + 1]!;
}

export function storeWords(table: Uint32Array, index: number, lo: number, hi: number): void {
  const w = index << 1;
  table[w] = lo;
  table[w + 1] = hi;
}
