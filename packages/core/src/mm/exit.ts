import type { Kernel } from "../kernel/kernel";
import { ModelBug } from "../util/errors";
import { NR_MM_COUNTERS } from "./counters";
import { freePgdRange } from "./free-pgtables";
import type { Mm } from "./mm";
import type { Vma } from "./vma";
import { zapPageRange, type HugeZap } from "./zap";

/**
 * exit_mmap: unmap every VMA, free every page table, unlink the reverse
 * maps, and give back the page-table root. Afterwards the mm holds nothing:
 * no rss, no swap entries, no tables.
 */
export function exitMmap(k: Kernel, mm: Mm, hugeZap: HugeZap, unlinkFile: (vma: Vma) => void): void {
  if (mm.exited) throw new ModelBug(`mm ${mm.id} exited twice`);
  k.locks.acquire(mm.mmapLock);
  try {
    const vmas = [...mm.vmas.all()];
    for (const v of vmas) zapPageRange(k, mm, v, v.start, v.end, hugeZap);
    freePgdRange(k, mm, 0, mm.taskSize, 0, 0);
    for (const v of vmas) {
      k.anonVmas.unlink(v);
      unlinkFile(v);
      mm.vmas.remove(v);
      // remove_vma: vm_ops->close, as munmap's removeVma does (a private hugetlb mapping returns its unused reservations).
      v.kind?.close?.(v);
    }
  } finally {
    k.locks.release(mm.mmapLock);
  }
  for (let i = 0; i < NR_MM_COUNTERS; i++) {
    if (mm.rss[i] !== 0) throw new ModelBug(`mm ${mm.id} exited with rss counter ${i} at ${mm.rss[i]}`);
  }
  k.tables.free(mm.rootPa);
  k.tables.dropFragCache(mm.id);
  mm.exited = true;
  mm.walker.invalidate();
  k.dropMm(mm);
}
