/**
 * Page contents are a 32-bit tag per page. Patterns written by simulated
 * stores derive each page's tag from a seed and the page's position, so a
 * large folio written whole needs no per-page storage.
 */
export function mixTag(seed: number, n: number): number {
  let h = (seed ^ Math.imul(n >>> 0, 0x9e3779b1)) >>> 0;
  h ^= Math.floor(n / 0x100000000);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  // 0 means "never written" (zero page contents); keep patterns distinguishable from it.
  return h === 0 ? 1 : h;
}

/** The seed of a store that writes zeroes (not a pattern seed: those are 32-bit unsigned). */
export const ZERO_FILL = -1;

/** What a store seeded by `seed` leaves in page `n`: the pattern's tag, or 0 for ZERO_FILL. */
export function contentTag(seed: number, n: number): number {
  return seed === ZERO_FILL ? 0 : mixTag(seed, n);
}
