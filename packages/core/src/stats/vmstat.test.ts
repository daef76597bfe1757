import { PMD, entryRegs, type ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anonVmaPrepare } from "../fault/anon";
import { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES } from "../mm/counters";
import { Vma } from "../mm/vma";
import { VM_ACCOUNT, VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE, protIndex } from "../mm/vm-flags";
import { GFP_TRANSHUGE } from "../phys/gfp";
import { WALK_OK } from "../pgtable/walker";
import { insertAnonVma } from "../testing/vma";
import { field, meminfo } from "./meminfo";
import { buddyinfo, formatBuddyinfo, formatPagetypeinfo, formatVmstat, globalDirtyLimits, pagetypeinfo, vmstat, vmstatAlwaysZero, vmstatItemNames } from "./vmstat";

const KiB = 1024;

/** The same small state the meminfo and smaps tests print. */
function smallState(): Kernel {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", swap: "1M", kernelVersion: "mm-new" });
  const mm = k.createMm();
  insertAnonVma(k, mm, 0x4000_0000, 64 * KiB, VM_READ | VM_WRITE | VM_ACCOUNT);
  k.touch(mm, 0x4000_0000, 32 * KiB, true, 1);
  k.touch(mm, 0x4000_8000, 16 * KiB, false);
  const as = k.createFile("/data/file", "32K");
  const v = new Vma(mm.id, 0x5000_0000, 0x5000_8000, VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC, 0);
  v.file = as;
  as.iMmap.add(v);
  mm.vmas.insert(v);
  k.touch(mm, 0x5000_0000, 32 * KiB, false);
  return k;
}

/** Map a PMD-size anonymous folio at `addr` the way a huge anonymous fault leaves it. */
function mapPmdThp(k: Kernel, addr: number): void {
  const mm = k.createMm();
  const size = k.pageSize * k.pagesAt(PMD);
  const vma = insertAnonVma(k, mm, addr, size);
  anonVmaPrepare(k, mm, vma);
  const order = Math.log2(k.pagesAt(PMD));
  const head = k.folios.alloc(order, GFP_TRANSHUGE);
  expect(head).toBeGreaterThanOrEqual(0);
  k.rmap.addNewAnon(head, vma, addr, PMD, true);
  k.lru.add(head);
  mm.addRss(MM_ANONPAGES, k.pagesAt(PMD));
  const R = entryRegs(1);
  expect(mm.walker.find(addr, PMD, true, mm.slot)).toBe(WALK_OK);
  k.backend.pfnEntry(R, 0, PMD, head, protIndex(vma.flags));
  k.backend.mkhuge(R, 0, PMD);
  k.backend.setEntries(k.ptCtx, mm.slot.table, mm.slot.index, PMD, addr, R, 0, 1);
}

const get = (k: Kernel, name: string) => field(vmstat(k).fields, name);

