import type { Kernel } from "../kernel/kernel";
import { MIGRATETYPE_NAMES, MIGRATE_PCPTYPES } from "../phys/migratetype";
import type { ZoneName } from "../phys/zone";
import { EV, NODE_STATS, NS, VM_EVENTS, type NodeStatName, ME, MODEL_EVENTS } from "./counters";
import { reportBuild, type ReportBuild } from "./build";
import { checkReportValue, globalNodeState, hugetlbReport, hugetlbTotalPages, totalreservePages, type ReportField } from "./meminfo";

/**
 * /proc/vmstat (mm/vmstat.c vmstat_text and vmstat_start): zone stat items,
 * NUMA events, node stat items, the vm_stat items (dirty thresholds, memmap
 * pages), then the vm events, each "name value", summed over every node, for
 * the build reportBuild() describes. Items the model keeps (the counters of
 * stats/counters.ts) print its value; vmstatAlwaysZero() names the items it
 * has no notion of, which print 0.
 *
 * Derived rather than kept: nr_free_pages and nr_free_pages_blocks come from
 * the zones' free lists; nr_zone_{inactive,active}_{anon,file} and
 * nr_zone_unevictable equal the node LRU sizes summed over nodes (the kernel
 * moves both together in update_lru_size); nr_zone_write_pending is
 * nr_dirty + nr_writeback (what folio dirtying and writeback add to it);
 * nr_hugetlb is the hugetlb pools' pages; the dirty thresholds are
 * global_dirty_limits at the default ratios. pgpgin/pgpgout: the model
 * counts them in kB already, which is what the kernel prints after halving
 * its sector counts, so they print unchanged.
 */

/** Kernel names that differ from the model's counter names. */
const EVENT_ALIASES: Readonly<Record<string, string>> = { compact_daemon_wake: "kcompactd_wake" };

/** vmstat_item_print_in_thp: counted in pages, printed in PMD-size THPs. */
const PRINT_IN_THP = new Set(["nr_shmem_hugepages", "nr_shmem_pmdmapped", "nr_file_hugepages", "nr_file_pmdmapped", "nr_anon_transparent_hugepages"]);

/** A kernel item name and whether this build has it. */
type Item = readonly [name: string, present: boolean];

function zoneItems(b: ReportBuild): Item[] {
  return [
    ["nr_free_pages", true],
    ["nr_free_pages_blocks", true],
    ["nr_zone_inactive_anon", true],
    ["nr_zone_active_anon", true],
    ["nr_zone_inactive_file", true],
    ["nr_zone_active_file", true],
    ["nr_zone_unevictable", true],
    ["nr_zone_write_pending", true],
    ["nr_mlock", true],
    ["nr_zspages", true],
    ["nr_free_cma", true],
    ["nr_unaccepted", b.unaccepted],
  ];
}

function numaItems(b: ReportBuild): Item[] {
  return ["numa_hit", "numa_miss", "numa_foreign", "numa_interleave", "numa_local", "numa_other"].map((n) => [n, b.numa] as const);
}

function nodeItems(b: ReportBuild): Item[] {
  const always = (n: string): Item => [n, true];
  return [
    ...[
      "nr_inactive_anon",
      "nr_active_anon",
      "nr_inactive_file",
      "nr_active_file",
      "nr_unevictable",
      "nr_slab_reclaimable",
      "nr_slab_unreclaimable",
      "nr_isolated_anon",
      "nr_isolated_file",
      "workingset_nodes",
      "workingset_refault_anon",
      "workingset_refault_file",
      "workingset_activate_anon",
      "workingset_activate_file",
      "workingset_restore_anon",
      "workingset_restore_file",
      "workingset_nodereclaim",
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
      "nr_vmscan_write",
      "nr_vmscan_immediate_reclaim",
      "nr_dirtied",
      "nr_written",
      "nr_throttled_written",
      "nr_kernel_misc_reclaimable",
      "nr_foll_pin_acquired",
      "nr_foll_pin_released",
    ].map(always),
    ["nr_vmalloc", b.version === "mm-new"],
    ...["nr_kernel_stack", "nr_page_table_pages", "nr_sec_page_table_pages", "nr_iommu_pages", "nr_swapcached"].map(always),
    ["pgpromote_success", b.numaBalancing],
    ["pgpromote_candidate", b.numaBalancing],
    ["pgpromote_candidate_nrl", b.numaBalancing],
    ...["pgdemote_kswapd", "pgdemote_direct", "pgdemote_khugepaged", "pgdemote_proactive"].map(always),
    // Counted per node in the newest mm tree; 6.18 has them among the events.
    ...RECLAIM_NODE_ITEMS.map((n): Item => [n, b.version === "mm-new"]),
    ...["nr_hugetlb", "nr_balloon_pages", "nr_kernel_file_pages"].map(always),
    ...["nr_gpu_active", "nr_gpu_reclaim"].map((n): Item => [n, b.version === "mm-new"]),
  ];
}

