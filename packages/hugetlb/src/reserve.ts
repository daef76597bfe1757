import { VM_MAYSHARE, VM_NORESERVE, type Vma } from "@hugemm/core";
import type { Hstate } from "./hstate";
import { acctMemory, allocSurplus, dequeue } from "./pool";
import { ResvMap } from "./resv-map";
import type { HugetlbFile, HugetlbState, HugetlbVma } from "./state";
import { subpoolGet, subpoolPut } from "./subpool";

/** vma_hugecache_offset: the huge-page index `addr` maps in the VMA's file. */
export function hugeIndex(hv: HugetlbVma, vma: Vma, addr: number, pageShift: number): number {
  return Math.floor((addr - vma.start) / hv.h.size) + Math.floor(vma.pgoff / 2 ** (hv.h.entry.shift - pageShift));
}

/**
 * hugetlb_reserve_pages for [from, to) (huge indices) of `file`, mapped by
 * a VMA with `vmFlags` (or by nothing, for shm): shared mappings reserve
 * the offsets the inode's map lacks, private ones every page in a map of
 * their own (they become its owner). Returns the private map, null when
 * nothing was reserved, or false (ENOMEM) when the pool, overcommit or the
 * mount's size cannot cover it — with every counter unchanged.
 */
export function reservePages(st: HugetlbState, file: HugetlbFile, from: number, to: number, vmFlags: number, nid: number): ResvMap | null | false {
  if (vmFlags & VM_NORESERVE) return null;
  const h = file.h;
  const shared = (vmFlags & VM_MAYSHARE) !== 0;
  const priv = shared ? null : new ResvMap();
  const chg = shared ? file.resv.chg(from, to) : to - from;
  const gbl = subpoolGet(file.subpool, chg);
  if (gbl < 0) return false;
  if (!acctMemory(st, h, gbl, nid)) {
    // Only the pages the subpool's minimum covered go back to it, as the kernel's out_put_pages does.
    const spoolResv = chg - gbl;
    if (spoolResv > 0) acctMemory(st, h, -subpoolPut(file.subpool, spoolResv));
    return false;
  }
  if (shared) file.resv.add(from, to);
  return priv;
}

/**
 * hugetlb_unreserve_pages: the offsets [from, to) of `file` lose their
 * regions (truncate, hole punch, evict); `freed` of them had pages. The
 * rest were reservations, returned to the subpool and the pool.
 */
export function unreservePages(st: HugetlbState, file: HugetlbFile, from: number, to: number, freed: number): void {
  const chg = file.resv.del(from, to);
  const gbl = subpoolPut(file.subpool, chg - freed);
  acctMemory(st, file.h, -gbl);
}

/**
 * vma_needs_reservation: 1 when a fault at huge index `idx` finds no
 * reservation for it (no map at all — a fork child, MAP_NORESERVE private —
 * counts as none), 0 when one is waiting.
 */
export function needsReservation(hv: HugetlbVma, vma: Vma, idx: number): number {
  if (vma.flags & VM_MAYSHARE) return hv.file.resv.has(idx) ? 0 : 1;
  if (hv.resv === null) return 1;
  // Private owner: a region is a consumed reservation.
  return hv.resv.has(idx) ? 1 : 0;
}

/** vma_commit_reservation: the page at `idx` is instantiated (shared: it has a region now; private: its reservation is consumed). */
export function commitReservation(hv: HugetlbVma, vma: Vma, idx: number): void {
  if (vma.flags & VM_MAYSHARE) hv.file.resv.add(idx, idx + 1);
  else hv.resv?.add(idx, idx + 1);
}

/** vma_add_reservation: the reservation at `idx` is back (a private owner's page was zapped: un-consume it). */
export function addReservation(hv: HugetlbVma, vma: Vma, idx: number): void {
  if (vma.flags & VM_MAYSHARE) hv.file.resv.add(idx, idx + 1);
  else hv.resv?.del(idx, idx + 1);
}

/** What alloc_hugetlb_folio gives: a folio head with refcount 1, or the errno. */
export type AllocResult = number | "ENOSPC";

/**
 * alloc_hugetlb_folio: a folio for huge index `idx` of `vma`. A waiting
 * reservation is used (the folio then carries restore_reserve until it is
 * mapped or cached); otherwise the subpool is charged and a free page not
 * promised to anyone is taken, or a surplus page allocated. `cowFromOwner`
 * (the owner's COW of its own private page) never uses the VMA's
 * reservation: the old page already consumed it.
 */
export function allocHugetlbFolio(st: HugetlbState, hv: HugetlbVma, vma: Vma, idx: number, cowFromOwner: boolean, nid: number): AllocResult {
  const h: Hstate = hv.h;
  const reuse = !cowFromOwner && needsReservation(hv, vma, idx) === 0;
  const spool = hv.file.subpool;
  let gbl = 0;
  if (!reuse) {
    gbl = subpoolGet(spool, 1);
    if (gbl < 0) return "ENOSPC";
  }
  let head = -1;
  if (gbl === 0 || h.available > 0) head = dequeue(st, h, nid);
  if (head < 0) head = allocSurplus(st, h, nid);
  if (head < 0) {
    // Only a page taken from the subpool's minimum goes back to it, as the kernel's out_subpool_put does.
    if (!reuse && gbl === 0) acctMemory(st, h, -subpoolPut(spool, 1));
    return "ENOSPC";
  }
  if (gbl === 0) {
    st.restoreReserve.add(head);
    h.resv--;
  }
  if (spool !== null) st.subpoolOf.set(head, spool);
  if (!cowFromOwner) commitReservation(hv, vma, idx);
  return head;
}
