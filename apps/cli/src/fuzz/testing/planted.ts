import { PMD, PTE, entryRegs, type Level } from "@hugemm/arch";
import { Kernel, MADV, Slot, WALK_LEAF, WALK_OK, type KernelConfig, type Mm, type SysResult } from "@hugemm/core";

/*
 * Test doubles of the core with a bug planted on purpose, for testing that
 * the fuzzer finds, shrinks and reproduces bugs. Each shows only under a
 * particular combination of operations.
 */

const R = entryRegs(1);

/** The present leaf mapping `addr` in `mm`: its level and the head of the folio it maps; null when none. */
function leafAt(k: Kernel, mm: Mm, addr: number): { level: Level; head: number } | null {
  const slot = new Slot();
  const st = mm.walker.find(addr, PTE, false, slot);
  if (st !== WALK_OK && st !== WALK_LEAF) return null;
  const b = k.backend;
  b.readEntry(slot.table, slot.index, slot.level, R, 0);
  if (b.none(R, 0, slot.level) || !b.present(R, 0, slot.level)) return null;
  const pfn = b.pfn(R, 0, slot.level) + Math.floor((addr % mm.walker.levelSize(slot.level)) / k.pageSize);
  if (pfn === k.zeroPfn || !k.folios.isAllocated(pfn)) return null;
  return { level: slot.level, head: k.folios.head(pfn) };
}

/**
 * mprotect of a range that starts inside a PMD-mapped THP, but not at its
 * first page, leaks one reference on the folio (as if the split of the PMD
 * at the range's start took a reference it never dropped). The folio can
 * then never be freed: the checker's refcount invariant catches it at once.
 */
export class LeakyMprotectKernel extends Kernel {
  /** mprotect calls that leaked. */
  leaks = 0;

  override mprotect(mm: Mm, addr: number, len: number, prot: number): SysResult<0> {
    const leaf = addr % this.pagesAtBytes(PMD) === 0 ? null : leafAt(this, mm, addr);
    const r = super.mprotect(mm, addr, len, prot);
    if (r.ok && leaf !== null && leaf.level === PMD && this.folios.isAllocated(leaf.head)) {
      this.folios.ref(leaf.head);
      this.leaks++;
      if (this.config.check) this.afterOp("mprotect");
    }
    return r;
  }

  private pagesAtBytes(level: Level): number {
    return this.pagesAt(level) * this.pageSize;
  }
}

/**
 * MADV_PAGEOUT of a range whose first page is PTE-mapped from a large
 * folio (an mTHP, or a THP whose PMD was split) crashes with a TypeError,
 * as code that expects every PTE-mapped large folio in a table it never
 * filled would.
 */
export class CrashingPageoutKernel extends Kernel {
  private readonly reclaimable = new Map<number, { readonly nr: number }>();

  override madvise(mm: Mm, addr: number, len: number, advice: number): SysResult<0> {
    if (advice === MADV.PAGEOUT) {
      const leaf = leafAt(this, mm, addr);
      if (leaf !== null && leaf.level === PTE && this.folios.order(leaf.head) > 0) {
        const entry = this.reclaimable.get(leaf.head) as { readonly nr: number };
        void entry.nr;
      }
    }
    return super.madvise(mm, addr, len, advice);
  }
}

/** Kernel factories for RunOptions.kernelFactory. */
export const leakyMprotect = (cfg: KernelConfig): Kernel => new LeakyMprotectKernel(cfg);
export const crashingPageout = (cfg: KernelConfig): Kernel => new CrashingPageoutKernel(cfg);
