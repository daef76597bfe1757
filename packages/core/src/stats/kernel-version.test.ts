import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { formatMeminfo, meminfo } from "./meminfo";
import { formatVmstat, vmstat, vmstatItemNames } from "./vmstat";

/*
 * The layout of Linux 6.18's /proc/vmstat and /proc/meminfo as the
 * reference machine prints them (uname -r 6.18.44, x86-64, one node):
 * every name in order, captured from the machine itself.
 */
const VMSTAT_618 = [
    "nr_free_pages nr_free_pages_blocks nr_zone_inactive_anon nr_zone_active_anon nr_zone_inactive_file nr_zone_active_file nr_zone_unevictable nr_zone_write_pending nr_mlock nr_zspages nr_free_cma numa_hit",
    "numa_miss numa_foreign numa_interleave numa_local numa_other nr_inactive_anon nr_active_anon nr_inactive_file nr_active_file nr_unevictable nr_slab_reclaimable nr_slab_unreclaimable",
    "nr_isolated_anon nr_isolated_file workingset_nodes workingset_refault_anon workingset_refault_file workingset_activate_anon workingset_activate_file workingset_restore_anon workingset_restore_file workingset_nodereclaim nr_anon_pages nr_mapped",
    "nr_file_pages nr_dirty nr_writeback nr_shmem nr_shmem_hugepages nr_shmem_pmdmapped nr_file_hugepages nr_file_pmdmapped nr_anon_transparent_hugepages nr_vmscan_write nr_vmscan_immediate_reclaim nr_dirtied",
    "nr_written nr_throttled_written nr_kernel_misc_reclaimable nr_foll_pin_acquired nr_foll_pin_released nr_kernel_stack nr_page_table_pages nr_sec_page_table_pages nr_iommu_pages nr_swapcached pgpromote_success pgpromote_candidate",
    "pgpromote_candidate_nrl pgdemote_kswapd pgdemote_direct pgdemote_khugepaged pgdemote_proactive nr_hugetlb nr_balloon_pages nr_kernel_file_pages nr_dirty_threshold nr_dirty_background_threshold nr_memmap_pages nr_memmap_boot_pages",
    "pgpgin pgpgout pswpin pswpout pgalloc_dma pgalloc_dma32 pgalloc_normal pgalloc_movable pgalloc_device allocstall_dma allocstall_dma32 allocstall_normal",
    "allocstall_movable allocstall_device pgskip_dma pgskip_dma32 pgskip_normal pgskip_movable pgskip_device pgfree pgactivate pgdeactivate pglazyfree pgfault",
    "pgmajfault pglazyfreed pgrefill pgreuse pgsteal_kswapd pgsteal_direct pgsteal_khugepaged pgsteal_proactive pgscan_kswapd pgscan_direct pgscan_khugepaged pgscan_proactive",
    "pgscan_direct_throttle pgscan_anon pgscan_file pgsteal_anon pgsteal_file zone_reclaim_success zone_reclaim_failed pginodesteal slabs_scanned kswapd_inodesteal kswapd_low_wmark_hit_quickly kswapd_high_wmark_hit_quickly",
    "pageoutrun pgrotated drop_pagecache drop_slab oom_kill numa_pte_updates numa_huge_pte_updates numa_hint_faults numa_hint_faults_local numa_pages_migrated pgmigrate_success pgmigrate_fail",
    "thp_migration_success thp_migration_fail thp_migration_split compact_migrate_scanned compact_free_scanned compact_isolated compact_stall compact_fail compact_success compact_daemon_wake compact_daemon_migrate_scanned compact_daemon_free_scanned",
    "htlb_buddy_alloc_success htlb_buddy_alloc_fail unevictable_pgs_culled unevictable_pgs_scanned unevictable_pgs_rescued unevictable_pgs_mlocked unevictable_pgs_munlocked unevictable_pgs_cleared unevictable_pgs_stranded thp_fault_alloc thp_fault_fallback thp_fault_fallback_charge",
    "thp_collapse_alloc thp_collapse_alloc_failed thp_file_alloc thp_file_fallback thp_file_fallback_charge thp_file_mapped thp_split_page thp_split_page_failed thp_deferred_split_page thp_underused_split_page thp_split_pmd thp_scan_exceed_none_pte",
    "thp_scan_exceed_swap_pte thp_scan_exceed_share_pte thp_split_pud thp_zero_page_alloc thp_zero_page_alloc_failed thp_swpout thp_swpout_fallback balloon_inflate balloon_deflate balloon_migrate swap_ra swap_ra_hit",
    "swpin_zero swpout_zero ksm_swpin_copy cow_ksm zswpin zswpout zswpwb direct_map_level2_splits direct_map_level3_splits direct_map_level2_collapses direct_map_level3_collapses nr_unstable",
]
  .join(" ")
  .split(" ");

