import { PMD } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import { VM_ACCOUNT } from "../mm/vm-flags";
import { ModelInputError } from "../util/errors";
import { reportBuild } from "./build";
import { NS, type NodeStatName } from "./counters";

/**
 * /proc/meminfo (fs/proc/meminfo.c, si_meminfo and si_mem_available in
 * mm/show_mem.c, hugetlb_report_meminfo, x86's arch_report_meminfo), computed
 * from the model's counters in the kernel's order and text layout.
 *
 * Which lines exist follows the build (stats/build.ts: the kernel version
 * and its configuration). Lines the model has no notion of print 0:
 * Buffers (no block devices), Zswap/Zswapped, KReclaimable, Slab,
 * SReclaimable, SUnreclaim, Ftrace, KernelStack (the model's
 * nr_kernel_stack, never charged), NFS_Unstable, Bounce, WritebackTmp,
 * VmallocTotal/Used/Chunk, Percpu, HardwareCorrupted (no memory-failure
 * layer counts num_poisoned_pages), CmaTotal, Unaccepted, Balloon,
 * GPUActive, GPUReclaim.
 */

export { reportBuild, type ReportBuild } from "./build";

/** One hugetlb pool (struct hstate) as the reports see it. */
export interface HstateReport {
  /** huge_page_size in bytes. */
  readonly pageSize: number;
  /** nr_huge_pages. */
  readonly total: number;
  /** free_huge_pages. */
  readonly free: number;
  /** resv_huge_pages. */
  readonly reserved: number;
  /** surplus_huge_pages. */
  readonly surplus: number;
}

/** Every hstate, and which one is default_hstate. */
export interface HugetlbReport {
  readonly hstates: readonly HstateReport[];
  readonly defaultIndex: number;
}

/** What the hugetlb feature registers so the reports can read its pools. */
export type HugetlbReporter = () => HugetlbReport;

const hugetlbReporters = new WeakMap<Kernel, HugetlbReporter>();

/** Install the hugetlb feature's pool reader for `k` (one per kernel; a second replaces the first). */
export function registerHugetlbReporter(k: Kernel, reporter: HugetlbReporter): void {
  if (typeof reporter !== "function") throw new ModelInputError("hugetlb reporter", reporter, "a function returning the hstates");
  hugetlbReporters.set(k, reporter);
}

/** The hugetlb pools: the registered feature's, or one empty pool of PMD-size pages. */
export function hugetlbReport(k: Kernel): HugetlbReport {
  const r = hugetlbReporters.get(k);
  if (r === undefined) {
    return { hstates: [{ pageSize: k.pageSize * k.pagesAt(PMD), total: 0, free: 0, reserved: 0, surplus: 0 }], defaultIndex: 0 };
  }
  const rep = r();
  if (rep.hstates.length === 0 || !Number.isInteger(rep.defaultIndex) || rep.defaultIndex < 0 || rep.defaultIndex >= rep.hstates.length) {
    throw new ModelInputError("hugetlb report default index", rep.defaultIndex, `an index into its ${rep.hstates.length} hstates`);
  }
  return rep;
}

/** hugetlb_total_pages: base pages held by every hugetlb pool. */
export function hugetlbTotalPages(k: Kernel, rep: HugetlbReport = hugetlbReport(k)): number {
  let n = 0;
  for (const h of rep.hstates) n += h.total * (h.pageSize / k.pageSize);
  return n;
}

/** A node state summed over every node (global_node_page_state: never negative). */
export function globalNodeState(k: Kernel, name: NodeStatName): number {
  const i = NS[name];
  let n = 0;
  for (const node of k.phys.nodes) n += node.stats[i]!;
  return n < 0 ? 0 : n;
}

/** sysctl_lowmem_reserve_ratio of ZONE_NORMAL (the last zone, Movable, protects nothing). */
const NORMAL_LOWMEM_RESERVE_RATIO = 32;

/**
 * zone->lowmem_reserve[] of each zone, indexed like k.phys.zones, as
 * setup_per_zone_lowmem_reserve sets them: a Normal zone keeps back its
 * node's Movable zone's managed pages / 32 from Movable allocations.
 */
export function lowmemReserve(k: Kernel): number[][] {
  const out: number[][] = k.phys.zones.map(() => []);
  for (const node of k.phys.nodes) {
    const zs = node.zones;
    for (let i = 0; i < zs.length; i++) {
      const z = zs[i]!;
      const ratio = z.name === "Normal" ? NORMAL_LOWMEM_RESERVE_RATIO : 0;
      const clear = ratio === 0 || z.managedPages === 0;
      const res = out[z.index]!;
      let managed = 0;
      for (let j = 0; j < zs.length; j++) {
        if (j <= i) {
          res.push(0);
          continue;
        }
        const up = zs[j]!;
        managed += up.managedPages;
        res.push(clear || up.managedPages === 0 ? 0 : Math.floor(managed / ratio));
      }
    }
  }
  return out;
}

