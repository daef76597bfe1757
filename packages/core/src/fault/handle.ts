import { PTE, entryRegs } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { EV } from "../stats/counters";
import { WALK_ENOMEM, WALK_OK, type Slot } from "../pgtable/walker";
import { ModelBug } from "../util/errors";
import { accessError } from "./access";
import { doAnonymousPage } from "./anon";
import { FAULT_FLAG_UNSHARE, FAULT_FLAG_WRITE, VM_FAULT_OOM, VM_FAULT_SIGSEGV } from "./codes";
import { doWpPage, type WpSwapHooks } from "./wp";

const R = entryRegs(2);

/**
 * What the fault path needs from layers built above it: file and shmem
 * faults (the page cache), swap-in, and the huge-page fault handlers. The
 * kernel object wires these in; each has the kernel's function name.
 */
export interface FaultHandlers extends WpSwapHooks {
  /** do_fault: a none PTE in a file or shmem VMA. */
  doFault(k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number, slot: Slot): number;
  /** do_swap_page: a non-present, non-none PTE (swap, migration, device-private, marker). */
  doSwapPage(k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number, slot: Slot, orig: Uint32Array): number;
  /**
   * The huge levels of __handle_mm_fault (create_huge_pud / create_huge_pmd
   * and the faults on existing huge entries). Returns -1 to go on to the PTE
   * level, otherwise the fault's result.
   */
  hugeFault(k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number): number;
}

/**
 * The arch fault handler's part (do_user_addr_fault and friends): find the
 * VMA, check the access against its flags, then handle_mm_fault.
 */
export function userFault(k: Kernel, mm: Mm, addr: number, flags: number, h: FaultHandlers): number {
  const vma = mm.vmas.lookup(addr);
  if (vma === undefined || accessError(vma, flags)) return VM_FAULT_SIGSEGV;
  return handleMmFault(k, mm, vma, addr, flags, h);
}

/** handle_mm_fault: count the fault, take the VMA lock, walk to the PTE and handle it. */
export function handleMmFault(k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number, h: FaultHandlers): number {
  k.events[EV.pgfault]!++;
  k.locks.acquire(vma.lock, true);
  try {
    // A kind with its own fault (hugetlb_fault) handles the whole fault.
    const kindFault = vma.kind?.fault;
    if (kindFault !== undefined) return kindFault(k, mm, vma, addr, flags);
    const slot = mm.slot;
    // A PTE table already covers the address: nothing above it is huge, and no huge entry can be made.
    let st = mm.walker.find(addr, PTE, false, slot);
    if (st !== WALK_OK) {
      const huge = h.hugeFault(k, mm, vma, addr, flags);
      if (huge >= 0) return huge;
      st = mm.walker.find(addr, PTE, true, slot, mm.nid);
    }
    if (st === WALK_ENOMEM) return VM_FAULT_OOM;
    if (st !== WALK_OK) throw new ModelBug(`fault at 0x${addr.toString(16)}: the walk stopped with status ${st} above the PTE level`);
    return handlePteFault(k, mm, vma, addr, flags, slot, h);
  } finally {
    k.locks.release(vma.lock);
  }
}

/** handle_pte_fault: dispatch on the PTE's state. */
export function handlePteFault(k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number, slot: Slot, h: FaultHandlers): number {
  const b = k.backend;
  b.getEntry(slot.table, slot.index, PTE, R, 0);
  // Faults on none and non-present PTEs allocate and do I/O first, then take the PTE lock themselves.
  if (b.none(R, 0, PTE)) return vma.isAnonymous ? doAnonymousPage(k, mm, vma, addr, flags, slot) : h.doFault(k, mm, vma, addr, flags, slot);
  if (!b.present(R, 0, PTE)) return h.doSwapPage(k, mm, vma, addr, flags, slot, R);
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  if (b.protnone(R, 0, PTE)) {
    // do_numa_page: the hint fault restores the VMA's protection (NUMA balancing's scanner is not modelled).
    b.modifyEntries(k.ptCtx, slot.table, slot.index, PTE, addr, 1, vma.flags & 0xf);
    k.locks.release(ptl);
    return 0;
  }
  if (flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE)) {
    // do_wp_page releases the lock itself (before allocating, when it copies).
    if (!b.write(R, 0, PTE)) return doWpPage(k, mm, vma, addr, flags, slot, R, h);
    if (flags & FAULT_FLAG_WRITE) b.mkdirty(R, 0, PTE);
  }
  b.mkyoung(R, 0, PTE);
  b.setAccessFlags(k.ptCtx, slot.table, slot.index, PTE, addr, R, 0, (flags & FAULT_FLAG_WRITE) !== 0);
  k.locks.release(ptl);
  return 0;
}