/** The reclaim counters the newest mm tree keeps per node, in its order. */
const RECLAIM_NODE_ITEMS = [
  "pgsteal_kswapd",
  "pgsteal_direct",
  "pgsteal_khugepaged",
  "pgsteal_proactive",
  "pgsteal_anon",
  "pgsteal_file",
  "pgscan_kswapd",
  "pgscan_direct",
  "pgscan_khugepaged",
  "pgscan_proactive",
  "pgscan_anon",
  "pgscan_file",
  "pgrotate_anon",
  "pgrotate_file",
  "pgrefill",
];

function eventItems(b: ReportBuild): Item[] {
  const on = (c: boolean, ...names: string[]): Item[] => names.map((n) => [n, c] as const);
  const v618 = b.version === "6.18";
  return [
    ...on(true, "pgpgin", "pgpgout", "pswpin", "pswpout"),
    ...on(true, ...["pgalloc", "allocstall", "pgskip"].flatMap((e) => b.zones.map((z) => `${e}_${z}`))),
    ...on(true, "pgfree", "pgactivate", "pgdeactivate", "pglazyfree", "pgfault", "pgmajfault", "pglazyfreed"),
    ...on(v618, "pgrefill"),
    ...on(true, "pgreuse"),
    ...on(v618, "pgsteal_kswapd", "pgsteal_direct", "pgsteal_khugepaged", "pgsteal_proactive", "pgscan_kswapd", "pgscan_direct", "pgscan_khugepaged", "pgscan_proactive"),
    ...on(true, "pgscan_direct_throttle"),
    ...on(v618, "pgscan_anon", "pgscan_file", "pgsteal_anon", "pgsteal_file"),
    ...on(b.numa, "zone_reclaim_success", "zone_reclaim_failed"),
    ...on(true, "pginodesteal", "slabs_scanned", "kswapd_inodesteal", "kswapd_low_wmark_hit_quickly", "kswapd_high_wmark_hit_quickly", "pageoutrun", "pgrotated"),
    ...on(true, "drop_pagecache", "drop_slab", "oom_kill"),
    ...on(b.numaBalancing, "numa_pte_updates", "numa_huge_pte_updates", "numa_hint_faults", "numa_hint_faults_local", "numa_pages_migrated"),
    ...on(true, "pgmigrate_success", "pgmigrate_fail", "thp_migration_success", "thp_migration_fail", "thp_migration_split"),
    ...on(
      true,
      "compact_migrate_scanned",
      "compact_free_scanned",
      "compact_isolated",
      "compact_stall",
      "compact_fail",
      "compact_success",
      "compact_daemon_wake",
      "compact_daemon_migrate_scanned",
      "compact_daemon_free_scanned",
    ),
    ...on(true, "htlb_buddy_alloc_success", "htlb_buddy_alloc_fail"),
    ...on(b.cma, "cma_alloc_success", "cma_alloc_fail"),
    ...on(
      true,
      "unevictable_pgs_culled",
      "unevictable_pgs_scanned",
      "unevictable_pgs_rescued",
      "unevictable_pgs_mlocked",
      "unevictable_pgs_munlocked",
      "unevictable_pgs_cleared",
      "unevictable_pgs_stranded",
    ),
    ...on(
      b.thp,
      "thp_fault_alloc",
      "thp_fault_fallback",
      "thp_fault_fallback_charge",
      "thp_collapse_alloc",
      "thp_collapse_alloc_failed",
      "thp_file_alloc",
      "thp_file_fallback",
      "thp_file_fallback_charge",
      "thp_file_mapped",
      "thp_split_page",
      "thp_split_page_failed",
      "thp_deferred_split_page",
      "thp_underused_split_page",
      "thp_split_pmd",
      "thp_scan_exceed_none_pte",
      "thp_scan_exceed_swap_pte",
      "thp_scan_exceed_share_pte",
    ),
    ...on(b.thp && b.thpPud, "thp_split_pud"),
    ...on(b.thp, "thp_zero_page_alloc", "thp_zero_page_alloc_failed", "thp_swpout", "thp_swpout_fallback"),
    ...on(b.balloonCompaction, "balloon_inflate", "balloon_deflate", "balloon_migrate"),
    ...on(true, "swap_ra", "swap_ra_hit", "swpin_zero", "swpout_zero", "ksm_swpin_copy", "cow_ksm", "zswpin", "zswpout", "zswpwb"),
    ...on(b.x86, "direct_map_level2_splits", "direct_map_level3_splits", "direct_map_level2_collapses", "direct_map_level3_collapses"),
    ...on(b.version === "mm-new", "nrswpin", "nrswpout"),
  ];
}

