import type { Level } from "./level";

/** How an entry reads as a whole. */
export type EntryKind =
  | "none"
  | "table"
  | "leaf"
  | "protnone"
  | "invalid-leaf"
  | "softleaf"
  | "bad";

/** One named field of an entry: a bit or a run of bits. */
export interface EntryField {
  /** The kernel's name: _PAGE_RW, PTE_AF, _PAGE_SWP_EXCLUSIVE, swap type, ... */
  readonly name: string;
  /** Lowest and highest bit number (inclusive, LSB = 0). */
  readonly lo: number;
  readonly hi: number;
  /** The field's value, as a number when it fits below 2^53, else a hex string. */
  readonly value: number | string;
  /** What the field means in this entry. */
  readonly meaning: string;
}

export interface DescribedEntry {
  readonly level: Level;
  readonly kind: EntryKind;
  /** Raw bits as hex, at the arch's width. */
  readonly hex: string;
  /** A one-line summary ("PMD leaf pfn 0x1200 rw- young dirty"). */
  readonly summary: string;
  /** Fields covering every set bit (and the notable clear ones). */
  readonly fields: readonly EntryField[];
}

/** The set bits of a raw value that no field covers: empty for a complete description. */
export function unnamedBits(d: DescribedEntry, lo: number, hi: number): number[] {
  const covered = new Set<number>();
  for (const f of d.fields) for (let b = f.lo; b <= f.hi; b++) covered.add(b);
  const missing: number[] = [];
  for (let b = 0; b < 64; b++) {
    const set = b < 32 ? (lo >>> b) & 1 : (hi >>> (b - 32)) & 1;
    if (set && !covered.has(b)) missing.push(b);
  }
  return missing;
}