const MEMINFO_618 = [
    "MemTotal MemFree MemAvailable Buffers Cached SwapCached Active Inactive Active(anon) Inactive(anon) Active(file) Inactive(file)",
    "Unevictable Mlocked SwapTotal SwapFree Zswap Zswapped Dirty Writeback AnonPages Mapped Shmem KReclaimable",
    "Slab SReclaimable SUnreclaim KernelStack PageTables SecPageTables NFS_Unstable Bounce WritebackTmp CommitLimit Committed_AS VmallocTotal",
    "VmallocUsed VmallocChunk Percpu AnonHugePages ShmemHugePages ShmemPmdMapped FileHugePages FilePmdMapped Balloon HugePages_Total HugePages_Free HugePages_Rsvd",
    "HugePages_Surp Hugepagesize Hugetlb DirectMap4k DirectMap2M DirectMap1G",
]
  .join(" ")
  .split(" ");

const lines = (text: string) => text.trimEnd().split("\n").map((l) => l.split(/[: ]/)[0]!);

describe("the views follow the kernel version (6.18 by default)", () => {
  it("6.18 on x86-64 with one node: /proc/vmstat line for line, 192 lines", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M" });
    expect(k.config.kernelVersion).toBe("6.18");
    expect(VMSTAT_618.length).toBe(192);
    expect(lines(formatVmstat(vmstat(k)))).toEqual(VMSTAT_618);
  });

  it("6.18 on x86-64: /proc/meminfo line for line", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M" });
    expect(lines(formatMeminfo(meminfo(k)))).toEqual(MEMINFO_618);
  });

  it("the numa_* lines print with CONFIG_NUMA on one node too; not on 8xx, which has no NUMA", () => {
    for (const kernelVersion of ["6.18", "mm-new"] as const) {
      const one = vmstatItemNames(new Kernel({ backend: createX86_64Backend(), memory: "64M", kernelVersion }));
      expect(one.filter((n) => n.startsWith("numa_"))).toEqual(["numa_hit", "numa_miss", "numa_foreign", "numa_interleave", "numa_local", "numa_other", "numa_pte_updates", "numa_huge_pte_updates", "numa_hint_faults", "numa_hint_faults_local", "numa_pages_migrated"]);
      const arm = vmstatItemNames(new Kernel({ backend: createArm64Backend("4k-48"), memory: "64M", kernelVersion }));
      expect(arm).toContain("numa_hit");
      const ppc = vmstatItemNames(new Kernel({ backend: createPpc8xxBackend("4k"), memory: "64M", kernelVersion }));
      expect(ppc.filter((n) => n.startsWith("numa_") || n.startsWith("zone_reclaim"))).toEqual([]);
    }
  });

  it("mm-new: the reclaim counters among the node stats, nr_vmalloc, GPU pages and nrswpin/nrswpout; 6.18 has none of those there", () => {
    const mmNew = vmstatItemNames(new Kernel({ backend: createX86_64Backend(), memory: "64M", kernelVersion: "mm-new" }));
    const at = (n: string) => mmNew.indexOf(n);
    expect(at("pgsteal_kswapd")).toBeLessThan(at("nr_hugetlb"));
    expect(at("pgrefill")).toBe(at("nr_hugetlb") - 1);
    for (const n of ["nr_vmalloc", "nr_gpu_active", "nr_gpu_reclaim", "nrswpin", "nrswpout", "pgrotate_anon", "nr_unaccepted", "cma_alloc_success"]) expect(mmNew, n).toContain(n);
    for (const n of ["nr_vmalloc", "nr_gpu_active", "nrswpin", "pgrotate_anon", "nr_unaccepted", "cma_alloc_success"]) expect(VMSTAT_618, n).not.toContain(n);
    // 6.18 counts pgsteal among the events, after pgreuse.
    expect(VMSTAT_618.indexOf("pgsteal_kswapd")).toBe(VMSTAT_618.indexOf("pgreuse") + 1);
  });

  it("refuses an unknown version", () => {
    expect(() => new Kernel({ backend: createX86_64Backend(), memory: "64M", kernelVersion: "5.10" as "6.18" })).toThrow('invalid kernel version "5.10": expected 6.18 or mm-new');
  });
});
