import { formatSize, formatThpmaps, formatWalk, thpmaps, tlbCoverage, walkAddress, type AddressWalk, type Kernel, type Mm } from "@hugemm/core";
import type { CheckpointState, RunResult, Step } from "@hugemm/scenario";
import type { Style } from "../style";

/** What each section of the tour shows, by its checkpoint's name. */
export const SECTION_CAPTIONS: Readonly<Record<string, string>> = {
  "base-pages": "base pages: one 4K page per fault; a read maps the shared zero page, a write after it copies",
  mthp: "mTHP: 64K folios chosen at fault time and mapped by a batch of PTEs",
  "pmd-thp": "PMD THP: one 2M folio per fault, mapped by a PMD leaf with a page table deposited beneath it",
  "pud-thp": "PUD THP: one 1G folio mapped by a PUD leaf; the pre-deposit holds a PMD table and its 512 PTE tables",
  "fork-cow": "fork and COW: huge mappings shared at fork; a write to a shared THP splits its PMD and copies one page",
  split: "split: mprotect over part of a THP splits the PMD; the folio waits on the deferred split queue",
  migration: "migration: folios moved to the other node through migration entries, PMD-level for a THP",
  reclaim: "reclaim: pages written to swap, a THP swapped out whole or split, then faulted back in",
  exit: "exit: every process gone; every folio, page table and swap slot must come back",
  shrink: "shrink: the shrinkers free what waits for them, the huge zero folio among it",
};

/** Counters a section reports when they changed, in this order (meminfo in kB). */
const SECTION_COUNTERS = [
  "pgfault",
  "thp_fault_alloc",
  "thp_fault_fallback",
  "model.thp_fault_alloc_pud",
  "thp_zero_page_alloc",
  "thp_split_pmd",
  "thp_split_pud",
  "thp_split_page",
  "thp_deferred_split_page",
  "pgmigrate_success",
  "thp_migration_success",
  "thp_migration_split",
  "pswpout",
  "pswpin",
  "thp_swpout",
  "thp_swpout_fallback",
  "meminfo.AnonPages",
  "meminfo.AnonHugePages",
  "meminfo.AnonPudHugePages",
  "meminfo.PageTables",
  "meminfo.SwapFree",
];
const MTHP_ALLOC = /^hugepages-(\d+)kB\.anon_fault_alloc$/;

/** A step as one line: "mmap pid=1 as=buf len=8M prot=rw flags=private|anonymous". */
export function stepText(s: Step): string {
  const v = s.arg;
  if (v === null || v === undefined) return s.op;
  if (typeof v !== "object") return `${s.op} ${String(v)}`;
  const parts = Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}=${Array.isArray(x) ? x.join("|") : typeof x === "object" && x !== null ? JSON.stringify(x) : String(x)}`);
  return parts.length === 0 ? s.op : `${s.op} ${parts.join(" ")}`;
}

/** What a section changed: the counters above and every per-size mTHP allocation count, as "+N" / "-N". */
export function counterDeltas(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>): string[] {
  const names = [...SECTION_COUNTERS, ...Object.keys(after).filter((n) => MTHP_ALLOC.test(n))];
  const out: string[] = [];
  for (const n of names) {
    const d = (after[n] ?? 0) - (before[n] ?? 0);
    if (d === 0 || !(n in after)) continue;
    out.push(`${n} ${d > 0 ? "+" : ""}${d}${n.startsWith("meminfo.") ? " kB" : ""}`);
  }
  return out;
}

/** One process's memory by TLB entry size, page tables and TLB entries: "8M by 2M (4), 64K by 4K (16); 9 table pages; 20 TLB entries". */
export function footprintText(k: Kernel, mm: Mm): string {
  const c = tlbCoverage(k, mm);
  const sizes = [...c.bySize].reverse().map((s) => `${formatSize(s.bytes)} by ${formatSize(s.size)} (${s.entries})`);
  return `${sizes.length === 0 ? "nothing mapped" : sizes.join(", ")}; ${c.tablePages} page-table pages; ${c.entries} TLB entries`;
}

/** The first bound name of any process whose walk ends at a leaf of `size` bytes or more. */
export function findHugeLeaf(st: CheckpointState, size: number): { pid: number; name: string; walk: AddressWalk } | null {
  for (const [pid, mm] of [...st.processes].sort((a, b) => a[0] - b[0])) {
    for (const [name, addr] of st.names.get(pid) ?? []) {
      const w = walkAddress(st.kernel, mm, addr);
      if (w.leaf !== null && w.leaf.size >= size) return { pid, name, walk: { ...w, pid } };
    }
  }
  return null;
}

/** The text shown at one checkpoint: each live process's footprint, and when asked, views of the state. */
export interface SectionState {
  readonly footprints: readonly string[];
  readonly walk?: { readonly pid: number; readonly name: string; readonly text: string };
  readonly thpmaps?: string;
}

export function sectionState(st: CheckpointState, opts: { walkSize?: number; thpmaps?: boolean }): SectionState {
  const footprints = [...st.processes].sort((a, b) => a[0] - b[0]).map(([pid, mm]) => `pid ${pid}: ${footprintText(st.kernel, mm)}`);
  const leaf = opts.walkSize === undefined ? null : findHugeLeaf(st, opts.walkSize);
  const procs = [...st.processes].sort((a, b) => a[0] - b[0]);
  const pidOf = new Map(procs.map(([pid, mm]) => [mm, pid]));
  return {
    footprints,
    ...(leaf === null ? {} : { walk: { pid: leaf.pid, name: leaf.name, text: formatWalk(leaf.walk) } }),
    ...(opts.thpmaps === true && procs.length > 0 && st.kernel.thp.pmdOrder > 0
      ? { thpmaps: formatThpmaps(thpmaps(st.kernel, procs.map(([, mm]) => mm), { rollup: true, cont: ["64K"], pidOf: (mm) => pidOf.get(mm) ?? mm.id })) }
      : {}),
  };
}

/** Pages allocated and not given back: allocator pages in use at the end beyond the start, page tables of the processes alive at the start set aside. */
export function leakedPages(r: RunResult): { pages: number; swapSlots: number; tablePages: number; processes: number } {
  const first = r.checkpoints[0]!.counters;
  const last = r.checkpoints[r.checkpoints.length - 1]!.counters;
  const pageKb = r.kernel.pageSize / 1024;
  const own = (c: Readonly<Record<string, number>>) => (c["meminfo.Allocated"]! - c["meminfo.PageTables"]!) / pageKb;
  return {
    pages: own(last) - own(first),
    swapSlots: (last["meminfo.SwapTotal"]! - last["meminfo.SwapFree"]!) / pageKb,
    tablePages: last["meminfo.PageTables"]! / pageKb,
    processes: r.processes.size,
  };
}

/** Indent every line of `text`. */
export function indent(text: string, by = "   "): string {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => `${by}${l}`)
    .join("\n");
}

export function heading(s: Style, n: number, name: string): string {
  const caption = SECTION_CAPTIONS[name];
  return s.bold(`${n}. ${name}`) + (caption === undefined ? "" : s.dim(` — ${caption}`));
}
