/**
 * Counters under the kernel's own names. Events (vm_event_item) only grow;
 * node state items (node_stat_item / zone_stat_item) go up and down. Each
 * kind is one Float64Array indexed by the position of its name here, so hot
 * paths bump `ev[PGFAULT]++` with no lookup.
 */
export const VM_EVENTS = [
  "pgpgin",
  "pgpgout",
  "pswpin",
  "pswpout",
  "pgalloc_normal",
  "pgalloc_movable",
  "allocstall_normal",
  "allocstall_movable",
  "pgfree",
  "pgactivate",
  "pgdeactivate",
  "pglazyfree",
  "pgfault",
  "pgmajfault",
  "pglazyfreed",
  "pgrefill",
  "pgreuse",
  "pgsteal_kswapd",
  "pgsteal_direct",
  "pgscan_kswapd",
  "pgscan_direct",
  "pgscan_anon",
  "pgscan_file",
  "pgsteal_anon",
  "pgsteal_file",
  "pginodesteal",
  "pgrotated",
  "pgmigrate_success",
  "pgmigrate_fail",
  "thp_migration_success",
  "thp_migration_fail",
  "thp_migration_split",
  "compact_migrate_scanned",
  "compact_free_scanned",
  "compact_isolated",
  "compact_stall",
  "compact_fail",
  "compact_success",
  "kcompactd_wake",
  "thp_fault_alloc",
  "thp_fault_fallback",
  "thp_fault_fallback_charge",
  "thp_collapse_alloc",
  "thp_collapse_alloc_failed",
  "thp_file_alloc",
  "thp_file_fallback",
  "thp_file_mapped",
  "thp_split_page",
  "thp_split_page_failed",
  "thp_deferred_split_page",
  "thp_underused_split_page",
  "thp_split_pmd",
  "thp_scan_exceed_none_pte",
  "thp_scan_exceed_swap_pte",
  "thp_scan_exceed_share_pte",
  "thp_split_pud",
  "thp_zero_page_alloc",
  "thp_zero_page_alloc_failed",
  "thp_swpout",
  "thp_swpout_fallback",
  "swap_ra",
  "swap_ra_hit",
  "cow_ksm",
  "unevictable_pgs_culled",
  "unevictable_pgs_mlocked",
  "unevictable_pgs_munlocked",
  "htlb_buddy_alloc_success",
  "htlb_buddy_alloc_fail",
] as const;

export const NODE_STATS = [
  "nr_free_pages",
  "nr_zone_inactive_anon",
  "nr_zone_active_anon",
  "nr_zone_inactive_file",
  "nr_zone_active_file",
  "nr_zone_unevictable",
  "nr_mlock",
  "nr_bounce",
  "nr_free_cma",
  "nr_inactive_anon",
  "nr_active_anon",
  "nr_inactive_file",
  "nr_active_file",
  "nr_unevictable",
  "nr_isolated_anon",
  "nr_isolated_file",
  "nr_anon_pages",
  "nr_mapped",
  "nr_file_pages",
  "nr_dirty",
  "nr_writeback",
  "nr_shmem",
  "nr_shmem_hugepages",
  "nr_shmem_pmdmapped",
  "nr_file_hugepages",
  "nr_file_pmdmapped",
  "nr_anon_transparent_hugepages",
  "nr_anon_pud_transparent_hugepages",
  "nr_swapcached",
  "nr_page_table_pages",
  "nr_sec_page_table_pages",
  "nr_kernel_stack",
  "nr_foll_pin_acquired",
  "nr_foll_pin_released",
] as const;

/**
 * Events of the model that the kernel has no counter for, kept apart from
 * vm_event_item so the kernel's views stay the kernel's.
 */
export const MODEL_EVENTS = [
  /** A PUD THP split could not get its page tables (the "at-split" deposit policy under memory pressure). */
  "thp_split_pud_failed",
  /** Anonymous PUD THP faults that mapped a new folio (the kernel counts only PMD faults in thp_fault_alloc). */
  "thp_fault_alloc_pud",
  /** Anonymous PUD THP faults that fell back to smaller mappings. */
  "thp_fault_fallback_pud",
] as const;

export type VmEventName = (typeof VM_EVENTS)[number];
export type NodeStatName = (typeof NODE_STATS)[number];

function indexOf<T extends readonly string[]>(names: T): { [K in T[number]]: number } {
  const out: Record<string, number> = {};
  names.forEach((n, i) => (out[n] = i));
  return out as { [K in T[number]]: number };
}

/** Positions of each event in a VmEvents array. */
export const EV = indexOf(VM_EVENTS);
/** Positions of each model event. */
export const ME = indexOf(MODEL_EVENTS);
/** Positions of each node stat in a NodeStats array. */
export const NS = indexOf(NODE_STATS);

export function newEvents(): Float64Array {
  return new Float64Array(VM_EVENTS.length);
}

export function newModelEvents(): Float64Array {
  return new Float64Array(MODEL_EVENTS.length);
}

export function newNodeStats(): Float64Array {
  return new Float64Array(NODE_STATS.length);
}

/** Events counted per huge-page size (/sys/kernel/mm/transparent_hugepage/hugepages-<size>kB/stats). */
export const MTHP_STATS = [
  "anon_fault_alloc",
  "anon_fault_fallback",
  "anon_fault_fallback_charge",
  "zswpout",
  "swpin",
  "swpin_fallback",
  "swpin_fallback_charge",
  "swpout",
  "swpout_fallback",
  "shmem_alloc",
  "shmem_fallback",
  "shmem_fallback_charge",
  "split",
  "split_failed",
  "split_deferred",
  "nr_anon",
  "nr_anon_partially_mapped",
  "collapse_alloc",
  "collapse_alloc_failed",
  "collapse_exceed_swap_pte",
  "collapse_exceed_none_pte",
  "collapse_exceed_shared_pte",
] as const;
export type MthpStatName = (typeof MTHP_STATS)[number];
/** Per-order stride of the mTHP stats array: index [order * MTHP_STRIDE + stat]. */
export const MTHP_STRIDE = 32;
/** Orders the mTHP stats array covers (up to a PUD order). */
export const MTHP_MAX_ORDER = 20;

export function newMthpStats(): Float64Array {
  return new Float64Array((MTHP_MAX_ORDER + 1) * MTHP_STRIDE);
}
export const MS = indexOf(MTHP_STATS);