/** calculate_totalreserve_pages: per zone the largest lowmem reserve plus the high watermark, capped at its size. */
export function totalreservePages(k: Kernel): number {
  const reserve = lowmemReserve(k);
  let total = 0;
  for (const z of k.phys.zones) {
    let max = 0;
    for (const r of reserve[z.index]!) max = Math.max(max, r);
    max += z.wmarkHigh;
    total += Math.min(max, z.managedPages);
  }
  return total;
}

/** si_mem_available: free memory less the reserves, plus the page cache and reclaimable kernel memory that could go. */
export function siMemAvailable(k: Kernel): number {
  let wmarkLow = 0;
  let free = 0;
  for (const z of k.phys.zones) {
    wmarkLow += z.wmarkLow;
    free += z.freePages;
  }
  let available = free - totalreservePages(k);
  let pagecache = globalNodeState(k, "nr_active_file") + globalNodeState(k, "nr_inactive_file");
  pagecache -= Math.min(Math.floor(pagecache / 2), wmarkLow);
  available += pagecache;
  // Reclaimable slab and NR_KERNEL_MISC_RECLAIMABLE: none in the model, so 0 - min(0, wmark_low) = 0.
  return available < 0 ? 0 : available;
}

/** sysctl_overcommit_ratio's default. */
const OVERCOMMIT_RATIO = 50;

/** vm_commit_limit with overcommit_kbytes unset. */
export function vmCommitLimit(k: Kernel, rep: HugetlbReport = hugetlbReport(k)): number {
  return Math.floor(((k.phys.totalPages - hugetlbTotalPages(k, rep)) * OVERCOMMIT_RATIO) / 100) + k.swap.totalPages;
}

/**
 * vm_memory_committed. The model has no mmap-time accounting yet, so this is
 * what it would hold: the pages of every VM_ACCOUNT mapping.
 */
export function vmCommitted(k: Kernel): number {
  let n = 0;
  for (const mm of k.mms.values()) {
    for (const v of mm.vmas.all()) if (v.flags & VM_ACCOUNT) n += v.size / k.pageSize;
  }
  return n;
}

/** A report line: its name and value (kB, or a count for HugePages_*). */
export type ReportField = readonly [name: string, value: number];

export interface Meminfo {
  /** The kernel's lines in its order. */
  readonly fields: readonly ReportField[];
  /**
   * Model-only figures, never in the kernel text: AnonPudHugePages
   * (nr_anon_pud_transparent_hugepages in kB), FreePcp (pages cached on the
   * per-cpu lists, which the kernel counts as neither free nor used) and
   * Allocated (pages handed out by the allocator to anything), so that
   * MemFree + FreePcp + Allocated = MemTotal.
   */
  readonly model: readonly ReportField[];
}

const GiB = 2 ** 30;
const MiB2 = 2 ** 21;

/**
 * x86's direct_pages_count: the model maps all of its memory into the direct
 * map with the largest pages that fit (1G where aligned and whole, then 2M,
 * then 4K), with gbpages available; nothing has split it since.
 */
function directMap(k: Kernel): ReportField[] {
  let bytes = k.phys.totalPages * k.pageSize;
  const g = Math.floor(bytes / GiB);
  bytes -= g * GiB;
  const m = Math.floor(bytes / MiB2);
  bytes -= m * MiB2;
  return [
    ["DirectMap4k", bytes / 1024],
    ["DirectMap2M", m * 2048],
    ["DirectMap1G", g * 1048576],
  ];
}

