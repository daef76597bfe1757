/**
 * Entry values travel in registers: a Uint32Array with the low word of an
 * entry at `v[o]` and the high word at `v[o + 1]`. 32-bit arches (8xx) keep
 * the high word 0. Hot paths reuse registers, so no entry is ever an object
 * or a BigInt; the BigInt helpers here are for display and tests only.
 */
export type EntryReg = Uint32Array;

/** A register file of `n` entries (2n words). */
export function entryRegs(n = 1): EntryReg {
  return new Uint32Array(2 * n);
}

export function copyEntry(dst: EntryReg, d: number, src: EntryReg, s: number): void {
  dst[d] = src[s]!;
  dst[d + 1] = src[s + 1]!;
}

export function sameEntry(a: EntryReg, ao: number, b: EntryReg, bo: number): boolean {
  return a[ao] === b[bo] && a[ao + 1] === b[bo + 1];
}

export function setEntryWords(v: EntryReg, o: number, lo: number, hi: number): void {
  v[o] = lo >>> 0;
  v[o + 1] = hi >>> 0;
}

export function entryIsZero(v: EntryReg, o: number): boolean {
  return (v[o]! | v[o + 1]!) === 0;
}

export function entryToBigInt(v: EntryReg, o: number): bigint {
  return (BigInt(v[o + 1]!) << 32n) | BigInt(v[o]!);
}

export function entryFromBigInt(v: EntryReg, o: number, x: bigint): void {
  v[o] = Number(x & 0xffffffffn);
  v[o + 1] = Number((x >> 32n) & 0xffffffffn);
}

/** A new register holding `x`. */
export function entryOf(x: bigint): EntryReg {
  const v = entryRegs(1);
  entryFromBigInt(v, 0, x);
  return v;
}

export function entryHex(v: EntryReg, o: number, bits: 32 | 64 = 64): string {
  const lo = v[o]!.toString(16).padStart(8, "0");
  if (bits === 32) return `0x${lo}`;
  return `0x${v[o + 1]!.toString(16).padStart(8, "0")}${lo}`;
}

/** Is bit `b` (0..63) set? */
export function testBit(v: EntryReg, o: number, b: number): boolean {
  return b < 32 ? (v[o]! & (1 << b)) !== 0 : (v[o + 1]! & (1 << (b - 32))) !== 0;
}

export const TWO_32 = 0x100000000;

/** Split a non-negative integer below 2^53 into words, writing them to v[o], v[o+1]. */
export function writeNumber(v: EntryReg, o: number, x: number): void {
  v[o] = x % TWO_32;
  v[o + 1] = Math.floor(x / TWO_32);
}

/** The words at v[o], v[o+1] as a number; exact while the value is below 2^53. */
export function readNumber(v: EntryReg, o: number): number {
  return v[o + 1]! * TWO_32 + v[o]!;
}
