import { PMD, PTE, PTE_MARKER_GUARD, PTE_MARKER_POISONED, SoftleafType, entryRegs, softleafIsMigration, softleafTypeOf } from "@hugemm/arch";
import { removeDeviceExclusiveEntry } from "../mm/device-exclusive";
import type { AddressSpace } from "../file/address-space";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES, MM_SWAPENTS } from "../mm/counters";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { VM_LOCKED, VM_WRITE, protIndex } from "../mm/vm-flags";
import { GFP_HIGHUSER_MOVABLE } from "../phys/gfp";
import { PG_anon, PG_mlocked, PG_swapbacked, PG_swapcache, PG_uptodate } from "../phys/page-flags";
import type { Slot } from "../pgtable/walker";
import { EV } from "../stats/counters";
import { ModelBug } from "../util/errors";
import {
  FAULT_FLAG_WRITE,
  VM_FAULT_HWPOISON,
  VM_FAULT_MAJOR,
  VM_FAULT_MIGRATION_WAIT,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
} from "./codes";
import type { WpSwapHooks } from "./wp";
import { doWpPage } from "./wp";
import { swapinDirect } from "../swap/sync-swapin";

const R = entryRegs(2);
const O = entryRegs(1);

/** Faults on device-private entries are handled by the device's driver (registered by a feature package). */
export type DevicePrivateFault = (k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number, slot: Slot, orig: Uint32Array) => number;

/**
 * swapin: the folio caching swap slot `off`, reading it from the device into
 * the swap cache (and onto the LRU) if it is not there. Returns the head with
 * a reference for the caller, and whether it was read; -1 on ENOMEM.
 */
export function swapinSlot(k: Kernel, off: number, nid: number): { head: number; read: boolean } | null {
  const dev = k.swap.device!;
  const cached = dev.lookup(off);
  if (cached >= 0) {
    k.folios.ref(cached);
    return { head: cached, read: false };
  }
  const f = k.folios;
  const head = f.alloc(0, GFP_HIGHUSER_MOVABLE, nid);
  if (head < 0) return null;
  f.writeTag(head, dev.contents[off]!);
  // __read_swap_cache_async: swap-backed before it joins the (anon) LRU.
  f.set(head, PG_uptodate | PG_swapbacked);
  k.swap.addToCache(head, off);
  k.lru.add(head);
  k.events[EV.pswpin]!++;
  k.events[EV.pgpgin]! += k.pageSize / 1024;
  return { head, read: true };
}

/**
 * swap_pte_batch: how many of the `max` PTEs from `index` are the swap
 * entries for consecutive slots from `firstOff`, with the same bits as the
 * faulting entry `orig`.
 */
function swapPteBatch(k: Kernel, table: Uint32Array, index: number, max: number, orig: Uint32Array, firstOff: number): number {
  const b = k.backend;
  const type = b.swpType(orig, 0, PTE);
  const excl = b.swpExclusive(orig, 0, PTE);
  const sd = k.config.memSoftDirty && b.swpSoftDirty(orig, 0, PTE);
  const wp = b.capabilities.uffdWp && b.swpUffdWp(orig, 0, PTE);
  let n = 0;
  for (; n < max; n++) {
    b.readEntry(table, index + n, PTE, R, 2);
    if (b.none(R, 2, PTE) || b.present(R, 2, PTE) || !b.isSoftleaf(R, 2, PTE)) break;
    if (b.swpType(R, 2, PTE) !== type || b.swpOffset(R, 2, PTE) !== firstOff + n) break;
    if (b.swpExclusive(R, 2, PTE) !== excl) break;
    if (sd !== (k.config.memSoftDirty && b.swpSoftDirty(R, 2, PTE))) break;
    if (wp !== (b.capabilities.uffdWp && b.swpUffdWp(R, 2, PTE))) break;
  }
  return n;
}

/** should_try_to_free_swap. */
function shouldTryToFreeSwap(k: Kernel, head: number, vma: Vma, flags: number): boolean {
  const f = k.folios;
  if (!f.test(head, PG_swapcache)) return false;
  if (k.swap.full || vma.flags & VM_LOCKED || f.test(head, PG_mlocked)) return true;
  return (flags & FAULT_FLAG_WRITE) !== 0 && f.refcount(head) === 1 + f.nrPages(head);
}

/**
 * do_swap_page: a non-present PTE. Swap entries bring the page back (a major
 * fault when it had to be read) and map it, writable at once when it is
 * certainly exclusive; migration entries make the fault wait; hwpoison and
 * marker entries end it.
 */