/** The kernel's item names for a kernel's build, in /proc/vmstat order (without the trailing nr_unstable). */
export function vmstatItemNames(k: Kernel): string[] {
  const b = reportBuild(k);
  const vmStatItems: Item[] = [
    ["nr_dirty_threshold", true],
    ["nr_dirty_background_threshold", true],
    ["nr_memmap_pages", true],
    ["nr_memmap_boot_pages", true],
  ];
  return [...zoneItems(b), ...numaItems(b), ...nodeItems(b), ...vmStatItems, ...eventItems(b)].filter(([, present]) => present).map(([n]) => n);
}

/** vm_dirty_ratio and dirty_background_ratio defaults. */
const DIRTY_RATIO = 20;
const DIRTY_BACKGROUND_RATIO = 10;
const UINT_MAX = 0xffffffff;

/** global_dirty_limits: [background threshold, dirty threshold] in pages, with the ratios at their defaults. */
export function globalDirtyLimits(k: Kernel): readonly [background: number, dirty: number] {
  let free = 0;
  for (const z of k.phys.zones) free += z.freePages;
  // global_dirtyable_memory: free pages above the reserves plus the file LRU; never 0.
  let avail = free - Math.min(free, totalreservePages(k));
  avail += globalNodeState(k, "nr_inactive_file") + globalNodeState(k, "nr_active_file");
  avail += 1;
  const ps = k.pageSize;
  // The ratios are scaled per PAGE_SIZE for precision, as domain_dirty_limits does.
  const ratio = Math.floor((DIRTY_RATIO * ps) / 100);
  const bgRatio = Math.floor((DIRTY_BACKGROUND_RATIO * ps) / 100);
  let thresh = Math.floor((ratio * avail) / ps);
  let bg = Math.floor((bgRatio * avail) / ps);
  if (thresh > UINT_MAX) thresh = UINT_MAX;
  if (bg >= thresh) bg = Math.floor(thresh / 2);
  return [bg, thresh];
}

/** Free pages in blocks of pageblock order and above (NR_FREE_PAGES_BLOCKS), over every zone. */
function freePagesBlocks(k: Kernel): number {
  const pb = k.config.pbOrder;
  let n = 0;
  for (const z of k.phys.zones) {
    for (let o = pb; o <= z.maxOrder; o++) {
      for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) n += z.nrFree[o * MIGRATE_PCPTYPES + mt]! * 2 ** o;
    }
  }
  return n;
}

