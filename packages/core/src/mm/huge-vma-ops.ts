import type { Level } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import { ModelBug } from "../util/errors";
import type { Mm } from "./mm";
import type { Vma } from "./vma";

/**
 * What the VMA system calls need from the huge-page layer when their page
 * table walks meet a leaf or softleaf above the PTE level. The kernel object
 * carries one instance as `k.hugeVmaOps`; until the huge-page layer installs
 * its own, every method is a model bug (no huge entry can exist yet).
 */
export interface HugeVmaOps {
  /**
   * vma_adjust_trans_huge: a VMA boundary is about to be placed at `addr`,
   * which falls inside a huge mapping of `vma`; split that mapping so the
   * boundary falls between PTEs.
   */
  splitAt(k: Kernel, mm: Mm, vma: Vma, addr: number): void;
  /**
   * Before a system call changes [start, end): split the huge mappings a
   * boundary at `start` or `end` would cut, where that split may fail (a PUD
   * THP without deposited tables). False when memory for it ran out; the
   * call then fails with ENOMEM having changed nothing.
   */
  prepareRange(k: Kernel, mm: Mm, start: number, end: number): boolean;
  /**
   * change_huge_pmd / change_huge_pud for the huge entry at `level` mapping
   * `addr`, with the VMA's new protection (vma flags already updated);
   * [addr, end) lies inside the entry's span. `tryWritable` is
   * MM_CP_TRY_CHANGE_WRITABLE. Returns the bytes of [addr, end) handled, or
   * 0 after splitting the entry (the caller then walks the PTEs).
   */
  changeProtection(k: Kernel, mm: Mm, vma: Vma, level: Level, addr: number, end: number, tryWritable: boolean): number;
  /**
   * move_huge_pmd / move_huge_pud for mremap: move the huge entry at `level`
   * mapping `oldAddr` of `oldVma` to `newAddr` of `newVma`; `extent` is how
   * far the move may go from `oldAddr`. Returns the bytes moved, or 0 after
   * splitting the entry (the caller then moves the PTEs).
   */
  move(k: Kernel, mm: Mm, oldVma: Vma, newVma: Vma, level: Level, oldAddr: number, newAddr: number, extent: number): number;
}

/** The operations of a kernel without a huge-page layer: meeting a huge entry is a model bug. */
export const defaultHugeVmaOps: HugeVmaOps = {
  splitAt(_k, _mm, vma, addr) {
    throw new ModelBug(`a VMA boundary at 0x${addr.toString(16)} in VMA #${vma.id} splits a huge mapping, but no huge-page layer provides vma_adjust_trans_huge`);
  },
  prepareRange() {
    return true;
  },
  changeProtection(_k, _mm, vma, level, addr) {
    throw new ModelBug(`mprotect met a level-${level} huge entry at 0x${addr.toString(16)} in VMA #${vma.id}, but no huge-page layer provides change_huge_pmd/change_huge_pud`);
  },
  move(_k, _mm, oldVma, _newVma, level, oldAddr) {
    throw new ModelBug(`mremap met a level-${level} huge entry at 0x${oldAddr.toString(16)} in VMA #${oldVma.id}, but no huge-page layer provides move_huge_pmd/move_huge_pud`);
  },
};

/** The huge VMA operations of `k`. */
export function hugeVmaOps(k: Kernel): HugeVmaOps {
  return k.hugeVmaOps;
}