export function doSwapPage(
  k: Kernel,
  mm: Mm,
  vma: Vma,
  addr: number,
  flags: number,
  slot: Slot,
  orig: Uint32Array,
  swapHooks: WpSwapHooks,
  devicePrivate: DevicePrivateFault,
  refault: (k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number, slot: Slot) => number,
): number {
  const b = k.backend;
  // Keep the entry: the caller's register may be reused while the page is read in.
  O[0] = orig[0]!;
  O[1] = orig[1]!;
  orig = O;
  const type = softleafTypeOf(b.swpType(orig, 0, PTE));
  const off = b.swpOffset(orig, 0, PTE);
  if (type !== SoftleafType.SWAP) {
    if (softleafIsMigration(type)) return VM_FAULT_MIGRATION_WAIT;
    if (type === SoftleafType.DEVICE_EXCLUSIVE) return removeDeviceExclusiveEntry(k, mm, vma, slot);
    if (type === SoftleafType.DEVICE_PRIVATE_READ || type === SoftleafType.DEVICE_PRIVATE_WRITE) {
      return devicePrivate(k, mm, vma, addr, flags, slot, orig);
    }
    if (type === SoftleafType.HWPOISON) return VM_FAULT_HWPOISON;
    if (type === SoftleafType.MARKER) {
      if (off & PTE_MARKER_GUARD) return VM_FAULT_SIGSEGV;
      if (off & PTE_MARKER_POISONED) return VM_FAULT_HWPOISON;
      // A uffd-wp marker on a none PTE: clear it and fault as if none.
      b.getAndClear(k.ptCtx, slot.table, slot.index, PTE, addr, R, 0);
      return refault(k, mm, vma, addr, flags, slot);
    }
    throw new ModelBug(`do_swap_page: softleaf type ${type}`);
  }
  const dev = k.swap.device;
  if (dev === null || !dev.inUse(off)) return VM_FAULT_SIGBUS;
  // SWP_SYNCHRONOUS_IO with one reference to the slot: read straight into a new folio, no swap cache.
  const skipCache = dev.synchronous && dev.lookup(off) < 0 && dev.count(off) === 1;
  const direct = skipCache ? swapinDirect(k, mm, vma, addr, slot, orig, off) : null;
  if (skipCache && direct === null) return VM_FAULT_OOM;
  const got = direct !== null ? { head: direct.head, read: true } : swapinSlot(k, off, mm.nid);
  if (got === null) return VM_FAULT_OOM;
  const head = got.head;
  const f = k.folios;
  let ret = 0;
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  b.getEntry(slot.table, slot.index, PTE, R, 0);
  if (R[0] !== orig[0] || R[1] !== orig[1]) {
    // The entry changed while the page was read: someone else faulted it in.
    k.locks.release(ptl);
    folioPut(k, head);
    return ret;
  }
  if (got.read) {
    ret |= VM_FAULT_MAJOR;
    k.events[EV.pgmajfault]!++;
  }
  let exclusive = b.swpExclusive(orig, 0, PTE);
  const softDirty = k.config.memSoftDirty && b.swpSoftDirty(orig, 0, PTE);
  const uffdWp = b.capabilities.uffdWp && b.swpUffdWp(orig, 0, PTE);
  // The page of the cached folio this slot holds, and — for a large folio whose every page this
  // PMD range still maps by its swap entry — the whole folio at once.
  let page = head;
  let nr = 1;
  let index = slot.index;
  let start = addr;
  if (direct !== null) {
    nr = direct.nr;
    index = direct.index;
    start = direct.start;
  } else if (f.test(head, PG_swapcache)) {
    const idx = off - k.swap.slotOf.get(head)!;
    page = head + idx;
    const big = f.nrPages(head);
    if (big > 1) {
      const ps = k.pageSize;
      const span = mm.walker.levelSize(PMD);
      const folioStart = addr - idx * ps;
      const pmdStart = addr - (addr % span);
      if (folioStart >= Math.max(pmdStart, vma.start) && folioStart + big * ps <= Math.min(pmdStart + span, vma.end) && swapPteBatch(k, slot.table, slot.index - idx, big, orig, off - idx) === big) {
        nr = big;
        page = head;
        index = slot.index - idx;
        start = folioStart;
      }
    }
  }
  // swap_free_nr, then maybe let the swap cache go.
  dev.put(off - (slot.index - index), nr);
  if (shouldTryToFreeSwap(k, head, vma, flags)) k.swap.folioFreeSwap(head);
  mm.addRss(MM_ANONPAGES, nr);
  mm.addRss(MM_SWAPENTS, -nr);
  b.pfnEntry(R, 0, PTE, page, protIndex(vma.flags));
  if (softDirty) b.mksoftDirty(R, 0, PTE);
  if (uffdWp) b.mkuffdWp(R, 0, PTE);
  let fl = flags;
  if (exclusive || f.refcount(head) === 1) {
    if (vma.flags & VM_WRITE && !uffdWp) {
      b.mkwrite(R, 0, PTE);
      if (fl & FAULT_FLAG_WRITE) {
        b.mkdirty(R, 0, PTE);
        fl &= ~FAULT_FLAG_WRITE;
      }
    }
    exclusive = true;
  }
  // One reference per PTE mapping (swapin took one).
  if (nr > 1) f.ref(head, nr - 1);
  if (!f.test(head, PG_anon)) k.rmap.addNewAnon(head, vma, start, PTE, exclusive);
  else k.rmap.add(head, page, nr, PTE, true, exclusive, vma.mmId);
  b.setEntries(k.ptCtx, slot.table, index, PTE, start, R, 0, nr);
  if (fl & FAULT_FLAG_WRITE) {
    // do_wp_page releases the PTE lock.
    b.getEntry(slot.table, slot.index, PTE, R, 0);
    return ret | doWpPage(k, mm, vma, addr, fl, slot, R, swapHooks);
  }
  k.locks.release(ptl);
  return ret;
}

/**
 * shmem_swapin_folio: bring a swapped-out shmem page back into the page
 * cache at `index` (out of the swap cache, its slot released).
 */
export function shmemSwapin(k: Kernel, as: AddressSpace, index: number, nid: number): number {
  const off = as.swapped.get(index);
  if (off === undefined) throw new ModelBug(`shmem ${as.name} index ${index} is not swapped`);
  const got = swapinSlot(k, off, nid);
  if (got === null) return -1;
  const head = got.head;
  k.swap.deleteFromCache(head);
  k.lru.del(head);
  k.folios.clear(head, PG_anon);
  as.swapped.delete(index);
  k.swap.device!.put(off, 1);
  k.pagecache.add(as, head, index);
  // The page cache holds its own reference now; drop the swap-in's.
  k.folios.unref(head);
  k.pagecache.markDirty(head);
  return head;
}
