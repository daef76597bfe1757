import { PMD } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import { hex, sysErr, sysOk, type SysErr, type SysResult } from "./errno";
import { freePgdRange } from "./free-pgtables";
import type { Mm } from "./mm";
import type { Vma } from "./vma";
import { MAX_MAP_COUNT, removeVma, splitVmaUnchecked } from "./vma-ops";
import { zapPageRange } from "./zap";

/**
 * The VMAs a munmap takes out (struct vma_munmap_struct): split to the
 * range, in address order, with the neighbours that bound the page tables
 * it may free.
 */
export interface MunmapGather {
  readonly start: number;
  readonly end: number;
  readonly vmas: Vma[];
  /** FIRST_USER_ADDRESS, or the end of the VMA below the range. */
  readonly unmapStart: number;
  /** USER_PGTABLES_CEILING (0: the top), or the start of the VMA above the range. */
  readonly unmapEnd: number;
}

/**
 * vms_gather_munmap_vmas: split the first and last VMAs at the range's
 * ends and collect every VMA inside. A failed split leaves any split
 * already done in place, as the kernel does.
 */
export function gatherMunmapVmas(k: Kernel, mm: Mm, first: Vma, start: number, end: number): MunmapGather | SysErr {
  if (start > first.start) {
    // The unmap may split once more than it removes: keep the final count within the limit.
    if (end < first.end && mm.vmas.count >= MAX_MAP_COUNT) return sysErr("ENOMEM", `unmapping [${hex(start)}, ${hex(end)}) from the middle of a VMA would exceed vm.max_map_count (${MAX_MAP_COUNT} mappings)`);
    const err = splitVmaUnchecked(k, mm, first, start, true);
    if (err !== null) return err;
  }
  const prev = mm.vmas.prev(first);
  const vmas: Vma[] = [];
  for (const v of mm.vmas.overlapping(start, end)) {
    if (v.end > end) {
      const err = splitVmaUnchecked(k, mm, v, end, false);
      if (err !== null) return err;
    }
    vmas.push(v);
  }
  const next = mm.vmas.findVma(end);
  return { start, end, vmas, unmapStart: prev !== undefined ? prev.end : 0, unmapEnd: next !== undefined ? next.start : 0 };
}

/**
 * unmap_region for the gathered VMAs: zap their pages, then free_pgtables —
 * VMAs less than a PMD apart share one free_pgd_range call, bounded below by
 * the VMA before the range and above by the next gathered VMA or the VMA
 * after the range.
 */
export function clearMunmapPtes(k: Kernel, mm: Mm, g: MunmapGather): void {
  const vmas = g.vmas;
  if (vmas.length === 0) return;
  for (const v of vmas) zapPageRange(k, mm, v, v.start, v.end, k.hugeZap);
  const pmdSize = 2 ** k.geometry.levels[PMD]!.shift;
  for (let i = 0; i < vmas.length; ) {
    const addr = vmas[i]!.start;
    let j = i;
    while (j + 1 < vmas.length && vmas[j + 1]!.start <= vmas[j]!.end + pmdSize) j++;
    const next = vmas[j + 1];
    freePgdRange(k, mm, addr, vmas[j]!.end, g.unmapStart, next !== undefined ? next.start : g.unmapEnd);
    i = j + 1;
  }
  mm.walker.invalidate();
}

/** vms_complete_munmap_vmas: the gathered VMAs leave the mm and the reverse maps. */
export function completeMunmap(k: Kernel, mm: Mm, g: MunmapGather): void {
  for (const v of g.vmas) removeVma(k, mm, v);
  mm.vmas.invalidate();
}

/** do_vmi_align_munmap: unmap the page-aligned [start, end), which overlaps `first` and maybe more VMAs. */
export function doVmiAlignMunmap(k: Kernel, mm: Mm, first: Vma, start: number, end: number): SysErr | null {
  const g = gatherMunmapVmas(k, mm, first, start, end);
  if ("ok" in g) return g;
  clearMunmapPtes(k, mm, g);
  completeMunmap(k, mm, g);
  return null;
}

/** PAGE_ALIGN. */
export function pageAlign(k: Kernel, len: number): number {
  return Math.ceil(len / k.pageSize) * k.pageSize;
}

/**
 * do_vmi_munmap: unmap [start, start + len) with len rounded up to pages.
 * The start must be page-aligned and the range inside TASK_SIZE; unmapping
 * where nothing is mapped succeeds.
 */
export function doVmiMunmap(k: Kernel, mm: Mm, start: number, len: number): SysResult<0> {
  const ps = k.pageSize;
  const taskSize = mm.taskSize;
  if (start % ps !== 0) return sysErr("EINVAL", `addr ${hex(start)} is not aligned to the page size (${ps} bytes)`);
  if (start > taskSize) return sysErr("EINVAL", `addr ${hex(start)} is above TASK_SIZE ${hex(taskSize)}`);
  if (len > taskSize - start) return sysErr("EINVAL", `len ${hex(len)} from addr ${hex(start)} reaches beyond TASK_SIZE ${hex(taskSize)}`);
  const end = start + pageAlign(k, len);
  if (end === start) return sysErr("EINVAL", "len is 0: the range is empty");
  const first = mm.vmas.intersection(start, end);
  if (first === undefined) return sysOk(0);
  const err = doVmiAlignMunmap(k, mm, first, start, end);
  return err ?? sysOk(0);
}