export interface Vmstat {
  /** The kernel's lines in order, ending with the deprecated "nr_unstable 0". */
  readonly fields: readonly ReportField[];
  /** The model's own counters the kernel has no line for, raw. */
  readonly model: readonly ReportField[];
}

/** Compute /proc/vmstat. */
export function vmstat(k: Kernel): Vmstat {
  const b = reportBuild(k);
  const ns = (n: NodeStatName) => globalNodeState(k, n);
  const nodeIndex = NS as Readonly<Record<string, number>>;
  const evIndex = EV as Readonly<Record<string, number>>;
  let free = 0;
  for (const z of k.phys.zones) free += z.freePages;
  const [bg, thresh] = globalDirtyLimits(k);
  const special: Readonly<Record<string, number>> = {
    nr_free_pages: free,
    nr_free_pages_blocks: freePagesBlocks(k),
    nr_zone_inactive_anon: ns("nr_inactive_anon"),
    nr_zone_active_anon: ns("nr_active_anon"),
    nr_zone_inactive_file: ns("nr_inactive_file"),
    nr_zone_active_file: ns("nr_active_file"),
    nr_zone_unevictable: ns("nr_unevictable"),
    nr_zone_write_pending: ns("nr_dirty") + ns("nr_writeback"),
    nr_hugetlb: hugetlbTotalPages(k, hugetlbReport(k)),
    nr_dirty_threshold: thresh,
    nr_dirty_background_threshold: bg,
  };
  const fields: ReportField[] = [];
  const names = vmstatItemNames(k);
  for (const name of names) {
    let v = special[name];
    if (v === undefined) {
      const ni = nodeIndex[name];
      if (ni !== undefined) {
        v = ns(name as NodeStatName);
        if (b.thp && PRINT_IN_THP.has(name)) v = Math.floor(v / b.hpagePmdNr);
      } else {
        const ei = evIndex[EVENT_ALIASES[name] ?? name];
        v = ei === undefined ? 0 : k.events[ei]!;
      }
    }
    fields.push([name, v]);
  }
  fields.push(["nr_unstable", 0]);
  const printed = new Set(names.map((n) => EVENT_ALIASES[n] ?? n));
  const model: ReportField[] = [];
  for (const n of NODE_STATS) if (!printed.has(n)) model.push([n, ns(n)]);
  for (const n of VM_EVENTS) if (!printed.has(n)) model.push([n, k.events[EV[n]]!]);
  for (const n of MODEL_EVENTS) model.push([n, k.modelEvents[ME[n]]!]);
  return { fields, model };
}

/** The exact text of /proc/vmstat. */
export function formatVmstat(v: Vmstat): string {
  let s = "";
  for (const [name, value] of v.fields) {
    checkReportValue(name, value);
    s += `${name} ${value}\n`;
  }
  return s;
}

/** The kernel items of this build the model has no counter for: they always print 0. */
export function vmstatAlwaysZero(k: Kernel): string[] {
  const computed = new Set(["nr_free_pages_blocks", "nr_zone_write_pending", "nr_hugetlb", "nr_dirty_threshold", "nr_dirty_background_threshold"]);
  const kept = new Set<string>([...NODE_STATS, ...VM_EVENTS]);
  return vmstatItemNames(k).filter((n) => !computed.has(n) && !kept.has(EVENT_ALIASES[n] ?? n));
}

/** One zone's free blocks per order, as /proc/buddyinfo shows them. */
export interface BuddyinfoRow {
  readonly nid: number;
  readonly zone: ZoneName;
  /** free_area[order].nr_free for order 0..MAX_PAGE_ORDER. */
  readonly free: readonly number[];
}

/** /proc/buddyinfo: every populated zone of every node. */
export function buddyinfo(k: Kernel): BuddyinfoRow[] {
  const out: BuddyinfoRow[] = [];
  for (const node of k.phys.nodes) {
    for (const z of node.zones) if (z.managedPages > 0) out.push({ nid: node.nid, zone: z.name, free: z.buddyinfo() });
  }
  return out;
}

