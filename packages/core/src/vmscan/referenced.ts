import type { Kernel } from "../kernel/kernel";
import { VM_EXEC, VM_LOCKED, VM_SEQ_READ } from "../mm/vm-flags";
import { PG_referenced, PG_swapbacked } from "../phys/page-flags";
import { rmapWalk } from "../rmap/walk";

/** The result of folio_check_references. */
export const FOLIOREF_RECLAIM = 0;
export const FOLIOREF_RECLAIM_CLEAN = 1;
export const FOLIOREF_KEEP = 2;
export const FOLIOREF_ACTIVATE = 3;

/**
 * folio_referenced: visit every mapping, test and clear its young bit
 * (ptep_clear_flush_young), and report how many mappings were young and the
 * union of the flags of the VMAs seen.
 */
export function folioReferenced(k: Kernel, head: number): { referenced: number; vmFlags: number } {
  const b = k.backend;
  let referenced = 0;
  let vmFlags = 0;
  rmapWalk(k, head, (m) => {
    if (!m.present) return true;
    vmFlags |= m.vma.flags;
    if (m.vma.flags & VM_LOCKED) return true;
    if (b.testAndClearYoung(k.ptCtx, m.slot.table, m.slot.index, m.level, m.addr, 1)) {
      // Young sequential-read file mappings do not count (VM_SEQ_READ).
      if ((m.vma.flags & VM_SEQ_READ) === 0) referenced++;
    }
    return true;
  });
  return { referenced, vmFlags };
}

/**
 * folio_check_references: a folio young in its page tables is given another
 * trip around the inactive list (PG_referenced), or activated when it was
 * referenced before, mapped young more than once, or is executable file text.
 */
export function folioCheckReferences(k: Kernel, head: number): number {
  const f = k.folios;
  const { referenced, vmFlags } = folioReferenced(k, head);
  const referencedFolio = f.test(head, PG_referenced);
  f.clear(head, PG_referenced);
  if (vmFlags & VM_LOCKED) return FOLIOREF_ACTIVATE;
  if (referenced > 0) {
    f.set(head, PG_referenced);
    if (referencedFolio || referenced > 1) return FOLIOREF_ACTIVATE;
    if (vmFlags & VM_EXEC && !f.test(head, PG_swapbacked)) return FOLIOREF_ACTIVATE;
    return FOLIOREF_KEEP;
  }
  if (referencedFolio && !f.test(head, PG_swapbacked)) return FOLIOREF_RECLAIM_CLEAN;
  return FOLIOREF_RECLAIM;
}
