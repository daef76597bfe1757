import { PTE, entryRegs } from "@hugemm/arch";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES } from "../mm/counters";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { VM_MAYSHARE, VM_SHARED, VM_WRITE, protIndex } from "../mm/vm-flags";
import { GFP_HIGHUSER_MOVABLE } from "../phys/gfp";
import { PG_anon, PG_anon_exclusive, PG_swapbacked, PG_swapcache } from "../phys/page-flags";
import { EV } from "../stats/counters";
import type { Slot } from "../pgtable/walker";
import { anonVmaPrepare, mmNode } from "./anon";
import { FAULT_FLAG_UNSHARE, VM_FAULT_OOM } from "./codes";

const R = entryRegs(4);

/** Hooks the swap layer provides to the write-protect fault. */
export interface WpSwapHooks {
  /** folio_free_swap: drop the folio from the swap cache if nothing else needs the slot. */
  freeSwap(head: number): boolean;
}

/**
 * vm_normal_page for a present PTE: the page it maps, or -1 for special
 * entries (the zero page, PFN maps).
 */
export function normalPage(k: Kernel, orig: Uint32Array, o: number): number {
  const b = k.backend;
  if (b.special(orig, o, PTE)) return -1;
  const pfn = b.pfn(orig, o, PTE);
  if (pfn === k.zeroPfn) return -1;
  return pfn;
}

/**
 * do_wp_page: a write (or an unshare request from GUP) to a present PTE that
 * is not writable, entered with the PTE lock held; it releases it. Shared
 * mappings become writable in place; an anonymous page is reused when it is
 * exclusive to this mm (or can be made so); anything else is copied
 * (wp_page_copy, which allocates after dropping the lock).
 */
export function doWpPage(k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number, slot: Slot, orig: Uint32Array, swap: WpSwapHooks): number {
  const ptl = k.tables.ptl(slot.tablePa);
  const unshare = (flags & FAULT_FLAG_UNSHARE) !== 0;
  const page = normalPage(k, orig, 0);
  const f = k.folios;
  if (vma.flags & (VM_SHARED | VM_MAYSHARE)) {
    if (!unshare) wpPageShared(k, vma, addr, slot, orig, page);
    k.locks.release(ptl);
    return 0;
  }
  if (page >= 0) {
    const head = f.head(page);
    if (f.test(head, PG_anon) && (f.pageTest(page, PG_anon_exclusive) || canReuseAnonFolio(k, vma, head, swap))) {
      if (!f.pageTest(page, PG_anon_exclusive)) f.pageSet(page, PG_anon_exclusive, true);
      if (!unshare) wpPageReuse(k, vma, addr, slot, orig);
      k.locks.release(ptl);
      return 0;
    }
    f.ref(head);
  }
  const saved = entryRegs(1);
  saved[0] = orig[0]!;
  saved[1] = orig[1]!;
  k.locks.release(ptl);
  return wpPageCopy(k, mm, vma, addr, flags, slot, saved, page);
}

/** wp_page_reuse: the same page, now young, dirty and writable. */
function wpPageReuse(k: Kernel, vma: Vma, addr: number, slot: Slot, orig: Uint32Array): void {
  const b = k.backend;
  R.set(orig.subarray(0, 2), 0);
  b.mkyoung(R, 0, PTE);
  b.mkdirty(R, 0, PTE);
  if (vma.flags & VM_WRITE) b.mkwrite(R, 0, PTE);
  b.setAccessFlags(k.ptCtx, slot.table, slot.index, PTE, addr, R, 0, true);
  k.events[EV.pgreuse]!++;
}

/** wp_page_shared: a shared file or shmem page gets written: dirty it and make the PTE writable. */
function wpPageShared(k: Kernel, vma: Vma, addr: number, slot: Slot, orig: Uint32Array, page: number): number {
  if (page >= 0) k.pagecache.markDirty(k.folios.head(page));
  wpPageReuse(k, vma, addr, slot, orig);
  return 0;
}

/**
 * wp_can_reuse_anon_folio for an order-0 folio: only when this mapping holds
 * the last reference (a swap cache reference is dropped first); the folio's
 * mapping then moves to this VMA's anon_vma (folio_move_anon_rmap).
 */