/** Compute /proc/meminfo. */
export function meminfo(k: Kernel): Meminfo {
  const build = reportBuild(k);
  const kb = k.pageSize / 1024;
  const K = (pages: number) => pages * kb;
  const ns = (name: NodeStatName) => globalNodeState(k, name);
  let total = 0;
  let free = 0;
  let pcp = 0;
  let allocated = 0;
  for (const z of k.phys.zones) {
    total += z.managedPages;
    free += z.freePages;
    pcp += z.pcp.count;
    allocated += z.allocatedPages;
  }
  const swapcache = ns("nr_swapcached");
  const buffers = 0;
  const cached = Math.max(0, ns("nr_file_pages") - swapcache - buffers);
  const inactiveAnon = ns("nr_inactive_anon");
  const activeAnon = ns("nr_active_anon");
  const inactiveFile = ns("nr_inactive_file");
  const activeFile = ns("nr_active_file");
  const hrep = hugetlbReport(k);
  const f: ReportField[] = [
    ["MemTotal", K(total)],
    ["MemFree", K(free)],
    ["MemAvailable", K(siMemAvailable(k))],
    ["Buffers", K(buffers)],
    ["Cached", K(cached)],
    ["SwapCached", K(swapcache)],
    ["Active", K(activeAnon + activeFile)],
    ["Inactive", K(inactiveAnon + inactiveFile)],
    ["Active(anon)", K(activeAnon)],
    ["Inactive(anon)", K(inactiveAnon)],
    ["Active(file)", K(activeFile)],
    ["Inactive(file)", K(inactiveFile)],
    ["Unevictable", K(ns("nr_unevictable"))],
    ["Mlocked", K(ns("nr_mlock"))],
    ["SwapTotal", K(k.swap.totalPages)],
    ["SwapFree", K(k.swap.freePages)],
    ["Zswap", 0],
    ["Zswapped", 0],
    ["Dirty", K(ns("nr_dirty"))],
    ["Writeback", K(ns("nr_writeback"))],
    ["AnonPages", K(ns("nr_anon_pages"))],
    ["Mapped", K(ns("nr_mapped"))],
    ["Shmem", K(ns("nr_shmem"))],
    ["KReclaimable", 0],
    ["Slab", 0],
    ["SReclaimable", 0],
    ["SUnreclaim", 0],
  ];
  if (build.ftrace) f.push(["Ftrace", 0]);
  f.push(
    // NR_KERNEL_STACK_KB is kept in kB already.
    ["KernelStack", ns("nr_kernel_stack")],
    ["PageTables", K(ns("nr_page_table_pages"))],
    ["SecPageTables", K(ns("nr_sec_page_table_pages"))],
    ["NFS_Unstable", 0],
    ["Bounce", 0],
    ["WritebackTmp", 0],
    ["CommitLimit", K(vmCommitLimit(k, hrep))],
    ["Committed_AS", K(vmCommitted(k))],
    ["VmallocTotal", 0],
    ["VmallocUsed", 0],
    ["VmallocChunk", 0],
    ["Percpu", 0],
  );
  if (build.memoryFailure) f.push(["HardwareCorrupted", 0]);
  if (build.thp) {
    f.push(
      ["AnonHugePages", K(ns("nr_anon_transparent_hugepages"))],
      ["ShmemHugePages", K(ns("nr_shmem_hugepages"))],
      ["ShmemPmdMapped", K(ns("nr_shmem_pmdmapped"))],
      ["FileHugePages", K(ns("nr_file_hugepages"))],
      ["FilePmdMapped", K(ns("nr_file_pmdmapped"))],
    );
  }
  if (build.cma) f.push(["CmaTotal", 0], ["CmaFree", K(ns("nr_free_cma"))]);
  if (build.unaccepted) f.push(["Unaccepted", 0]);
  f.push(["Balloon", 0]);
  if (build.version === "mm-new") f.push(["GPUActive", 0], ["GPUReclaim", 0]);
  const h = hrep.hstates[hrep.defaultIndex]!;
  let hugetlbBytes = 0;
  for (const s of hrep.hstates) hugetlbBytes += s.pageSize * s.total;
  f.push(
    ["HugePages_Total", h.total],
    ["HugePages_Free", h.free],
    ["HugePages_Rsvd", h.reserved],
    ["HugePages_Surp", h.surplus],
    ["Hugepagesize", h.pageSize / 1024],
    ["Hugetlb", hugetlbBytes / 1024],
  );
  if (build.x86) f.push(...directMap(k));
  const model: ReportField[] = [
    ["AnonPudHugePages", K(ns("nr_anon_pud_transparent_hugepages"))],
    ["FreePcp", K(pcp)],
    ["Allocated", K(allocated)],
  ];
  return { fields: f, model };
}

/** The value of a named field, or an error naming what exists. */
export function field(fields: readonly ReportField[], name: string): number {
  for (const [n, v] of fields) if (n === name) return v;
  throw new ModelInputError("report field", name, `one of ${fields.map(([n]) => n).join(", ")}`);
}

/** Refuse a value a report cannot print: the kernel's are unsigned whole numbers. */
export function checkReportValue(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new ModelInputError(`value of ${name}`, value, "a whole number of kB or pages, not negative");
}

/**
 * One meminfo line. Most are show_val_kb ("%-16s%8lu kB"); HugePages_* are
 * "%-19s%5lu" with no unit and HardwareCorrupted is "%-19s%5lu kB".
 */
function meminfoLine(name: string, value: number): string {
  checkReportValue(name, value);
  const label = `${name}:`;
  if (name.startsWith("HugePages_")) return `${label.padEnd(19)}${String(value).padStart(5)}\n`;
  if (name === "HardwareCorrupted") return `${label.padEnd(19)}${String(value).padStart(5)} kB\n`;
  return `${label.padEnd(16)}${String(value).padStart(8)} kB\n`;
}

/** The exact text of /proc/meminfo. */
export function formatMeminfo(m: Meminfo): string {
  let s = "";
  for (const [name, value] of m.fields) s += meminfoLine(name, value);
  return s;
}