describe("/proc/vmstat", () => {
  it("prints a small known state exactly (the newest mm tree's layout)", () => {
    const k = smallState();
    const nonZero: Record<string, number> = {
      nr_free_pages: 16360,
      nr_free_pages_blocks: 15360,
      nr_zone_inactive_anon: 8,
      nr_zone_inactive_file: 8,
      nr_inactive_anon: 8,
      nr_inactive_file: 8,
      nr_anon_pages: 8,
      nr_mapped: 8,
      nr_file_pages: 8,
      nr_page_table_pages: 5,
      // (20% of PAGE_SIZE) x (16360 free - 384 reserve + 8 file + 1) / PAGE_SIZE, and 10% for the background.
      nr_dirty_threshold: 3196,
      nr_dirty_background_threshold: 1596,
      pgpgin: 32,
      pgalloc_normal: 22,
      pgfault: 14,
      pgmajfault: 1,
    };
    const names = [
      "nr_free_pages nr_free_pages_blocks nr_zone_inactive_anon nr_zone_active_anon nr_zone_inactive_file nr_zone_active_file nr_zone_unevictable nr_zone_write_pending nr_mlock nr_zspages nr_free_cma nr_unaccepted",
      "numa_hit numa_miss numa_foreign numa_interleave numa_local numa_other",
      "nr_inactive_anon nr_active_anon nr_inactive_file nr_active_file nr_unevictable nr_slab_reclaimable nr_slab_unreclaimable nr_isolated_anon nr_isolated_file workingset_nodes workingset_refault_anon workingset_refault_file workingset_activate_anon workingset_activate_file workingset_restore_anon workingset_restore_file workingset_nodereclaim",
      "nr_anon_pages nr_mapped nr_file_pages nr_dirty nr_writeback nr_shmem nr_shmem_hugepages nr_shmem_pmdmapped nr_file_hugepages nr_file_pmdmapped nr_anon_transparent_hugepages nr_vmscan_write nr_vmscan_immediate_reclaim nr_dirtied nr_written nr_throttled_written nr_kernel_misc_reclaimable nr_foll_pin_acquired nr_foll_pin_released nr_vmalloc nr_kernel_stack nr_page_table_pages nr_sec_page_table_pages nr_iommu_pages nr_swapcached",
      "pgpromote_success pgpromote_candidate pgpromote_candidate_nrl",
      "pgdemote_kswapd pgdemote_direct pgdemote_khugepaged pgdemote_proactive pgsteal_kswapd pgsteal_direct pgsteal_khugepaged pgsteal_proactive pgsteal_anon pgsteal_file pgscan_kswapd pgscan_direct pgscan_khugepaged pgscan_proactive pgscan_anon pgscan_file pgrotate_anon pgrotate_file pgrefill nr_hugetlb nr_balloon_pages nr_kernel_file_pages nr_gpu_active nr_gpu_reclaim",
      "nr_dirty_threshold nr_dirty_background_threshold nr_memmap_pages nr_memmap_boot_pages",
      "pgpgin pgpgout pswpin pswpout pgalloc_normal pgalloc_movable allocstall_normal allocstall_movable pgskip_normal pgskip_movable pgfree pgactivate pgdeactivate pglazyfree pgfault pgmajfault pglazyfreed pgreuse pgscan_direct_throttle",
      "zone_reclaim_success zone_reclaim_failed",
      "pginodesteal slabs_scanned kswapd_inodesteal kswapd_low_wmark_hit_quickly kswapd_high_wmark_hit_quickly pageoutrun pgrotated drop_pagecache drop_slab oom_kill",
      "numa_pte_updates numa_huge_pte_updates numa_hint_faults numa_hint_faults_local numa_pages_migrated",
      "pgmigrate_success pgmigrate_fail thp_migration_success thp_migration_fail thp_migration_split compact_migrate_scanned compact_free_scanned compact_isolated compact_stall compact_fail compact_success compact_daemon_wake compact_daemon_migrate_scanned compact_daemon_free_scanned",
      "htlb_buddy_alloc_success htlb_buddy_alloc_fail cma_alloc_success cma_alloc_fail unevictable_pgs_culled unevictable_pgs_scanned unevictable_pgs_rescued unevictable_pgs_mlocked unevictable_pgs_munlocked unevictable_pgs_cleared unevictable_pgs_stranded",
      "thp_fault_alloc thp_fault_fallback thp_fault_fallback_charge thp_collapse_alloc thp_collapse_alloc_failed thp_file_alloc thp_file_fallback thp_file_fallback_charge thp_file_mapped thp_split_page thp_split_page_failed thp_deferred_split_page thp_underused_split_page thp_split_pmd thp_scan_exceed_none_pte thp_scan_exceed_swap_pte thp_scan_exceed_share_pte thp_split_pud thp_zero_page_alloc thp_zero_page_alloc_failed thp_swpout thp_swpout_fallback",
      "swap_ra swap_ra_hit swpin_zero swpout_zero ksm_swpin_copy cow_ksm zswpin zswpout zswpwb direct_map_level2_splits direct_map_level3_splits direct_map_level2_collapses direct_map_level3_collapses nrswpin nrswpout",
    ]
      .join(" ")
      .split(" ");
    const expected = names.map((n) => `${n} ${nonZero[n] ?? 0}\n`).join("") + "nr_unstable 0\n";
    expect(formatVmstat(vmstat(k))).toBe(expected);
    expect(vmstatItemNames(k)).toEqual(names);
    expect(vmstat(k).model).toEqual([
      ["nr_bounce", 0],
      ["nr_anon_pud_transparent_hugepages", 0],
      ["thp_split_pud_failed", 0],
      ["thp_fault_alloc_pud", 0],
      ["thp_fault_fallback_pud", 0],
    ]);
  });

  it("names the items the model has no counter for", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", kernelVersion: "mm-new" });
    expect(vmstatAlwaysZero(k)).toEqual(
      (
        "nr_zspages nr_unaccepted numa_hit numa_miss numa_foreign numa_interleave numa_local numa_other nr_slab_reclaimable nr_slab_unreclaimable workingset_nodes workingset_refault_anon workingset_refault_file workingset_activate_anon workingset_activate_file workingset_restore_anon workingset_restore_file workingset_nodereclaim " +
        "nr_vmscan_write nr_vmscan_immediate_reclaim nr_dirtied nr_written nr_throttled_written nr_kernel_misc_reclaimable nr_vmalloc nr_iommu_pages " +
        "pgpromote_success pgpromote_candidate pgpromote_candidate_nrl pgdemote_kswapd pgdemote_direct pgdemote_khugepaged pgdemote_proactive pgsteal_khugepaged pgsteal_proactive pgscan_khugepaged pgscan_proactive pgrotate_anon pgrotate_file " +
        "nr_balloon_pages nr_kernel_file_pages nr_gpu_active nr_gpu_reclaim nr_memmap_pages nr_memmap_boot_pages pgskip_normal pgskip_movable pgscan_direct_throttle zone_reclaim_success zone_reclaim_failed slabs_scanned kswapd_inodesteal kswapd_low_wmark_hit_quickly kswapd_high_wmark_hit_quickly pageoutrun drop_pagecache drop_slab oom_kill numa_pte_updates numa_huge_pte_updates numa_hint_faults numa_hint_faults_local numa_pages_migrated " +
        "compact_daemon_migrate_scanned compact_daemon_free_scanned cma_alloc_success cma_alloc_fail unevictable_pgs_scanned unevictable_pgs_rescued unevictable_pgs_cleared unevictable_pgs_stranded " +
        "thp_file_fallback_charge swpin_zero swpout_zero ksm_swpin_copy zswpin zswpout zswpwb direct_map_level2_splits direct_map_level3_splits direct_map_level2_collapses direct_map_level3_collapses nrswpin nrswpout"
      ).split(" "),
    );
  });

  it("adds the NUMA items on a multi-node kernel and sums every node", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "128M", nodes: 2, kernelVersion: "mm-new" });
    const names = vmstatItemNames(k);
    const after = (a: string, b: string) => expect(names[names.indexOf(a) + 1]).toBe(b);
    after("nr_unaccepted", "numa_hit");
    after("numa_other", "nr_inactive_anon");
    after("nr_swapcached", "pgpromote_success");
    after("pgpromote_candidate_nrl", "pgdemote_kswapd");
    after("pgscan_direct_throttle", "zone_reclaim_success");
    after("zone_reclaim_failed", "pginodesteal");
    after("oom_kill", "numa_pte_updates");
    after("numa_pages_migrated", "pgmigrate_success");
    const a = k.createMm();
    const b = k.createMm();
    b.nid = 1;
    for (const [mm, pages] of [
      [a, 3],
      [b, 5],
    ] as const) {
      insertAnonVma(k, mm, 0x4000_0000, 16 * k.pageSize);
      k.touch(mm, 0x4000_0000, pages * k.pageSize, true);
    }
    expect(k.phys.nodes.map((n) => n.stats[16])).toEqual([3, 5]);
    expect(get(k, "nr_anon_pages")).toBe(8);
    expect(get(k, "nr_zone_inactive_anon")).toBe(8);
    let free = 0;
    for (const z of k.phys.zones) free += z.freePages;
    expect(get(k, "nr_free_pages")).toBe(free);
  });

  it("prints THP counts in PMD-size units where the build has THP, and leaves THP lines out where it has none", () => {
    const x86 = new Kernel({ backend: createX86_64Backend(), memory: "64M" });
    mapPmdThp(x86, 0x4000_0000);
    expect(get(x86, "nr_anon_transparent_hugepages")).toBe(1);
    expect(field(meminfo(x86).fields, "AnonHugePages")).toBe(2048);
    const arm = new Kernel({ backend: createArm64Backend("64k-48"), memory: "1G" });
    mapPmdThp(arm, 0x4000_0000);
    expect(get(arm, "nr_anon_transparent_hugepages")).toBe(1);
    expect(field(meminfo(arm).fields, "AnonHugePages")).toBe(512 * 1024);
    expect(vmstatItemNames(arm)).not.toContain("thp_split_pud");
    expect(vmstatItemNames(arm)).not.toContain("direct_map_level2_splits");
    expect(vmstatItemNames(arm)).toContain("thp_split_pmd");
    const ppc = new Kernel({ backend: createPpc8xxBackend("4k"), memory: "64M" });
    const names = vmstatItemNames(ppc);
    expect(names.filter((n) => n.startsWith("thp_"))).toEqual(["thp_migration_success", "thp_migration_fail", "thp_migration_split"]);
    expect(names).toContain("nr_anon_transparent_hugepages");
  });

  it("refuses to print a value the kernel could not hold", () => {
    expect(() => formatVmstat({ fields: [["pgfault", -2]], model: [] })).toThrow("invalid value of pgfault -2: expected a whole number of kB or pages, not negative");
  });

  it("computes the dirty thresholds from dirtyable memory", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M" });
    let free = 0;
    for (const z of k.phys.zones) free += z.freePages;
    const avail = free - 384 + 1;
    expect(globalDirtyLimits(k)).toEqual([Math.floor((409 * avail) / 4096), Math.floor((819 * avail) / 4096)]);
  });
});

