import { PTE } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import type { Vma } from "../mm/vma";
import { VM_EXEC, VM_LOCKED, VM_RAND_READ, VM_SEQ_READ } from "../mm/vm-flags";
import { PG_referenced, PG_swapbacked } from "../phys/page-flags";
import { rmapWalk } from "../rmap/walk";

/** The result of folio_check_references. */
export const FOLIOREF_RECLAIM = 0;
export const FOLIOREF_RECLAIM_CLEAN = 1;
export const FOLIOREF_KEEP = 2;
export const FOLIOREF_ACTIVATE = 3;

/**
 * folio_referenced: test and clear the young bit of every mapping
 * (ptep_clear_flush_young over a large folio's PTEs, pmdp / pudp
 * clear_flush_young for one mapped whole) and report how many VMAs found
 * it young — one per VMA however many of its entries were — with the union
 * of their flags. VMAs without recency (sequential or random read advice)
 * are not looked at. An mlocked VMA mapping the whole folio reports
 * VM_LOCKED and ends the walk.
 */
export function folioReferenced(k: Kernel, head: number): { referenced: number; vmFlags: number } {
  const b = k.backend;
  const nr = k.folios.nrPages(head);
  let referenced = 0;
  let vmFlags = 0;
  let cur: Vma | null = null;
  let young = false;
  let lockedPtes = 0;
  const endVma = (): void => {
    if (cur !== null && young) {
      referenced++;
      vmFlags |= cur.flags & ~VM_LOCKED;
    }
  };
  rmapWalk(k, head, (m) => {
    if (!m.present) return true;
    const vma = m.vma;
    if (vma !== cur) {
      endVma();
      cur = vma;
      young = false;
      lockedPtes = 0;
    }
    // invalid_folio_referenced_vma: !vma_has_recency.
    if (vma.flags & (VM_SEQ_READ | VM_RAND_READ)) return true;
    if (vma.flags & VM_LOCKED) {
      // Only a folio this VMA maps in full is mlocked: that ends the walk.
      if (m.level === PTE && ++lockedPtes !== nr) return true;
      vmFlags |= VM_LOCKED;
      cur = null;
      return false;
    }
    if (b.testAndClearYoung(k.ptCtx, m.slot.table, m.slot.index, m.level, m.addr, 1)) young = true;
    return true;
  });
  endVma();
  return { referenced, vmFlags };
}

/**
 * folio_check_references: a folio young in its page tables is given another
 * trip around the inactive list (PG_referenced), or activated when it was
 * referenced before, young in more than one VMA, or is executable file text.
 */
export function folioCheckReferences(k: Kernel, head: number): number {
  const f = k.folios;
  const { referenced, vmFlags } = folioReferenced(k, head);
  if (vmFlags & VM_LOCKED) return FOLIOREF_ACTIVATE;
  const referencedFolio = f.test(head, PG_referenced);
  f.clear(head, PG_referenced);
  if (referenced > 0) {
    f.set(head, PG_referenced);
    if (referencedFolio || referenced > 1) return FOLIOREF_ACTIVATE;
    if (vmFlags & VM_EXEC && !f.test(head, PG_swapbacked)) return FOLIOREF_ACTIVATE;
    return FOLIOREF_KEEP;
  }
  if (referencedFolio && !f.test(head, PG_swapbacked)) return FOLIOREF_RECLAIM_CLEAN;
  return FOLIOREF_RECLAIM;
}
