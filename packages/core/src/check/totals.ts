import { LRU_NAMES, NR_LRU_LISTS } from "../folio/lru";
import type { Kernel } from "../kernel/kernel";
import { PG_anon, PG_lru, PG_partially_mapped } from "../phys/page-flags";
import { MS, MTHP_MAX_ORDER, MTHP_STRIDE, NS } from "../stats/counters";
import type { Report } from "./entry";

/** What one folio adds to the machine's totals, as words of a Float64Array (SHARE_WORDS long). */
const S_NID = 0;
const S_NR = 1;
const S_ANON = 2;
const S_MAPPED = 3;
const S_THP = 4;
const S_PUD_THP = 5;
/** LRU list the folio's flags name, or -1 without PG_lru. */
const S_LRU = 6;
const S_ORDER = 7;
/** 1 for a large anonymous folio (per-size nr_anon). */
const S_LARGE_ANON = 8;
const S_PARTIAL = 9;
/** Pages the allocator handed out for the folio: none for ZONE_DEVICE memory, which its pgmap accounts. */
const S_ALLOCATED = 10;
export const SHARE_WORDS = 11;

/**
 * Sums over every folio that the node counters, the per-size THP stats and
 * the page conservation are compared with: the full check sums them afresh,
 * the incremental one keeps them and moves the folios an operation changed.
 */
export class FolioTotals {
  readonly anon: Float64Array;
  readonly mapped: Float64Array;
  readonly anonThp: Float64Array;
  readonly anonPudThp: Float64Array;
  /** Pages on each LRU list, [nid * NR_LRU_LISTS + lru]. */
  readonly lru: Float64Array;
  readonly nrAnon = new Float64Array(MTHP_MAX_ORDER + 1);
  readonly nrPartial = new Float64Array(MTHP_MAX_ORDER + 1);
  /** Pages of every folio the page allocator handed out (ZONE_DEVICE folios are their pgmaps'). */
  folioPages = 0;

  constructor(readonly nodes: number) {
    this.anon = new Float64Array(nodes);
    this.mapped = new Float64Array(nodes);
    this.anonThp = new Float64Array(nodes);
    this.anonPudThp = new Float64Array(nodes);
    this.lru = new Float64Array(nodes * NR_LRU_LISTS);
  }

  /** Add (sign 1) or take away (-1) one folio's share. */
  add(s: Float64Array, sign: number): void {
    const nid = s[S_NID]!;
    const nr = s[S_NR]!;
    this.anon[nid]! += sign * s[S_ANON]!;
    this.mapped[nid]! += sign * s[S_MAPPED]!;
    this.anonThp[nid]! += sign * s[S_THP]!;
    this.anonPudThp[nid]! += sign * s[S_PUD_THP]!;
    const l = s[S_LRU]!;
    if (l >= 0) this.lru[nid * NR_LRU_LISTS + l]! += sign * nr;
    if (s[S_LARGE_ANON] !== 0) {
      this.nrAnon[s[S_ORDER]!]! += sign;
      if (s[S_PARTIAL] !== 0) this.nrPartial[s[S_ORDER]!]! += sign;
    }
    this.folioPages += sign * s[S_ALLOCATED]!;
  }
}

/** The share of the folio at `head` in the totals, written into `out` (SHARE_WORDS long). */
export function folioShare(k: Kernel, head: number, out: Float64Array, owned: ReadonlySet<number>): Float64Array {
  const f = k.folios;
  const nr = f.nrPages(head);
  if (owned.has(head)) {
    // A feature-owned folio (hugetlb) counts in page conservation only: the feature checks its own counters.
    out.fill(0);
    out[S_NID] = k.phys.nidOf(head);
    out[S_NR] = nr;
    out[S_LRU] = -1;
    out[S_ALLOCATED] = nr;
    return out;
  }
  const id = f.lid(head);
  const order = f.order(head);
  const mappedPages = id === 0 ? (f.pageMapcount(head) > 0 ? 1 : 0) : f.large.entireMapcount[id - 1]! > 0 ? nr : f.large.nrPagesMapped[id - 1]!;
  const anon = f.test(head, PG_anon);
  const entire = id !== 0 && f.large.entireMapcount[id - 1]! > 0;
  out[S_NID] = k.phys.nidOf(head);
  out[S_NR] = nr;
  out[S_ANON] = anon ? mappedPages : 0;
  out[S_MAPPED] = anon ? 0 : mappedPages;
  out[S_THP] = anon && entire && order === k.thp.pmdOrder ? nr : 0;
  out[S_PUD_THP] = anon && entire && order === k.thp.pudOrder ? nr : 0;
  out[S_LRU] = f.test(head, PG_lru) ? k.lru.listOf(head) : -1;
  out[S_ORDER] = order;
  out[S_LARGE_ANON] = order > 0 && anon ? 1 : 0;
  out[S_PARTIAL] = order > 0 && anon && f.test(head, PG_partially_mapped) ? 1 : 0;
  out[S_ALLOCATED] = k.phys.isZoneDevice(head) ? 0 : nr;
  return out;
}

