import { Slot, Walker } from "../pgtable/walker";
import type { Kernel } from "../kernel/kernel";
import { ModelBug } from "../util/errors";
import { Lock } from "../util/locks";
import { NR_MM_COUNTERS } from "./counters";
import { VmaTree } from "./vma-tree";

/** mm->flags bits the model uses. */
export const MMF_HAS_PINNED = 1 << 0;
export const MMF_DISABLE_THP = 1 << 1;
export const MMF_VM_HUGEPAGE = 1 << 2;
/** PR_SET_THP_DISABLE with PR_THP_DISABLE_EXCEPT_ADVISED: THP only where MADV_HUGEPAGE asks. */
export const MMF_DISABLE_THP_EXCEPT_ADVISED = 1 << 3;
/** The mm holds a reference on the huge zero folio (dropped at exit). */
export const MMF_HUGE_ZERO_FOLIO = 1 << 4;

/**
 * An address space (mm_struct) of one process: its VMAs, page tables, rss
 * counters and locks. Operations on it (faults, mmap, munmap, fork, ...) live
 * in their own modules and take the mm as an argument.
 */
export class Mm {
  readonly vmas = new VmaTree();
  readonly walker: Walker;
  readonly mmapLock: Lock;
  /** mm->rss_stat, indexed by MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES. */
  readonly rss = new Float64Array(NR_MM_COUNTERS);
  /** Peak of file + anon + shmem rss (hiwater_rss). */
  hiwaterRss = 0;
  /** mm->flags. */
  flags = 0;
  /** mmap_base: where top-down searches for free address space start. */
  readonly mmapBase: number;
  /** TASK_SIZE. */
  readonly taskSize: number;
  /** DEFAULT_MAP_WINDOW: searches without a hint above it stay below (x86 LA57, arm64 52-bit VA). */
  readonly mapWindow: number;
  /** Page-table pages freed by free_pgtables (the walker counts those it allocated). */
  tablesFreed = 0;
  exited = false;
  /** The node the process runs on: where its allocations go first. */
  nid = 0;
  /** A reusable slot for walks (never escapes a call). */
  readonly slot = new Slot();

  constructor(
    readonly k: Kernel,
    readonly id: number,
  ) {
    const root = k.tables.alloc(k.geometry.tables[0]!.level, id);
    if (root < 0) throw new ModelBug("no memory for a page-table root");
    this.walker = new Walker(k.backend, k.tables, id, root);
    this.mmapLock = new Lock("mmap", `mmap_lock:${id}`);
    this.taskSize = 2 ** k.geometry.userVaBits;
    this.mapWindow = 2 ** (k.geometry.mapWindowBits ?? k.geometry.userVaBits);
    // mmap_base sits below DEFAULT_MAP_WINDOW with room for a stack gap, as mmap_base() leaves (at least 128 MiB).
    this.mmapBase = this.mapWindow - Math.max(2 ** 27, this.mapWindow / 64);
  }

  /** Page-table pages this mm holds, the root included (mm->pgtables_bytes / PAGE_SIZE). */
  get pgtablePages(): number {
    return 1 + this.walker.allocated - this.tablesFreed;
  }

  get rootPa(): number {
    return this.walker.rootPa;
  }

  /** Resident pages (file + anon + shmem). */
  get rssPages(): number {
    return this.rss[0]! + this.rss[1]! + this.rss[3]!;
  }

  addRss(counter: number, nr: number): void {
    this.rss[counter]! += nr;
    const r = this.rssPages;
    if (r > this.hiwaterRss) this.hiwaterRss = r;
  }
}
