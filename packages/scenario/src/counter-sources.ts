import type { Hugetlb } from "@hugemm/hugetlb";
import { MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS, MODEL_EVENTS, ME, meminfo, thpStats, vmstat, type Kernel, type Mm } from "@hugemm/core";

/*
 * The package's own counter families. Every name is the kernel's where the
 * kernel has one, with the kernel's units.
 */

const MODEL_ONLY = new Set<string>(MODEL_EVENTS);

/** Every vm event and node stat under its /proc/vmstat name and value (the THP page counts in PMD-size units, as vmstat prints them). */
export function vmstatCounters(k: Kernel): Record<string, number> {
  const v = vmstat(k);
  const out: Record<string, number> = {};
  for (const [n, val] of v.fields) out[n] = val;
  // Counters this build does not print (thp_* without THP, ...) still exist, raw.
  for (const [n, val] of v.model) if (!MODEL_ONLY.has(n) && !(n in out)) out[n] = val;
  return out;
}

/** /proc/meminfo fields in kB (HugePages_* in pages), and the model's section (AnonPudHugePages, FreePcp, Allocated). */
export function meminfoCounters(k: Kernel): Record<string, number> {
  const m = meminfo(k);
  const out: Record<string, number> = {};
  for (const [n, v] of m.fields) out[n] = v;
  for (const [n, v] of m.model) out[n] = v;
  return out;
}

/** hugepages-<size>kB/stats/<stat> as "<size>kB.<stat>" (the source's prefix is "hugepages-"). */
export function thpSizeCounters(k: Kernel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of thpStats(k)) {
    const size = s.dir.slice("hugepages-".length);
    for (const [n, v] of s.stats) out[`${size}.${n}`] = v;
  }
  return out;
}

/** The model's events the kernel has no counter for. */
export function modelCounters(k: Kernel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of MODEL_EVENTS) out[n] = k.modelEvents[ME[n]]!;
  return out;
}

/** Per process mm->rss_stat in pages, as "<pid>.rss_anon" (the source's prefix is "pid"). */
export function processCounters(k: Kernel, processes: ReadonlyMap<number, Mm>): Record<string, number> {
  const out: Record<string, number> = {};
  const hugetlb = k.feature<Hugetlb>("hugetlb");
  for (const [pid, mm] of processes) {
    out[`${pid}.rss_anon`] = mm.rss[MM_ANONPAGES]!;
    out[`${pid}.rss_file`] = mm.rss[MM_FILEPAGES]!;
    out[`${pid}.rss_shmem`] = mm.rss[MM_SHMEMPAGES]!;
    out[`${pid}.swapents`] = mm.rss[MM_SWAPENTS]!;
    // /proc/<pid>/status HugetlbPages, in kB (0 without hugetlb).
    out[`${pid}.HugetlbPages`] = hugetlb === undefined || mm.exited ? 0 : hugetlb.hugetlbPages(mm);
  }
  return out;
}

/** The per-process counter names ("rss_anon", ...), for checking names of processes not alive yet. */
export const PROCESS_COUNTERS = ["rss_anon", "rss_file", "rss_shmem", "swapents", "HugetlbPages"] as const;

/** TLB invalidations the model issued: ranges flushed and pages covered. */
export function tlbCounters(k: Kernel): Record<string, number> {
  return { flushes: k.tlb.flushes, pages: k.tlb.pages };
}