export function formatBuddyinfo(rows: readonly BuddyinfoRow[]): string {
  let s = "";
  for (const r of rows) {
    s += `Node ${r.nid}, zone ${r.zone.padStart(8)} `;
    for (const n of r.free) s += `${String(n).padStart(6)} `;
    s += "\n";
  }
  return s;
}

/**
 * migratetype_names with CONFIG_CMA and CONFIG_MEMORY_ISOLATION: the model
 * keeps free lists for the first three only; the others are always empty.
 */
export const PAGETYPE_NAMES = [...MIGRATETYPE_NAMES, "HighAtomic", "CMA", "Isolate"] as const;

/** pagetypeinfo_showfree stops counting a list here and prints ">100000". */
const FREECOUNT_CAP = 100000;

export interface PagetypeZone {
  readonly zone: ZoneName;
  /** Free blocks per [migratetype][order] (PAGETYPE_NAMES order), capped at 100000 as the kernel counts them. */
  readonly free: readonly (readonly number[])[];
  /** Pageblocks per migratetype. */
  readonly blocks: readonly number[];
}

/** One node's /proc/pagetypeinfo. */
export interface PagetypeinfoNode {
  readonly nid: number;
  readonly pageblockOrder: number;
  readonly pagesPerBlock: number;
  readonly maxOrder: number;
  readonly zones: readonly PagetypeZone[];
}

/** /proc/pagetypeinfo: per node, the free lists per migratetype and order, and the pageblocks per migratetype. */
export function pagetypeinfo(k: Kernel): PagetypeinfoNode[] {
  const m = k.phys.memmap;
  const out: PagetypeinfoNode[] = [];
  for (const node of k.phys.nodes) {
    const zones: PagetypeZone[] = [];
    for (const z of node.zones) {
      if (z.managedPages === 0) continue;
      const free: number[][] = [];
      for (let mt = 0; mt < PAGETYPE_NAMES.length; mt++) {
        const row: number[] = [];
        for (let o = 0; o <= z.maxOrder; o++) row.push(mt < MIGRATE_PCPTYPES ? Math.min(z.nrFree[o * MIGRATE_PCPTYPES + mt]!, FREECOUNT_CAP) : 0);
        free.push(row);
      }
      const blocks = new Array<number>(PAGETYPE_NAMES.length).fill(0);
      for (let pb = z.startPfn / m.pbPages; pb < z.endPfn / m.pbPages; pb++) blocks[m.pbMigratetype[pb]!]!++;
      zones.push({ zone: z.name, free, blocks });
    }
    out.push({ nid: node.nid, pageblockOrder: m.pbOrder, pagesPerBlock: m.pbPages, maxOrder: k.phys.maxOrder, zones });
  }
  return out;
}

export function formatPagetypeinfo(nodes: readonly PagetypeinfoNode[]): string {
  let s = "";
  for (const n of nodes) {
    if (n.zones.length === 0) continue;
    s += `Page block order: ${n.pageblockOrder}\n`;
    s += `Pages per block:  ${n.pagesPerBlock}\n`;
    s += "\n";
    s += `${"Free pages count per migrate type at order".padEnd(43)} `;
    for (let o = 0; o <= n.maxOrder; o++) s += `${String(o).padStart(6)} `;
    s += "\n";
    for (const z of n.zones) {
      for (let mt = 0; mt < PAGETYPE_NAMES.length; mt++) {
        s += `Node ${String(n.nid).padStart(4)}, zone ${z.zone.padStart(8)}, type ${PAGETYPE_NAMES[mt]!.padStart(12)} `;
        for (const c of z.free[mt]!) s += `${c >= FREECOUNT_CAP ? ">" : ""}${String(c).padStart(6)} `;
        s += "\n";
      }
    }
    s += `\n${"Number of blocks type ".padEnd(23)}`;
    for (const name of PAGETYPE_NAMES) s += `${name.padStart(12)} `;
    s += "\n";
    for (const z of n.zones) {
      s += `Node ${n.nid}, zone ${z.zone.padStart(8)} `;
      for (const c of z.blocks) s += `${String(c).padStart(12)} `;
      s += "\n";
    }
  }
  return s;
}
