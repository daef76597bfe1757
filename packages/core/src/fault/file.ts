import { PTE, entryRegs } from "@hugemm/arch";
import type { AddressSpace } from "../file/address-space";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES } from "../mm/counters";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { VM_RAND_READ, VM_SHARED, VM_WRITE, protIndex } from "../mm/vm-flags";
import { GFP_HIGHUSER_MOVABLE } from "../phys/gfp";
import { EV } from "../stats/counters";
import type { Slot } from "../pgtable/walker";
import { anonVmaPrepare, ptePopulated } from "./anon";
import { PG_locked } from "../phys/page-flags";
import { FAULT_FLAG_WRITE, VM_FAULT_MAJOR, VM_FAULT_MIGRATION_WAIT, VM_FAULT_NOPAGE, VM_FAULT_OOM, VM_FAULT_SIGBUS } from "./codes";

const R = entryRegs(2);

/** fault_around_bytes: how much around a read fault filemap_map_pages tries to map. */
export const FAULT_AROUND_BYTES = 64 * 1024;

/** Reads shmem pages back from swap into the page cache (shmem_swapin_folio); provided by the swap layer. */
export type ShmemSwapin = (as: AddressSpace, index: number, nid: number) => number;

/**
 * vma->vm_page_prot: a shared mapping of a regular file wants write
 * notification (vma_wants_writenotify), so its PTEs start read-only and the
 * first write goes through page_mkwrite; shmem needs none.
 */
export function vmaPageProt(vma: Vma): number {
  if (vma.file !== null && !vma.file.shmem && vma.flags & VM_SHARED) return protIndex(vma.flags & ~VM_SHARED);
  return protIndex(vma.flags);
}

function fileCounter(as: AddressSpace): number {
  return as.shmem ? MM_SHMEMPAGES : MM_FILEPAGES;
}

/**
 * filemap_fault / shmem_fault: the cached folio for the page at `addr`,
 * reading or allocating it if needed. Returns the head with a reference
 * held, and whether that took I/O (a major fault); negative on error.
 */
function getPage(k: Kernel, mm: Mm, vma: Vma, addr: number, swapin: ShmemSwapin): { head: number; major: boolean } | number {
  const as = vma.file!;
  const index = vma.pageIndex(addr, k.pageSize);
  if (index >= as.nrPages(k.pageSize)) return VM_FAULT_SIGBUS;
  let head = k.pagecache.lookup(as, index);
  let major = false;
  if (head < 0) {
    if (as.shmem) {
      head = as.swapped.has(index) ? swapin(as, index, mm.nid) : k.pagecache.shmemAlloc(as, index, mm.nid);
      major = as.swapped.has(index);
    } else {
      head = k.pagecache.readAround(as, index, mm.nid, (vma.flags & VM_RAND_READ) !== 0);
      major = true;
    }
    if (head < 0) return VM_FAULT_OOM;
  } else if (k.folios.test(head, PG_locked)) {
    // Only a migration held open keeps a cached folio locked between operations: the fault sleeps in folio_lock until it finishes.
    return VM_FAULT_MIGRATION_WAIT;
  }
  if (major) k.events[EV.pgmajfault]!++;
  k.folios.ref(head);
  return { head, major };
}

/** Map `page` of a cached folio at `addr` (set_pte_range with a file rmap); the caller's reference becomes the mapping's. */
function mapFilePage(k: Kernel, mm: Mm, vma: Vma, addr: number, slot: Slot, head: number, page: number, write: boolean): void {
  const b = k.backend;
  b.pfnEntry(R, 0, PTE, page, vmaPageProt(vma));
  if (write) {
    b.mkdirty(R, 0, PTE);
    if (vma.flags & VM_WRITE) b.mkwrite(R, 0, PTE);
  }
  k.rmap.add(head, page, 1, PTE, false, false, vma.mmId);
  mm.addRss(fileCounter(vma.file!), 1);
  b.setEntries(k.ptCtx, slot.table, slot.index, PTE, addr, R, 0, 1);
}

/** do_fault: a none PTE in a file or shmem VMA. */
export function doFault(k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number, slot: Slot, swapin: ShmemSwapin): number {
  if (vma.file === null) return VM_FAULT_SIGBUS;
  if ((flags & FAULT_FLAG_WRITE) === 0) return doReadFault(k, mm, vma, addr, slot, swapin);
  if ((vma.flags & VM_SHARED) === 0) return doCowFault(k, mm, vma, addr, slot, swapin);
  return doSharedFault(k, mm, vma, addr, slot, swapin);
}

/** do_read_fault: map what is already cached around the address, else read the page and map it. */
function doReadFault(k: Kernel, mm: Mm, vma: Vma, addr: number, slot: Slot, swapin: ShmemSwapin): number {
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  const around = faultAround(k, mm, vma, addr, slot);
  k.locks.release(ptl);
  if (around) return VM_FAULT_NOPAGE;
  const got = getPage(k, mm, vma, addr, swapin);
  if (typeof got === "number") return got;
  const page = got.head + (vma.pageIndex(addr, k.pageSize) - k.folios.index(got.head));
  return finishFault(k, mm, vma, addr, slot, got.head, page, false) | (got.major ? VM_FAULT_MAJOR : 0);
}

