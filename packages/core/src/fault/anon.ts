import { PTE, entryRegs } from "@hugemm/arch";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES } from "../mm/counters";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { VM_SHARED, VM_WRITE, protIndex } from "../mm/vm-flags";
import { allocAnonFolio, pteRangeNone } from "../huge/mthp";
import { MS, MTHP_STRIDE } from "../stats/counters";
import type { Slot } from "../pgtable/walker";
import { FAULT_FLAG_WRITE, VM_FAULT_OOM, VM_FAULT_SIGBUS } from "./codes";

const R = entryRegs(3);

/** anon_vma_prepare for a VMA of `mm`. */
export function anonVmaPrepare(k: Kernel, mm: Mm, vma: Vma): void {
  if (vma.anonVma !== null) return;
  k.anonVmas.prepare(vma, [mm.vmas.prev(vma), mm.vmas.next(vma)], k.pageSize);
}

/**
 * do_anonymous_page: a read maps the shared zero page (special, read-only);
 * a write allocates a zeroed folio, maps it young, dirty and writable, and
 * puts it on the inactive anon LRU.
 */
export function doAnonymousPage(k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number, slot: Slot): number {
  const b = k.backend;
  if (vma.flags & VM_SHARED) return VM_FAULT_SIGBUS;
  const prot = protIndex(vma.flags);
  const ptl = k.tables.ptl(slot.tablePa);
  if ((flags & FAULT_FLAG_WRITE) === 0) {
    k.locks.acquire(ptl);
    if (ptePopulated(k, slot)) {
      k.locks.release(ptl);
      return 0;
    }
    b.pfnEntry(R, 0, PTE, k.zeroPfn, prot);
    b.mkspecial(R, 0, PTE);
    b.setEntries(k.ptCtx, slot.table, slot.index, PTE, addr, R, 0, 1);
    k.locks.release(ptl);
    return 0;
  }
  anonVmaPrepare(k, mm, vma);
  // Allocate (perhaps reclaiming) before taking the PTE lock, then check nobody filled the PTEs meanwhile.
  const folio = allocAnonFolio(k, mm, vma, addr, slot);
  if (folio < 0) return VM_FAULT_OOM;
  const order = k.folios.order(folio);
  const nr = 1 << order;
  const start = nr === 1 ? addr : addr - (addr % (k.pageSize * nr));
  const index = slot.index - (addr - start) / k.pageSize;
  k.locks.acquire(ptl);
  if (nr === 1 ? ptePopulated(k, slot) : !pteRangeNone(k, slot.table, index, nr)) {
    k.locks.release(ptl);
    folioPut(k, folio);
    return 0;
  }
  b.pfnEntry(R, 0, PTE, folio, prot);
  if (vma.flags & VM_WRITE) {
    b.mkdirty(R, 0, PTE);
    b.mkwrite(R, 0, PTE);
  }
  // One reference per PTE mapping.
  if (nr > 1) k.folios.ref(folio, nr - 1);
  mm.addRss(MM_ANONPAGES, nr);
  if (order > 0) k.mthpStats[order * MTHP_STRIDE + MS.anon_fault_alloc]!++;
  k.rmap.addNewAnon(folio, vma, start, PTE, true);
  k.lru.add(folio);
  b.setEntries(k.ptCtx, slot.table, index, PTE, start, R, 0, nr);
  k.locks.release(ptl);
  return 0;
}

/** The PTE is no longer none (a racing fault filled it): re-read under the PTE lock. */
export function ptePopulated(k: Kernel, slot: Slot): boolean {
  k.backend.getEntry(slot.table, slot.index, PTE, R, 2);
  return !k.backend.none(R, 2, PTE);
}

/** The node a task of `mm` allocates on by default (its CPU's node). */
export function mmNode(mm: Mm): number {
  return mm.nid;
}
