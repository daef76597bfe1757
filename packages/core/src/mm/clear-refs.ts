import { PTE, entryRegs, type Level } from "@hugemm/arch";
import { normalPage } from "../fault/wp";
import type { Kernel } from "../kernel/kernel";
import { PG_referenced } from "../phys/page-flags";
import { Slot, WALK_LEAF, WALK_OK, WALK_SOFTLEAF } from "../pgtable/walker";
import { ModelInputError } from "../util/errors";
import { folioMaybeDmaPinned } from "./fork";
import { MMF_HAS_PINNED, type Mm } from "./mm";
import type { Vma } from "./vma";
import { VM_PFNMAP, VM_SOFTDIRTY, isCowMapping } from "./vm-flags";

/** The values /proc/pid/clear_refs takes (enum clear_refs_types). */
export const CLEAR_REFS_ALL = 1;
export const CLEAR_REFS_ANON = 2;
export const CLEAR_REFS_MAPPED = 3;
export const CLEAR_REFS_SOFT_DIRTY = 4;
export const CLEAR_REFS_MM_HIWATER_RSS = 5;

const R = entryRegs(2);
const SLOT = new Slot();

/**
 * A write of `type` to /proc/pid/clear_refs (clear_refs_write): 1-3 clear
 * the accessed bit of every mapped page and its folio's PG_referenced (all
 * VMAs, anonymous ones, file-backed ones); 4 clears soft-dirty, write
 * protecting each present entry so the next write faults and sets it again,
 * and takes VM_SOFTDIRTY off every VMA; 5 resets the peak RSS. The TLB is
 * flushed over each VMA changed.
 */
export function clearRefs(k: Kernel, mm: Mm, type: number): void {
  if (!Number.isInteger(type) || type < CLEAR_REFS_ALL || type > CLEAR_REFS_MM_HIWATER_RSS) {
    throw new ModelInputError("clear_refs value", type, "1 (all), 2 (anon), 3 (mapped), 4 (soft-dirty) or 5 (mm hiwater rss)");
  }
  if (type === CLEAR_REFS_MM_HIWATER_RSS) {
    mm.hiwaterRss = mm.rssPages;
    return;
  }
  if (type === CLEAR_REFS_SOFT_DIRTY && !k.backend.capabilities.softDirty) return;
  for (const vma of mm.vmas.all()) {
    // clear_refs_test_walk.
    if (vma.flags & VM_PFNMAP) continue;
    if (type === CLEAR_REFS_ANON && vma.file !== null) continue;
    if (type === CLEAR_REFS_MAPPED && vma.file === null) continue;
    if (type === CLEAR_REFS_SOFT_DIRTY && vma.flags & VM_SOFTDIRTY) vma.flags &= ~VM_SOFTDIRTY;
    walkVma(k, mm, vma, type === CLEAR_REFS_SOFT_DIRTY);
    k.flushTlb(vma.start, vma.end, "clear-refs");
  }
}

function walkVma(k: Kernel, mm: Mm, vma: Vma, softDirty: boolean): void {
  const w = mm.walker;
  const ps = k.pageSize;
  for (let va = vma.start; va < vma.end; ) {
    const st = w.find(va, PTE, false, SLOT);
    const level = SLOT.level;
    const span = w.levelSize(level);
    if (st === WALK_OK || st === WALK_LEAF || st === WALK_SOFTLEAF) {
      const ptl = k.tables.ptl(SLOT.tablePa);
      k.locks.acquire(ptl);
      try {
        if (softDirty) clearSoftDirty(k, mm, vma, level, va - (va % span));
        else clearYoung(k, level, va - (va % span));
      } finally {
        k.locks.release(ptl);
      }
    }
    va = level === PTE ? va + ps : va - (va % span) + span;
  }
}

/** clear_refs_pte_range for one entry: test-and-clear young, and the folio's PG_referenced. */
function clearYoung(k: Kernel, level: Level, addr: number): void {
  const b = k.backend;
  b.readEntry(SLOT.table, SLOT.index, level, R, 0);
  if (!b.present(R, 0, level)) return;
  const page = level === PTE ? normalPage(k, R, 0) : b.special(R, 0, level) || k.hugeZero.is(b.pfn(R, 0, level)) ? -1 : b.pfn(R, 0, level);
  if (page < 0) return;
  b.testAndClearYoung(k.ptCtx, SLOT.table, SLOT.index, level, addr, 1);
  k.folios.clear(k.folios.head(page), PG_referenced);
}

/**
 * clear_soft_dirty / clear_soft_dirty_pmd: a present entry is write
 * protected and loses soft-dirty (through the arch's modify-prot pair, so
 * arm64 unfolds and refolds a contpte block); a swap or migration entry
 * loses its soft-dirty bit. A possibly DMA-pinned page of a COW mapping is
 * left alone, since write protecting it would break the pin's coherence.
 */
function clearSoftDirty(k: Kernel, mm: Mm, vma: Vma, level: Level, addr: number): void {
  const b = k.backend;
  b.readEntry(SLOT.table, SLOT.index, level, R, 0);
  if (b.none(R, 0, level)) return;
  if (b.present(R, 0, level)) {
    if (level === PTE && mm.flags & MMF_HAS_PINNED && isCowMapping(vma.flags)) {
      const page = normalPage(k, R, 0);
      if (page >= 0 && folioMaybeDmaPinned(k, k.folios.head(page))) return;
    }
    if (level === PTE) b.getAndClear(k.ptCtx, SLOT.table, SLOT.index, PTE, addr, R, 0);
    else b.invalidate(k.ptCtx, SLOT.table, SLOT.index, level, addr, R, 0);
    b.wrprotect(R, 0, level);
    b.clearSoftDirty(R, 0, level);
    b.setEntries(k.ptCtx, SLOT.table, SLOT.index, level, addr, R, 0, 1);
    return;
  }
  if (!b.isSoftleaf(R, 0, level) || !b.swpSoftDirty(R, 0, level)) return;
  b.swpClearSoftDirty(R, 0, level);
  b.setEntries(k.ptCtx, SLOT.table, SLOT.index, level, addr, R, 0, 1);
}
