import { entryRegs } from "@hugemm/arch";
import {
  FAULT_FLAG_UNSHARE,
  FAULT_FLAG_WRITE,
  ModelBug,
  PG_anon,
  PG_anon_exclusive,
  PG_dirty,
  Slot,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_MAYSHARE,
  VM_SHARED,
  VM_WRITE,
  type AddressSpace,
  type Kernel,
  type Mm,
  type Vma,
} from "@hugemm/core";
import { hugePtepGet, hugePtepGetAndClear, hugePteAlloc, makeHugePte, setHugePteAt, valueLevel } from "./pgtable";
import { putHugeFolio } from "./pool";
import { allocHugetlbFolio, hugeIndex } from "./reserve";
import type { HugetlbState, HugetlbVma } from "./state";
import { zapHugetlbRange } from "./zap";

const E = entryRegs(1);
const SLOT = new Slot();

/** The VMA's hugetlb state; a model bug if hugetlb does not know the VMA. */
export function hvOf(st: HugetlbState, vma: Vma): HugetlbVma {
  const hv = st.vmas.get(vma);
  if (hv === undefined) throw new ModelBug(`VMA #${vma.id} is VM_HUGETLB but hugetlb does not know it`);
  return hv;
}

/** vmf_anon_prepare: a private mapping's anon_vma, for the anonymous folios its faults make. */
function anonPrepare(k: Kernel, mm: Mm, vma: Vma): void {
  if (vma.anonVma === null) k.anonVmas.prepare(vma, [mm.vmas.prev(vma), mm.vmas.next(vma)], k.pageSize);
}

/**
 * hugetlb_fault: find or make the logical entry for `addr`, then no_page
 * for a none entry, wp for a write (or unshare) of a read-only one, and
 * the access flags otherwise. The fault mutex and the hugetlb VMA lock
 * serialise concurrent faults in the kernel; the model runs one at a time.
 */
export function hugetlbFault(st: HugetlbState, mm: Mm, vma: Vma, addr: number, flags: number): number {
  const k = st.k;
  const b = k.backend;
  const hv = hvOf(st, vma);
  const h = hv.h;
  const haddr = addr - (addr % h.size);
  const slot = SLOT;
  if (!hugePteAlloc(k, mm, h, haddr, slot)) return VM_FAULT_OOM;
  hugePtepGet(k, h, slot, haddr, E);
  const lvl = valueLevel(h.entry);
  if (b.none(E, 0, lvl)) return hugetlbNoPage(st, mm, vma, hv, haddr, flags, slot);
  if (!b.present(E, 0, lvl)) throw new ModelBug(`hugetlb fault at 0x${haddr.toString(16)}: a non-present entry, which the model's hugetlb never installs`);
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  if (flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE) && !b.write(E, 0, lvl)) return hugetlbWp(st, mm, vma, hv, haddr, flags, slot);
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  if (write) b.mkdirty(E, 0, lvl);
  b.mkyoung(E, 0, lvl);
  b.setHugeAccessFlags(k.ptCtx, k.tables, slot.table, slot.index, haddr, E, 0, write, h.entry);
  k.locks.release(ptl);
  return 0;
}

/**
 * hugetlb_no_page: the page cache's folio for the offset, or a new one —
 * added to the page cache for a shared mapping, anonymous for a private
 * one — mapped read-only unless the mapping is shared and writable. A
 * private write then goes straight on to hugetlb_wp, which reuses the new
 * exclusive folio.
 */
function hugetlbNoPage(st: HugetlbState, mm: Mm, vma: Vma, hv: HugetlbVma, haddr: number, flags: number, slot: Slot): number {
  const k = st.k;
  const f = k.folios;
  const h = hv.h;
  // The owner's COW took this page away: the child has no page to come back to.
  if (hv.unmapped) return VM_FAULT_SIGBUS;
  const as = vma.file as AddressSpace;
  const idx = hugeIndex(hv, vma, haddr, k.pageShift);
  const base = idx * h.pages;
  const shared = (vma.flags & VM_MAYSHARE) !== 0;
  let head = as.pages.get(base) ?? -1;
  let anon = false;
  if (head < 0) {
    if (idx >= Math.floor(as.size / h.size)) return VM_FAULT_SIGBUS;
    if (!shared) anonPrepare(k, mm, vma);
    const r = allocHugetlbFolio(st, hv, vma, idx, false, mm.nid);
    if (r === "ENOSPC") return VM_FAULT_SIGBUS;
    head = r;
    f.zero(head);
    if (shared) addToPageCache(st, as, head, base);
    else anon = true;
  } else {
    f.ref(head, 1);
  }
  if (anon) {
    k.rmap.setAnon(head, vma, haddr, vma.anonVma!.id);
    k.rmap.addWhole(head, true, true, mm.id);
    st.restoreReserve.delete(head);
  } else {
    k.rmap.addWhole(head, false, false, mm.id);
  }
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  makeHugePte(k, vma, h, head, (vma.flags & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE), E);
  setHugePteAt(k, h, slot, haddr, E);
  k.locks.release(ptl);
  st.countAdd(mm.id, h.pages);
  if (flags & FAULT_FLAG_WRITE && (vma.flags & VM_SHARED) === 0) return hugetlbWp(st, mm, vma, hv, haddr, flags, slot);
  return 0;
}

/**
 * hugetlb_add_to_page_cache: the folio caches offset `base` (base pages) of
 * the file, holding a reference per page, dirty so that nothing but
 * hugetlbfs drops it; its reservation is now the inode's region.
 */
