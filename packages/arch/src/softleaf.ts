import { ArchInputError } from "./errors";

/**
 * Generic swap-entry types (include/linux/swap.h with MIGRATION,
 * DEVICE_PRIVATE and MEMORY_FAILURE all configured): the special types are
 * carved off the top of the 5-bit type space.
 */
export const MAX_SWAPFILES_SHIFT = 5;
export const SWP_TYPE_COUNT = 1 << MAX_SWAPFILES_SHIFT;
export const MAX_SWAPFILES = 24;
export const SWP_HWPOISON = 24;
export const SWP_MIGRATION_READ = 25;
export const SWP_MIGRATION_READ_EXCLUSIVE = 26;
export const SWP_MIGRATION_WRITE = 27;
export const SWP_DEVICE_WRITE = 28;
export const SWP_DEVICE_READ = 29;
export const SWP_DEVICE_EXCLUSIVE = 30;
export const SWP_PTE_MARKER = 31;

/** enum softleaf_type (include/linux/leafops.h). */
export const SoftleafType = {
  NONE: 0,
  SWAP: 1,
  MIGRATION_READ: 2,
  MIGRATION_READ_EXCLUSIVE: 3,
  MIGRATION_WRITE: 4,
  DEVICE_PRIVATE_READ: 5,
  DEVICE_PRIVATE_WRITE: 6,
  DEVICE_EXCLUSIVE: 7,
  HWPOISON: 8,
  MARKER: 9,
} as const;
export type SoftleafType = (typeof SoftleafType)[keyof typeof SoftleafType];

const SOFTLEAF_NAMES = [
  "none",
  "swap",
  "migration-read",
  "migration-read-exclusive",
  "migration-write",
  "device-private-read",
  "device-private-write",
  "device-exclusive",
  "hwpoison",
  "marker",
] as const;

export function softleafName(t: SoftleafType): string {
  return SOFTLEAF_NAMES[t]!;
}

/** The softleaf type of a swap type number (a real swap device below MAX_SWAPFILES). */
export function softleafTypeOf(swpType: number): SoftleafType {
  if (swpType < MAX_SWAPFILES) return SoftleafType.SWAP;
  switch (swpType) {
    case SWP_HWPOISON:
      return SoftleafType.HWPOISON;
    case SWP_MIGRATION_READ:
      return SoftleafType.MIGRATION_READ;
    case SWP_MIGRATION_READ_EXCLUSIVE:
      return SoftleafType.MIGRATION_READ_EXCLUSIVE;
    case SWP_MIGRATION_WRITE:
      return SoftleafType.MIGRATION_WRITE;
    case SWP_DEVICE_WRITE:
      return SoftleafType.DEVICE_PRIVATE_WRITE;
    case SWP_DEVICE_READ:
      return SoftleafType.DEVICE_PRIVATE_READ;
    case SWP_DEVICE_EXCLUSIVE:
      return SoftleafType.DEVICE_EXCLUSIVE;
    case SWP_PTE_MARKER:
      return SoftleafType.MARKER;
    default:
      throw new ArchInputError("swap type", swpType, `an integer in [0, ${SWP_TYPE_COUNT - 1}]`);
  }
}

/** The swap type number that encodes a softleaf type (SWAP has many: use the device's own). */
export function swpTypeOf(t: SoftleafType): number {
  switch (t) {
    case SoftleafType.HWPOISON:
      return SWP_HWPOISON;
    case SoftleafType.MIGRATION_READ:
      return SWP_MIGRATION_READ;
    case SoftleafType.MIGRATION_READ_EXCLUSIVE:
      return SWP_MIGRATION_READ_EXCLUSIVE;
    case SoftleafType.MIGRATION_WRITE:
      return SWP_MIGRATION_WRITE;
    case SoftleafType.DEVICE_PRIVATE_WRITE:
      return SWP_DEVICE_WRITE;
    case SoftleafType.DEVICE_PRIVATE_READ:
      return SWP_DEVICE_READ;
    case SoftleafType.DEVICE_EXCLUSIVE:
      return SWP_DEVICE_EXCLUSIVE;
    case SoftleafType.MARKER:
      return SWP_PTE_MARKER;
    default:
      throw new ArchInputError("softleaf type", t, "a non-swap softleaf type");
  }
}

export function softleafIsMigration(t: SoftleafType): boolean {
  return t === SoftleafType.MIGRATION_READ || t === SoftleafType.MIGRATION_READ_EXCLUSIVE || t === SoftleafType.MIGRATION_WRITE;
}

export function softleafIsDevicePrivate(t: SoftleafType): boolean {
  return t === SoftleafType.DEVICE_PRIVATE_READ || t === SoftleafType.DEVICE_PRIVATE_WRITE;
}

/** softleaf_has_pfn(): the offset carries a pfn. */
export function softleafHasPfn(t: SoftleafType): boolean {
  return softleafIsMigration(t) || softleafIsDevicePrivate(t) || t === SoftleafType.DEVICE_EXCLUSIVE || t === SoftleafType.HWPOISON;
}

/** PTE marker bits carried in the offset of a SWP_PTE_MARKER entry. */
export const PTE_MARKER_UFFD_WP = 1;
export const PTE_MARKER_POISONED = 2;
export const PTE_MARKER_GUARD = 4;
export const PTE_MARKER_MASK = 7;

/**
 * Offset layout of pfn-carrying entries for one arch: the pfn in the low
 * SWP_PFN_BITS, then the migration young and dirty bits above it.
 */
export interface SoftleafFormat {
  /** SWP_PFN_BITS = MAX_PHYSMEM_BITS - PAGE_SHIFT. */
  readonly pfnBits: number;
  /** The largest offset the arch's swap PTE can hold. */
  readonly maxOffset: number;
  /** swap_migration_ad_supported. */
  readonly migrationYoungDirty: boolean;
}

export function softleafFormat(pfnBits: number, offsetBits: number): SoftleafFormat {
  const maxOffset = 2 ** offsetBits - 1;
  return { pfnBits, maxOffset, migrationYoungDirty: offsetBits >= pfnBits + 2 };
}

/** make_*_migration_entry(pfn) with young and dirty folded in when the arch supports them. */
export function migrationOffset(f: SoftleafFormat, pfn: number, young: boolean, dirty: boolean): number {
  const limit = 2 ** f.pfnBits;
  if (!(pfn >= 0 && pfn < limit) || pfn !== Math.floor(pfn)) {
    throw new ArchInputError("migration pfn", pfn, `an integer in [0, 2^${f.pfnBits})`);
  }
  if (!f.migrationYoungDirty) return pfn;
  return pfn + (young ? limit : 0) + (dirty ? 2 * limit : 0);
}

export function softleafPfn(f: SoftleafFormat, offset: number): number {
  return offset % 2 ** f.pfnBits;
}

export function migrationYoung(f: SoftleafFormat, offset: number): boolean {
  return f.migrationYoungDirty && Math.floor(offset / 2 ** f.pfnBits) % 2 === 1;
}

export function migrationDirty(f: SoftleafFormat, offset: number): boolean {
  return f.migrationYoungDirty && Math.floor(offset / 2 ** (f.pfnBits + 1)) % 2 === 1;
}
