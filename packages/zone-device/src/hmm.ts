import { PTE, SoftleafType, entryRegs, softleafPfn, softleafTypeOf, type Level } from "@hugemm/arch";
import { MEMORY_DEVICE_PRIVATE, Slot, VM_FAULT_ERROR, VM_IO, VM_PFNMAP, VM_READ, VM_WRITE, WALK_LEAF, WALK_OK, WALK_SOFTLEAF, type Kernel, type Mm } from "@hugemm/core";

const R = entryRegs(1);
const SLOT = new Slot();

/** What hmm_range_fault reports for one page (the HMM_PFN_* word, taken apart). */
export interface HmmPfn {
  /** HMM_PFN_VALID: the pfn is meaningful. */
  valid: boolean;
  /** HMM_PFN_ERROR: no VMA, or one the device may not read. */
  error: boolean;
  write: boolean;
  pfn: number;
  /** The level of the mapping (hmm_pfn_to_map_order). */
  level: Level;
}

export type HmmError = "EFAULT" | "EPERM";

/**
 * hmm_range_fault over [start, end) of `mm` for a device whose
 * device-private pages belong to `owner`: with `fault`, every page is made
 * present (and writable with `write`) through handle_mm_fault, a
 * device-private page of another owner migrating back on the way; without,
 * it is a snapshot of what the CPU page tables hold. A page of a VMA the
 * device may not read is EFAULT when it must be faulted (an error entry in
 * a snapshot), a write to a read-only VMA EPERM, a fault that fails EFAULT.
 */
export function hmmRangeFault(k: Kernel, mm: Mm, start: number, end: number, owner: object, fault: boolean, write: boolean): HmmPfn[] | HmmError {
  const ps = k.pageSize;
  const out: HmmPfn[] = [];
  const slot = SLOT;
  for (let addr = start; addr < end; ) {
    const vma = mm.vmas.lookup(addr);
    if (vma === undefined || (vma.flags & (VM_IO | VM_PFNMAP)) !== 0 || (vma.flags & VM_READ) === 0) {
      if (fault) return "EFAULT";
      out.push({ valid: false, error: true, write: false, pfn: -1, level: PTE });
      addr += ps;
      continue;
    }
    const e = lookup(k, mm, addr, owner, slot);
    const needFault = fault && (!e.valid || (write && !e.write));
    if (needFault) {
      if (write && (vma.flags & VM_WRITE) === 0) return "EPERM";
      const r = k.fault(mm, addr, write);
      if (r & VM_FAULT_ERROR) return "EFAULT";
      // hmm_vma_fault returns -EBUSY and the walk restarts at this address.
      continue;
    }
    out.push(e);
    addr += ps;
  }
  return out;
}

/** What one page looks like to the device without faulting (a one-page snapshot), or null outside a readable VMA. */
export function hmmPeek(k: Kernel, mm: Mm, addr: number, owner: object): HmmPfn | null {
  const vma = mm.vmas.lookup(addr);
  if (vma === undefined || (vma.flags & (VM_IO | VM_PFNMAP)) !== 0 || (vma.flags & VM_READ) === 0) return null;
  return lookup(k, mm, addr, owner, SLOT);
}

/** The entry mapping `addr`, as hmm_vma_walk_pmd / hmm_vma_handle_pte would report it. */
function lookup(k: Kernel, mm: Mm, addr: number, owner: object, slot: Slot): HmmPfn {
  const b = k.backend;
  const none: HmmPfn = { valid: false, error: false, write: false, pfn: -1, level: PTE };
  const st = mm.walker.find(addr, PTE, false, slot);
  if (st !== WALK_OK && st !== WALK_LEAF && st !== WALK_SOFTLEAF) return none;
  const level = slot.level;
  b.readEntry(slot.table, slot.index, level, R, 0);
  const off = level === PTE ? 0 : (addr % mm.walker.levelSize(level)) / k.pageSize;
  if (b.none(R, 0, level)) return none;
  if (b.present(R, 0, level)) {
    const pfn = b.pfn(R, 0, level) + off;
    if (level !== PTE && b.special(R, 0, level) && !k.hugeZero.is(pfn - off)) return none;
    return { valid: true, error: false, write: b.write(R, 0, level), pfn, level };
  }
  const type = softleafTypeOf(b.swpType(R, 0, level));
  if (type !== SoftleafType.DEVICE_PRIVATE_READ && type !== SoftleafType.DEVICE_PRIVATE_WRITE) return none;
  const pfn = softleafPfn(b.softleaf, b.swpOffset(R, 0, level)) + off;
  const p = k.phys.pgmapOf(pfn);
  // Another device's private page is not the caller's: it must come back to RAM first.
  if (p === undefined || p.type !== MEMORY_DEVICE_PRIVATE || p.owner !== owner) return none;
  return { valid: true, error: false, write: type === SoftleafType.DEVICE_PRIVATE_WRITE, pfn, level };
}
