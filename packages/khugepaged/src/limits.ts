import { VM_UFFD_MISSING, VM_UFFD_WP, type Vma } from "@hugemm/core";
import type { KhugepagedSettings } from "./settings";

/** userfaultfd_armed: the VMA is registered for missing or write-protect faults. */
export function userfaultfdArmed(vma: Vma): boolean {
  return (vma.flags & (VM_UFFD_MISSING | VM_UFFD_WP)) !== 0;
}

/** What the limits depend on besides the order: who collapses, and the PMD order. */
export interface LimitContext {
  readonly isKhugepaged: boolean;
  readonly s: KhugepagedSettings;
  readonly pmdOrder: number;
}

/**
 * collapse_max_ptes_none: how many none or zero-page PTEs a collapse to
 * `order` may fill. MADV_COLLAPSE fills any number (none with userfaultfd
 * armed, whose missing faults must still reach user space); khugepaged uses
 * max_ptes_none at PMD order and, for an mTHP order, the rule the
 * mthp_max_ptes_none_rule knob picks.
 */
export function collapseMaxPtesNone(c: LimitContext, vma: Vma | null, order: number): number {
  const max = c.s.maxPtesNone;
  if (vma !== null && userfaultfdArmed(vma)) return 0;
  if (!c.isKhugepaged) return c.s.pmdNr;
  if (order === c.pmdOrder) return max;
  if (c.s.mthpNoneRule === "linear") return max >> (c.pmdOrder - order);
  if (max === c.s.limit) return (1 << order) - 1;
  // The kernel warns once ("mTHP collapse does not support max_ptes_none values other than 0 or 511") and uses 0.
  return 0;
}

/** collapse_max_ptes_shared: PTEs of possibly shared folios; none for mTHP (pulling them in could feed a later, larger collapse). */
export function collapseMaxPtesShared(c: LimitContext, order: number): number {
  if (!c.isKhugepaged) return c.s.pmdNr;
  if (order !== c.pmdOrder) return 0;
  return c.s.maxPtesShared;
}

/** collapse_max_ptes_swap: non-present PTEs (swap-in happens during the collapse); none for mTHP. */
export function collapseMaxPtesSwap(c: LimitContext, order: number): number {
  if (!c.isKhugepaged) return c.s.pmdNr;
  if (order !== c.pmdOrder) return 0;
  return c.s.maxPtesSwap;
}
