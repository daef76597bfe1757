/**
 * What a backend supports. The conformance kit skips exactly the checks whose
 * capability a backend lacks, and reports each skip by name.
 */
export interface Capabilities {
  /** HAVE_ARCH_SOFT_DIRTY: soft-dirty bits in present entries and in swap entries. */
  readonly softDirty: boolean;
  /** HAVE_ARCH_USERFAULTFD_WP: uffd-wp bits in present entries and in swap entries. */
  readonly uffdWp: boolean;
  /** ARCH_HAS_PTE_SPECIAL. */
  readonly special: boolean;
  /** ARCH_HAS_PTE_PROTNONE: NUMA-hinting PROT_NONE entries that stay "present". */
  readonly protnone: boolean;
  /** HAVE_ARCH_TRANSPARENT_HUGEPAGE: PMD leaves for THP. */
  readonly pmdThp: boolean;
  /** HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD: PUD leaves for THP. */
  readonly pudThp: boolean;
  /** The hardware has PUD-level leaves (block/1G pages) at all, for THP or hugetlb. */
  readonly pudLeaf: boolean;
  /** ARCH_ENABLE_THP_MIGRATION: PMD-level softleaves (migration, device-private). */
  readonly pmdSoftleaf: boolean;
  /** The arch manages a contiguous hint transparently for user PTEs (arm64 contpte). */
  readonly contPte: boolean;
  /** swap_migration_ad_supported: migration entries carry young and dirty. */
  readonly migrationYoungDirty: boolean;
}

export type CapabilityName = keyof Capabilities;

export const CAPABILITY_NAMES: readonly CapabilityName[] = [
  "softDirty",
  "uffdWp",
  "special",
  "protnone",
  "pmdThp",
  "pudThp",
  "pudLeaf",
  "pmdSoftleaf",
  "contPte",
  "migrationYoungDirty",
];