export function addToPageCache(st: HugetlbState, as: AddressSpace, head: number, base: number): void {
  const f = st.k.folios;
  const h = st.folios.get(head)!;
  as.pages.set(base, head);
  as.nrpages += h.pages;
  f.ref(head, h.pages);
  f.setMapping(head, as.id, base);
  f.set(head, PG_dirty);
  st.restoreReserve.delete(head);
}

/**
 * hugetlb_wp: a write (or FAULT_FLAG_UNSHARE) on a read-only entry. A
 * shared mapping just becomes writable; an anonymous folio only this entry
 * maps is reused; anything else is copied into a new anonymous folio. The
 * owner of a private mapping copying its own page does not use its
 * reservation (the page already consumed it); if no page is free it takes
 * the page away from the fork children mapping it instead, which then
 * SIGBUS on their next fault there.
 */
function hugetlbWp(st: HugetlbState, mm: Mm, vma: Vma, hv: HugetlbVma, haddr: number, flags: number, slot: Slot): number {
  const k = st.k;
  const b = k.backend;
  const f = k.folios;
  const h = hv.h;
  const lvl = valueLevel(h.entry);
  const unshare = (flags & FAULT_FLAG_UNSHARE) !== 0 && (flags & FAULT_FLAG_WRITE) === 0;
  const ptl = k.tables.ptl(slot.tablePa);
  hugePtepGet(k, h, slot, haddr, E);
  if (vma.flags & VM_MAYSHARE) {
    // set_huge_ptep_writable.
    k.locks.acquire(ptl);
    b.mkwrite(E, 0, lvl);
    b.mkdirty(E, 0, lvl);
    b.setHugeAccessFlags(k.ptCtx, k.tables, slot.table, slot.index, haddr, E, 0, true, h.entry);
    k.locks.release(ptl);
    return 0;
  }
  const old = b.pfn(E, 0, lvl);
  for (let tries = 0; ; tries++) {
    if (f.test(old, PG_anon) && f.mapcount(old) === 1) {
      if (!f.pageTest(old, PG_anon_exclusive)) {
        k.rmap.moveAnon(old, vma);
        f.pageSet(old, PG_anon_exclusive, true);
      }
      if (!unshare && vma.flags & VM_WRITE) {
        // set_huge_ptep_maybe_writable.
        k.locks.acquire(ptl);
        b.mkwrite(E, 0, lvl);
        b.mkdirty(E, 0, lvl);
        b.setHugeAccessFlags(k.ptCtx, k.tables, slot.table, slot.index, haddr, E, 0, true, h.entry);
        k.locks.release(ptl);
      }
      return 0;
    }
    if (tries > 0) throw new ModelBug(`hugetlb_wp at 0x${haddr.toString(16)}: folio ${old} is still shared after the owner unmapped it from the other VMAs`);
    const cowFromOwner = hv.owner && f.test(old, PG_anon);
    anonPrepare(k, mm, vma);
    f.ref(old, 1);
    const r = allocHugetlbFolio(st, hv, vma, hugeIndex(hv, vma, haddr, k.pageShift), cowFromOwner, mm.nid);
    if (r !== "ENOSPC") {
      copyInto(st, mm, vma, hv, haddr, slot, old, r, unshare);
      putHugeFolio(st, old, 2);
      return 0;
    }
    putHugeFolio(st, old);
    if (!cowFromOwner) return VM_FAULT_SIGBUS;
    unmapRefPrivate(st, vma, old, haddr);
    // The entry is still this folio (pte_same): retry, now as its only mapping.
    hugePtepGet(k, h, slot, haddr, E);
    if (!b.present(E, 0, lvl) || b.pfn(E, 0, lvl) !== old) return 0;
  }
}

/** The copy of hugetlb_wp: `dst` replaces `src` in the entry at `slot`. */
function copyInto(st: HugetlbState, mm: Mm, vma: Vma, hv: HugetlbVma, haddr: number, slot: Slot, src: number, dst: number, unshare: boolean): void {
  const k = st.k;
  const h = hv.h;
  k.folios.copyContents(dst, src, h.pages);
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  // huge_ptep_clear_flush, then the new entry.
  hugePtepGetAndClear(k, h, slot, haddr, E);
  k.flushTlb(haddr, haddr + h.size, "cow");
  k.rmap.removeWhole(src, mm.id);
  k.rmap.setAnon(dst, vma, haddr, vma.anonVma!.id);
  k.rmap.addWhole(dst, true, true, mm.id);
  st.restoreReserve.delete(dst);
  makeHugePte(k, vma, h, dst, !unshare && (vma.flags & VM_WRITE) !== 0, E);
  setHugePteAt(k, h, slot, haddr, E);
  k.locks.release(ptl);
}

/**
 * unmap_ref_private: take `folio` at the owner's offset away from every
 * other private, non-owner VMA of the file (the fork children), marking
 * them HPAGE_RESV_UNMAPPED.
 */
function unmapRefPrivate(st: HugetlbState, vma: Vma, folio: number, haddr: number): void {
  const k = st.k;
  const ps = k.pageSize;
  const h = hvOf(st, vma).h;
  const pgoff = (haddr - vma.start) / ps + vma.pgoff;
  for (const iv of [...(vma.file as AddressSpace).iMmap]) {
    if (iv === vma || iv.flags & VM_MAYSHARE) continue;
    const ih = st.vmas.get(iv);
    if (ih === undefined || ih.owner) continue;
    const addr = iv.start + (pgoff - iv.pgoff) * ps;
    if (addr < iv.start || addr + h.size > iv.end) continue;
    const imm = k.mm(iv.mmId);
    if (imm !== undefined) zapHugetlbRange(st, imm, iv, addr, addr + h.size, folio);
  }
}