const LRU_STAT = [NS.nr_inactive_anon, NS.nr_active_anon, NS.nr_inactive_file, NS.nr_active_file, NS.nr_unevictable];

/** Node counters, per-size THP stats, page-table pages and page conservation against the totals. */
export function compareTotals(k: Kernel, t: FolioTotals, v: Report): void {
  const tablePages = k.tables.pages().size;
  for (const m of k.tables.fragmentMiscounts()) v("pgtable", `fragment page ${m.pfn} counts ${m.refs} fragments but ${m.expected} are live or not yet handed out`, { expected: m.expected, found: m.refs });
  let statTables = 0;
  for (let n = 0; n < t.nodes; n++) {
    const st = k.phys.nodeStats(n);
    statTables += st[NS.nr_page_table_pages]!;
    let buddyFree = 0;
    for (const z of k.phys.nodes[n]!.zones) buddyFree += z.freePages;
    if (st[NS.nr_free_pages] !== buddyFree) v("counters", `node ${n} nr_free_pages ${st[NS.nr_free_pages]} but its buddy lists hold ${buddyFree} pages`, { expected: buddyFree, found: st[NS.nr_free_pages] });
    if (st[NS.nr_anon_pages] !== t.anon[n]) v("counters", `node ${n} nr_anon_pages ${st[NS.nr_anon_pages]} but ${t.anon[n]} anon pages are mapped`, { expected: t.anon[n], found: st[NS.nr_anon_pages] });
    if (st[NS.nr_anon_transparent_hugepages] !== t.anonThp[n]) v("counters", `node ${n} nr_anon_transparent_hugepages ${st[NS.nr_anon_transparent_hugepages]} but ${t.anonThp[n]} pages are PMD-mapped anon THPs`);
    if (st[NS.nr_anon_pud_transparent_hugepages] !== t.anonPudThp[n]) v("counters", `node ${n} nr_anon_pud_transparent_hugepages ${st[NS.nr_anon_pud_transparent_hugepages]} but ${t.anonPudThp[n]} pages are PUD-mapped anon THPs`);
    if (st[NS.nr_mapped] !== t.mapped[n]) v("counters", `node ${n} nr_mapped ${st[NS.nr_mapped]} but ${t.mapped[n]} file pages are mapped`, { expected: t.mapped[n], found: st[NS.nr_mapped] });
    for (let l = 0; l < NR_LRU_LISTS; l++) {
      const pages = t.lru[n * NR_LRU_LISTS + l]!;
      if (st[LRU_STAT[l]!] !== pages) v("counters", `node ${n} ${LRU_NAMES[l]} counter ${st[LRU_STAT[l]!]} but ${pages} pages are on the list`);
    }
  }
  if (statTables !== tablePages) v("counters", `nr_page_table_pages ${statTables} but ${tablePages} pages hold page tables`, { expected: tablePages, found: statTables });
  for (let order = 1; order <= MTHP_MAX_ORDER; order++) {
    const a = k.mthpStats[order * MTHP_STRIDE + MS.nr_anon]!;
    const p = k.mthpStats[order * MTHP_STRIDE + MS.nr_anon_partially_mapped]!;
    if (a !== t.nrAnon[order]) v("counters", `order-${order} nr_anon is ${a} but ${t.nrAnon[order]} anonymous folios of that order exist`);
    if (p !== t.nrPartial[order]) v("counters", `order-${order} nr_anon_partially_mapped is ${p} but ${t.nrPartial[order]} such folios are partially mapped`);
  }
  // Every page is free, on a pcp list, or allocated to a folio, a page table or the zero page.
  const allocated = 1 + t.folioPages + tablePages;
  const free = k.phys.freePagesWithPcp;
  if (free + allocated !== k.phys.totalPages) v("memory", `free ${free} + allocated ${allocated} != total ${k.phys.totalPages} pages`, { expected: k.phys.totalPages, found: free + allocated });
}

/** One swap slot's swap_map count, cache flag and in-use state against the `want` entries referencing it. */
export function checkSwapSlot(k: Kernel, off: number, want: number, v: Report): void {
  const dev = k.swap.device;
  if (dev === null || off < 1 || off >= dev.pages) return;
  if (dev.count(off) !== want) v("swap", `swap slot ${off} count ${dev.count(off)} but ${want} entries reference it`, { expected: want, found: dev.count(off) });
  if (dev.hasCache(off) !== (dev.lookup(off) >= 0)) v("swap", `swap slot ${off} cache flag disagrees with the swap cache`);
  if (dev.inUse(off) !== (want > 0 || dev.hasCache(off))) v("swap", `swap slot ${off} in-use state disagrees with its users`);
}

/** References shmem files hold on swap slots (their swapped-out pages), per slot. */
export function shmemSwapRefs(k: Kernel): Map<number, number> {
  const refs = new Map<number, number>();
  for (const as of k.files.values()) for (const off of as.swapped.values()) refs.set(off, (refs.get(off) ?? 0) + 1);
  return refs;
}