describe("/proc/buddyinfo and /proc/pagetypeinfo", () => {
  it("prints the free lists of a fresh kernel exactly", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", movable: "16M" });
    // Boot freed every block at MAX_PAGE_ORDER. The zero page (unmovable) claimed one block of Normal
    // (2 pageblocks) and the pcp refill took 3 pages from it: 1024 = 2+4+...+512 + 1 free + 3 taken.
    expect(formatBuddyinfo(buddyinfo(k))).toBe(
      "Node 0, zone   Normal      1      0      1      1      1      1      1      1      1      1     11 \n" +
        "Node 0, zone  Movable      0      0      0      0      0      0      0      0      0      0      4 \n",
    );
    expect(formatPagetypeinfo(pagetypeinfo(k))).toBe(`Page block order: 9
Pages per block:  512

Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 
Node    0, zone   Normal, type    Unmovable      1      0      1      1      1      1      1      1      1      1      0 
Node    0, zone   Normal, type      Movable      0      0      0      0      0      0      0      0      0      0     11 
Node    0, zone   Normal, type  Reclaimable      0      0      0      0      0      0      0      0      0      0      0 
Node    0, zone   Normal, type   HighAtomic      0      0      0      0      0      0      0      0      0      0      0 
Node    0, zone   Normal, type          CMA      0      0      0      0      0      0      0      0      0      0      0 
Node    0, zone   Normal, type      Isolate      0      0      0      0      0      0      0      0      0      0      0 
Node    0, zone  Movable, type    Unmovable      0      0      0      0      0      0      0      0      0      0      0 
Node    0, zone  Movable, type      Movable      0      0      0      0      0      0      0      0      0      0      4 
Node    0, zone  Movable, type  Reclaimable      0      0      0      0      0      0      0      0      0      0      0 
Node    0, zone  Movable, type   HighAtomic      0      0      0      0      0      0      0      0      0      0      0 
Node    0, zone  Movable, type          CMA      0      0      0      0      0      0      0      0      0      0      0 
Node    0, zone  Movable, type      Isolate      0      0      0      0      0      0      0      0      0      0      0 

Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic          CMA      Isolate 
Node 0, zone   Normal            2           22            0            0            0            0 
Node 0, zone  Movable            0            8            0            0            0            0 
`);
  });

  it("repeats the pagetypeinfo header per node", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "128M", nodes: 2 });
    const text = formatPagetypeinfo(pagetypeinfo(k));
    expect(text.split("Page block order: 9\n").length).toBe(3);
    expect(text).toContain("Node 1, zone   Normal            0           32            0            0            0            0 \n");
    expect(formatBuddyinfo(buddyinfo(k)).split("\n")[1]).toBe("Node 1, zone   Normal      0      0      0      0      0      0      0      0      0      0     16 ");
  });

  it("agrees with the free page count and the pageblock count whatever the allocations (property)", () => {
    const backends: (() => ArchBackend)[] = [() => createX86_64Backend(), () => createArm64Backend("4k-48"), () => createPpc8xxBackend("4k")];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.array(fc.record({ page: fc.integer({ min: 0, max: 255 }), n: fc.integer({ min: 1, max: 64 }) }), { maxLength: 12 }),
        fc.boolean(),
        (arch, ops, exit) => {
          const k = new Kernel({ backend: backends[arch]!(), memory: "64M", movable: "16M" });
          const mm = k.createMm();
          insertAnonVma(k, mm, 0x1000_0000, 256 * k.pageSize);
          for (const op of ops) k.touch(mm, 0x1000_0000 + op.page * k.pageSize, Math.min(op.n, 256 - op.page) * k.pageSize, true);
          if (exit) k.exit(mm);
          const rows = buddyinfo(k);
          let free = 0;
          for (const r of rows) r.free.forEach((n, o) => (free += n * 2 ** o));
          expect(free).toBe(get(k, "nr_free_pages"));
          const pt = pagetypeinfo(k);
          const m = k.phys.memmap;
          for (const node of pt) {
            for (const z of node.zones) {
              const row = rows.find((r) => r.nid === node.nid && r.zone === z.zone)!;
              expect(row.free.map((_, o) => z.free.reduce((s, byOrder) => s + byOrder[o]!, 0))).toEqual(row.free);
              const zone = k.phys.nodes[node.nid]!.zones.find((x) => x.name === z.zone)!;
              expect(z.blocks.reduce((a, b) => a + b, 0)).toBe(zone.spannedPages / m.pbPages);
            }
          }
        },
      ),
      { seed: 42, numRuns: 30 },
    );
  });
});
