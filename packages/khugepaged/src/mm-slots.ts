import { MMF_VM_HUGEPAGE, type Mm } from "@hugemm/core";

/**
 * The mm_slot list khugepaged scans and its one cursor (struct
 * khugepaged_scan): registered mms in order, the slot being scanned and the
 * address to resume at. A slot is added at the tail, "just behind the
 * cursor", so a new mm waits for the rest of the pass.
 */
export class MmSlots {
  readonly list: Mm[] = [];
  /** khugepaged_scan.mm_slot: the mm being scanned, or null at the list head. */
  cursor: Mm | null = null;
  /** khugepaged_scan.address. */
  address = 0;
  /** Wakes the thread when the first mm arrives (installed by the daemon). */
  onFirst: () => void = () => {};

  has(mm: Mm): boolean {
    return this.list.includes(mm);
  }

  /** __khugepaged_enter: set MMF_VM_HUGEPAGE (nothing to do if it was set) and queue the mm. */
  enter(mm: Mm): void {
    if (mm.flags & MMF_VM_HUGEPAGE) return;
    mm.flags |= MMF_VM_HUGEPAGE;
    const wake = this.list.length === 0;
    this.list.push(mm);
    if (wake) this.onFirst();
  }

  /**
   * __khugepaged_exit: the slot goes at once unless the cursor is on it; then
   * it stays until khugepaged next looks at it and collects it.
   */
  exit(mm: Mm): void {
    const i = this.list.indexOf(mm);
    if (i < 0 || this.cursor === mm) return;
    this.list.splice(i, 1);
    mm.flags &= ~MMF_VM_HUGEPAGE;
  }

  /** collect_mm_slot: free the slot of an mm that has no users left. */
  collect(mm: Mm): void {
    if (!mm.exited) return;
    const i = this.list.indexOf(mm);
    if (i >= 0) this.list.splice(i, 1);
  }

  /** The slot after `mm`, or null when `mm` is the last. */
  next(mm: Mm): Mm | null {
    const i = this.list.indexOf(mm);
    return i >= 0 && i + 1 < this.list.length ? this.list[i + 1]! : null;
  }
}