/** finish_fault: under the PTE lock, map the page unless the PTE got filled meanwhile (then drop the reference). */
function finishFault(k: Kernel, mm: Mm, vma: Vma, addr: number, slot: Slot, head: number, page: number, write: boolean): number {
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  if (ptePopulated(k, slot)) {
    k.locks.release(ptl);
    folioPut(k, head);
    return VM_FAULT_NOPAGE;
  }
  mapFilePage(k, mm, vma, addr, slot, head, page, write);
  k.locks.release(ptl);
  return 0;
}

/**
 * do_fault_around + filemap_map_pages: map the cached, none-PTE pages in the
 * fault_around_bytes window around `addr` (inside the VMA and this PTE
 * table). Returns whether the faulting page itself got mapped.
 */
function faultAround(k: Kernel, mm: Mm, vma: Vma, addr: number, slot: Slot): boolean {
  const ps = k.pageSize;
  const nr = FAULT_AROUND_BYTES / ps;
  if (nr <= 1) return false;
  const b = k.backend;
  const as = vma.file!;
  const pteTable = k.geometry.tables[k.geometry.tables.length - 1]!;
  const tableSpan = 2 ** pteTable.shift * pteTable.entries;
  const win = FAULT_AROUND_BYTES;
  const from = Math.max(vma.start, addr - (addr % win), addr - (addr % tableSpan));
  const to = Math.min(vma.end, addr - (addr % win) + win, addr - (addr % tableSpan) + tableSpan);
  let mappedFault = false;
  const baseIndex = slot.index - (addr - from) / ps;
  for (let va = from, i = baseIndex; va < to; va += ps, i++) {
    const index = vma.pageIndex(va, ps);
    if (index >= as.nrPages(ps)) break;
    const head = k.pagecache.lookup(as, index);
    // next_uptodate_folio skips a folio it cannot trylock.
    if (head < 0 || k.folios.test(head, PG_locked)) continue;
    b.readEntry(slot.table, i, PTE, R, 0);
    if (!b.none(R, 0, PTE)) continue;
    const page = head + (index - k.folios.index(head));
    k.folios.ref(head);
    b.pfnEntry(R, 0, PTE, page, vmaPageProt(vma));
    // filemap_map_pages maps read-only and old for all but the faulting address.
    if (va !== addr) b.mkold(R, 0, PTE);
    k.rmap.add(head, page, 1, PTE, false, false, vma.mmId);
    mm.addRss(fileCounter(as), 1);
    b.setEntries(k.ptCtx, slot.table, i, PTE, va, R, 0, 1);
    if (va === addr) mappedFault = true;
  }
  return mappedFault;
}

/** do_cow_fault: a write to a private file mapping copies the page into a new anonymous page. */
function doCowFault(k: Kernel, mm: Mm, vma: Vma, addr: number, slot: Slot, swapin: ShmemSwapin): number {
  anonVmaPrepare(k, mm, vma);
  const got = getPage(k, mm, vma, addr, swapin);
  if (typeof got === "number") return got;
  const f = k.folios;
  const page = got.head + (vma.pageIndex(addr, k.pageSize) - f.index(got.head));
  const folio = f.alloc(0, GFP_HIGHUSER_MOVABLE, mm.nid);
  if (folio < 0) {
    folioPut(k, got.head);
    return VM_FAULT_OOM;
  }
  f.copyContents(folio, page, 1);
  folioPut(k, got.head);
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  if (ptePopulated(k, slot)) {
    k.locks.release(ptl);
    folioPut(k, folio);
    return VM_FAULT_NOPAGE;
  }
  const b = k.backend;
  b.pfnEntry(R, 0, PTE, folio, protIndex(vma.flags));
  b.mkdirty(R, 0, PTE);
  if (vma.flags & VM_WRITE) b.mkwrite(R, 0, PTE);
  k.rmap.addNewAnon(folio, vma, addr, PTE, true);
  k.lru.add(folio);
  mm.addRss(MM_ANONPAGES, 1);
  b.setEntries(k.ptCtx, slot.table, slot.index, PTE, addr, R, 0, 1);
  k.locks.release(ptl);
  return got.major ? VM_FAULT_MAJOR : 0;
}

/** do_shared_fault: a write to a shared mapping dirties the cached page (page_mkwrite) and maps it writable. */
function doSharedFault(k: Kernel, mm: Mm, vma: Vma, addr: number, slot: Slot, swapin: ShmemSwapin): number {
  const got = getPage(k, mm, vma, addr, swapin);
  if (typeof got === "number") return got;
  const page = got.head + (vma.pageIndex(addr, k.pageSize) - k.folios.index(got.head));
  k.pagecache.markDirty(got.head);
  return finishFault(k, mm, vma, addr, slot, got.head, page, true) | (got.major ? VM_FAULT_MAJOR : 0);
}
