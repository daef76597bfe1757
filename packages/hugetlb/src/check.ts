import { entryRegs } from "@hugemm/arch";
import { Slot, type ViolationReport } from "@hugemm/core";
import { hugePtepGet, hugePteOffset, valueLevel } from "./pgtable";
import { hugeIndex } from "./reserve";
import type { HugetlbState } from "./state";

const E = entryRegs(1);
const SLOT = new Slot();

/**
 * hugetlb's invariants, after every checked operation: each pool's counters
 * equal a recount of its folios and free lists (globally and per node) and
 * stay in range (all >= 0 — Rsvd only once the reservations waiting on an
 * in-use folio's restore_reserve are counted, the kernel's own transient
 * shortfall — Free >= Rsvd, Surp <= Total); Rsvd equals the
 * reservations the maps hold — inode regions without a page, unconsumed
 * pages of private owner mappings, subpool minimums — less those waiting on
 * an in-use folio's restore_reserve; every cached page lies in a region;
 * each mm's hugetlb_usage equals the pages its logical entries map.
 */
export function checkHugetlb(st: HugetlbState, report: ViolationReport): void {
  const k = st.k;
  const f = k.folios;
  const nodes = k.phys.nodes.length;
  const onFree = new Set<number>();
  // Reservations waiting on an in-use folio's restore_reserve (see HugetlbConfig.zapRestore).
  const pending = new Map<object, number>();
  for (const head of st.restoreReserve) {
    const h = st.folios.get(head);
    if (h !== undefined) pending.set(h, (pending.get(h) ?? 0) + 1);
  }
  for (const h of st.hstates) {
    const n = h.name;
    if (h.nr < 0 || h.free < 0 || h.resv + (pending.get(h) ?? 0) < 0 || h.surplus < 0) report("pool", `${n}: a counter is negative (total ${h.nr}, free ${h.free}, reserved ${h.resv}, surplus ${h.surplus})`);
    if (h.free < h.resv) report("pool", `${n}: free ${h.free} < reserved ${h.resv}`, { expected: `>= ${h.resv}`, found: h.free });
    if (h.surplus > h.nr) report("pool", `${n}: surplus ${h.surplus} > total ${h.nr}`);
    let total = 0;
    let free = 0;
    let surplus = 0;
    for (let nid = 0; nid < nodes; nid++) {
      const list = h.freelists[nid]!;
      if (list.length !== h.freeNode[nid]) report("pool", `${n}: node ${nid} counts ${h.freeNode[nid]} free pages but its free list holds ${list.length}`, { expected: list.length, found: h.freeNode[nid] });
      for (const head of list) {
        onFree.add(head);
        if (k.phys.nidOf(head) !== nid) report("pool", `${n}: free folio ${head} of node ${k.phys.nidOf(head)} is on node ${nid}'s list`, { pfn: head });
        if (f.refcount(head) !== 0 || f.mapcount(head) !== 0) report("pool", `${n}: free folio ${head} has refcount ${f.refcount(head)} and mapcount ${f.mapcount(head)}`, { pfn: head });
      }
      if (h.surplusNode[nid]! > h.nrNode[nid]!) report("pool", `${n}: node ${nid} surplus ${h.surplusNode[nid]} > its total ${h.nrNode[nid]}`);
      total += h.nrNode[nid]!;
      free += h.freeNode[nid]!;
      surplus += h.surplusNode[nid]!;
    }
    if (total !== h.nr || free !== h.free || surplus !== h.surplus) report("pool", `${n}: per-node sums (total ${total}, free ${free}, surplus ${surplus}) differ from the global counters (${h.nr}, ${h.free}, ${h.surplus})`);
    let folios = 0;
    for (const [head, hh] of st.folios) {
      if (hh !== h) continue;
      folios++;
      if (!f.isAllocated(head) || f.head(head) !== head || f.order(head) !== h.order) report("pool", `${n}: folio ${head} is not an allocated folio of order ${h.order}`, { pfn: head });
    }
    if (folios !== h.nr) report("pool", `${n}: total ${h.nr} but ${folios} folios of the size exist`, { expected: folios, found: h.nr });
  }
  for (const head of st.folios.keys()) {
    if (!onFree.has(head) && f.refcount(head) <= 0) report("pool", `in-use hugetlb folio ${head} has refcount ${f.refcount(head)}`, { pfn: head });
  }
  checkReservations(st, report);
}

function checkReservations(st: HugetlbState, report: ViolationReport): void {
  const k = st.k;
  const want = new Map<object, number>();
  const add = (h: object, n: number) => want.set(h, (want.get(h) ?? 0) + n);
  for (const [id, hf] of st.files) {
    const as = k.files.get(id);
    if (as === undefined) {
      report("resv", `hugetlbfs inode ${id} has no address space`);
      continue;
    }
    let inRegions = 0;
    for (const base of as.pages.keys()) {
      const idx = base / hf.h.pages;
      if (hf.resv.has(idx)) inRegions++;
      else report("resv", `${as.name}: the cached page at index ${idx} has no region in the inode's reserve map`);
    }
    add(hf.h, hf.resv.count(0, Number.MAX_SAFE_INTEGER) - inRegions);
  }
  for (const mm of k.mms.values()) {
    let usage = 0;
    for (const vma of mm.vmas.all()) {
      const hv = st.vmas.get(vma);
      if (hv === undefined) continue;
      const h = hv.h;
      if (hv.owner && hv.resv !== null) {
        const s = hugeIndex(hv, vma, vma.start, k.pageShift);
        const e = hugeIndex(hv, vma, vma.end, k.pageShift);
        add(h, e - s - hv.resv.count(s, e));
      }
      const lvl = valueLevel(h.entry);
      for (let a = vma.start; a < vma.end; a += h.size) {
        if (!hugePteOffset(mm, h, a, SLOT)) continue;
        hugePtepGet(k, h, SLOT, a, E);
        if (!k.backend.none(E, 0, lvl)) usage += h.pages;
      }
    }
    const have = st.usage.get(mm.id) ?? 0;
    if (have !== usage) report("usage", `mm ${mm.id} hugetlb_usage is ${have} pages but its hugetlb entries map ${usage}`, { mm: mm.id, expected: usage, found: have });
  }
  for (const [sp, h] of st.subpools) add(h, sp.rsv);
  for (const head of st.restoreReserve) {
    const h = st.folios.get(head);
    if (h !== undefined) add(h, -1);
  }
  for (const h of st.hstates) {
    const expected = want.get(h) ?? 0;
    if (h.resv !== expected) report("resv", `${h.name}: resv_huge_pages is ${h.resv} but the reserve maps and subpools hold ${expected}`, { expected, found: h.resv });
  }
}
