/*
 * The migrate_pfn encoding of include/linux/migrate.h: flags in the low
 * bits, the pfn above MIGRATE_PFN_SHIFT. Values go past 2^32 for high
 * pfns, so they are doubles and are taken apart with arithmetic.
 */

export const MIGRATE_PFN_VALID = 1 << 0;
export const MIGRATE_PFN_MIGRATE = 1 << 1;
export const MIGRATE_PFN_WRITE = 1 << 3;
export const MIGRATE_PFN_COMPOUND = 1 << 4;
export const MIGRATE_PFN_SHIFT = 6;
const SCALE = 2 ** MIGRATE_PFN_SHIFT;

/** enum migrate_vma_direction. */
export const MIGRATE_VMA_SELECT_SYSTEM = 1 << 0;
export const MIGRATE_VMA_SELECT_DEVICE_PRIVATE = 1 << 1;
export const MIGRATE_VMA_SELECT_DEVICE_COHERENT = 1 << 2;
export const MIGRATE_VMA_SELECT_COMPOUND = 1 << 3;

/** migrate_pfn: a valid entry for `pfn`. */
export function migratePfn(pfn: number): number {
  return pfn * SCALE + MIGRATE_PFN_VALID;
}

/** The flag bits of an entry. */
export function mpfnFlags(v: number): number {
  return v % SCALE;
}

/** migrate_pfn_to_page as a pfn: -1 for an entry without a valid pfn. */
export function mpfnToPfn(v: number): number {
  return (v % SCALE) & MIGRATE_PFN_VALID ? Math.floor(v / SCALE) : -1;
}

export function mpfnHas(v: number, flag: number): boolean {
  return (mpfnFlags(v) & flag) !== 0;
}

/** The entry with `flag` set (on) or cleared. */
export function mpfnWith(v: number, flag: number, on: boolean): number {
  const has = mpfnHas(v, flag);
  return on === has ? v : on ? v + flag : v - flag;
}
