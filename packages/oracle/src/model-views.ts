import { PTE } from "@hugemm/arch";
import { folioAt, MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, meminfo, smaps, smapsRollup, vmstat, walkAddress, type Kernel, type MemSizeStats, type Mm } from "@hugemm/core";
import { modelCensus } from "./model-census";
import type { CheckpointView, ProcView, RangeView, VmaView } from "./views";

const kB = (bytes: number) => Math.floor(bytes / 1024);

/** __show_smap's fields, by the kernel's names, in kB. */
function smapFields(s: MemSizeStats, rollup: boolean): Record<string, number> {
  const f: Record<string, number> = { Rss: kB(s.resident), Pss: kB(s.pss), Pss_Dirty: kB(s.pssDirty) };
  if (rollup) Object.assign(f, { Pss_Anon: kB(s.pssAnon), Pss_File: kB(s.pssFile), Pss_Shmem: kB(s.pssShmem) });
  Object.assign(f, {
    Shared_Clean: kB(s.sharedClean),
    Shared_Dirty: kB(s.sharedDirty),
    Private_Clean: kB(s.privateClean),
    Private_Dirty: kB(s.privateDirty),
    Referenced: kB(s.referenced),
    Anonymous: kB(s.anonymous),
    KSM: kB(s.ksm),
    LazyFree: kB(s.lazyfree),
    AnonHugePages: kB(s.anonymousThp),
    ShmemPmdMapped: kB(s.shmemThp),
    FilePmdMapped: kB(s.fileThp),
    Shared_Hugetlb: kB(s.sharedHugetlb),
    Private_Hugetlb: kB(s.privateHugetlb),
    Swap: kB(s.swap),
    SwapPss: kB(s.swapPss),
    Locked: kB(s.pssLocked),
  });
  return f;
}

/**
 * One page's census token (census.ts) as the kernel's pagemap_pte_range /
 * pagemap_pmd_range and stable_page_flags would show it: PM_FILE and the
 * precise mapcount only for a page vm_normal_page finds (never the zero
 * page), the huge zero folio as a PMD-mapped large folio that is not anon.
 * PM_MMAP_EXCLUSIVE (CONFIG_PAGE_MAPCOUNT) is a precise mapcount of 1: of
 * the page itself under a PTE, but under a huge entry of the page the entry
 * starts at, for every page it maps (pagemap_pmd_range tests pmd_page).
 */
export function modelPageToken(k: Kernel, mm: Mm, addr: number): string {
  const w = walkAddress(k, mm, addr);
  if (w.end === "none" || w.end === "bad") return "n";
  if (w.end === "softleaf") return w.softleaf !== null && w.softleaf.type === "marker" ? "n" : "s";
  const f = w.folio;
  if (f === null) return "pm0";
  let t = "p";
  if (f.order > 0) t += `o${f.order}`;
  if (f.type === "zero") return `${t}zm0`;
  if (f.type === "huge-zero") return `${t}Zfm0`;
  if (f.type !== "anon") t += "f";
  const entire = f.entireMapcount ?? 0;
  const mapcount = f.pageMapcount + entire;
  t += `m${mapcount}`;
  let exclusive = mapcount === 1;
  if (w.leaf !== null && w.leaf.level > PTE) {
    const first = folioAt(k, w.leaf.pfn - ((addr % w.leaf.size) / k.pageSize));
    exclusive = first !== null && first.pageMapcount + entire === 1;
  }
  if (exclusive) t += "x";
  return t;
}

function rangeView(k: Kernel, mm: Mm, addr: number, len: number, entries: ReturnType<typeof smaps>["entries"]): RangeView {
  const vmas: VmaView[] = [];
  for (const e of entries) {
    if (e.end <= addr || e.start >= addr + len) continue;
    vmas.push({
      start: e.start - addr,
      end: e.end - addr,
      perms: e.perms,
      fields: { Size: kB(e.size), KernelPageSize: kB(e.kernelPageSize), MMUPageSize: kB(e.mmuPageSize), ...smapFields(e.stats, false), THPeligible: e.thpEligible },
      vmFlags: e.vmFlags.split(" ").filter((x) => x !== "").join(","),
    });
  }
  return { len, vmas, census: modelCensus(k, mm, addr, len) };
}

/** status, rollup and named ranges of one model process. */
export function modelProcView(k: Kernel, mm: Mm, names: ReadonlyMap<string, number>, lengths: ReadonlyMap<string, number>): ProcView {
  const kb = k.pageSize / 1024;
  const status = {
    RssAnon: mm.rss[MM_ANONPAGES]! * kb,
    RssFile: mm.rss[MM_FILEPAGES]! * kb,
    RssShmem: mm.rss[MM_SHMEMPAGES]! * kb,
    // mm_pgtables_bytes counts every table below the root.
    VmPTE: (mm.pgtablePages - 1) * kb,
    HugetlbPages: 0,
  };
  const rollup = smapFields(smapsRollup(k, mm).stats, true);
  const entries = smaps(k, mm).entries;
  const ranges = new Map<string, RangeView>();
  for (const [name, addr] of names) {
    const len = lengths.get(name);
    if (addr < 0 || len === undefined || len === 0) continue;
    ranges.set(name, rangeView(k, mm, addr, len, entries));
  }
  return { status, rollup, ranges };
}

/** /proc/vmstat and /proc/meminfo of the model, as numbers by name (meminfo in kB). */
export function modelGlobals(k: Kernel): { vmstat: Record<string, number>; meminfo: Record<string, number> } {
  return { vmstat: Object.fromEntries(vmstat(k).fields), meminfo: Object.fromEntries(meminfo(k).fields) };
}

/** A model checkpoint view; `judged` is filled in by the caller from consecutive checkpoints. */
export function modelCheckpoint(
  name: string,
  k: Kernel,
  processes: ReadonlyMap<number, Mm>,
  names: ReadonlyMap<number, ReadonlyMap<string, number>>,
  lengths: ReadonlyMap<number, ReadonlyMap<string, number>>,
): Omit<CheckpointView, "judged"> {
  const procs = new Map<number, ProcView>();
  for (const pid of [...processes.keys()].sort((a, b) => a - b)) {
    procs.set(pid, modelProcView(k, processes.get(pid)!, names.get(pid) ?? new Map(), lengths.get(pid) ?? new Map()));
  }
  return { name, procs, ...modelGlobals(k) };
}