function canReuseAnonFolio(k: Kernel, vma: Vma, head: number, swap: WpSwapHooks): boolean {
  const f = k.folios;
  if (f.order(head) > 0) return canReuseLargeAnonFolio(k, head, swap);
  const ref = f.refcount(head);
  if (ref > 3) return false;
  const inSwapcache = f.test(head, PG_swapcache);
  if (ref > 1 + (inSwapcache ? 1 : 0)) return false;
  if (inSwapcache) swap.freeSwap(head);
  if (f.refcount(head) !== 1) return false;
  if (vma.anonVma !== null) f.setMapping(head, vma.anonVma.id, f.index(head));
  return true;
}

/**
 * __wp_can_reuse_large_anon_folio: a large folio is reused when every
 * reference to it is a mapping of this mm (the per-mm mapcount tracking
 * says no other mm maps it, and mapcount equals refcount once a swap-cache
 * copy is dropped). A folio with a single page mapped is not worth keeping:
 * copying that page lets the rest be freed.
 */
function canReuseLargeAnonFolio(k: Kernel, head: number, swap: WpSwapHooks): boolean {
  const f = k.folios;
  const r = f.lid(head) - 1;
  const L = f.large;
  if (L.largeMapcount[r]! <= 1) return false;
  if (L.mmShared[r] !== 0) return false;
  if (f.test(head, PG_swapcache)) swap.freeSwap(head);
  return L.largeMapcount[r] === f.refcount(head);
}

/**
 * wp_page_copy: a new anonymous page replaces the old one in this PTE; the old
 * page (or the zero page) loses this mapping and its references.
 */
function wpPageCopy(k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number, slot: Slot, orig: Uint32Array, oldPage: number): number {
  const b = k.backend;
  const f = k.folios;
  const oldHead = oldPage >= 0 ? f.head(oldPage) : -1;
  anonVmaPrepare(k, mm, vma);
  const folio = f.alloc(0, GFP_HIGHUSER_MOVABLE, mmNode(mm));
  if (folio < 0) {
    if (oldHead >= 0) folioPut(k, oldHead);
    return VM_FAULT_OOM;
  }
  if (oldPage >= 0) f.copyContents(folio, oldPage, 1);
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  b.getEntry(slot.table, slot.index, PTE, R, 2);
  if (R[2] !== orig[0] || R[3] !== orig[1]) {
    // The PTE changed while the lock was dropped: someone else resolved the fault.
    k.locks.release(ptl);
    folioPut(k, folio);
    if (oldHead >= 0) folioPut(k, oldHead);
    return 0;
  }
  if (oldHead >= 0) {
    if (!f.test(oldHead, PG_anon)) {
      mm.addRss(f.test(oldHead, PG_swapbacked) ? MM_SHMEMPAGES : MM_FILEPAGES, -1);
      mm.addRss(MM_ANONPAGES, 1);
    }
  } else {
    mm.addRss(MM_ANONPAGES, 1);
  }
  b.pfnEntry(R, 0, PTE, folio, protIndex(vma.flags));
  if (flags & FAULT_FLAG_UNSHARE) {
    if (k.config.memSoftDirty && b.softDirty(orig, 0, PTE)) b.mksoftDirty(R, 0, PTE);
    if (b.capabilities.uffdWp && b.uffdWp(orig, 0, PTE)) b.mkuffdWp(R, 0, PTE);
  } else {
    b.mkdirty(R, 0, PTE);
    if (vma.flags & VM_WRITE) b.mkwrite(R, 0, PTE);
  }
  // ptep_clear_flush, then the new entry.
  b.getAndClear(k.ptCtx, slot.table, slot.index, PTE, addr, R, 2);
  k.flushTlb(addr, addr + k.pageSize, "cow");
  k.rmap.addNewAnon(folio, vma, addr, PTE, true);
  k.lru.add(folio);
  b.setEntries(k.ptCtx, slot.table, slot.index, PTE, addr, R, 0, 1);
  if (oldHead >= 0) k.rmap.remove(oldHead, oldPage, 1, PTE, vma.mmId);
  k.locks.release(ptl);
  // The reference taken before copying, and the one this mapping held.
  if (oldHead >= 0) folioPut(k, oldHead, 2);
  return 0;
}
