import { PMD, PTE, entryRegs } from "@hugemm/arch";
import { normalPage } from "../fault/wp";
import { folioPut } from "../folio/put";
import { splitFolio } from "../huge/folio-split";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { PG_active, PG_lru, PG_referenced, PG_unevictable, PG_workingset } from "../phys/page-flags";
import { Slot, WALK_LEAF, WALK_OK } from "../pgtable/walker";
import { folioDeactivate, lruAddDrain } from "../folio/lru-batch";
import { isolateForReclaim } from "./isolate";
import { walkPmdRanges } from "./madvise-walk";
import { batchBits, folioPteBatch } from "./pte-batch";
import { reclaimPages } from "./shrink";
import { splitPartialFolio } from "./split-partial";

const R = entryRegs(1);
const SLOT = new Slot();

/**
 * MADV_COLD and MADV_PAGEOUT (madvise_cold_or_pageout_pte_range), one PMD
 * span at a time. A folio mapped only here — a PMD THP the span covers
 * whole, or a large folio whose PTEs all lie in the range — is treated
 * whole: its references are forgotten (COLD also clears its young bits),
 * then COLD deactivates it and PAGEOUT isolates it, and each span's
 * isolated folios are reclaimed at once, ignoring references. A large
 * folio the range covers only in part is split first (when nothing else
 * maps it) and its pages in the range handled one by one. Returns the pages
 * reclaimed.
 */
export function madvColdOrPageout(k: Kernel, mm: Mm, vma: Vma, start: number, end: number, pageout: boolean): number {
  lruAddDrain(k);
  let reclaimed = 0;
  const list: number[] = [];
  walkPmdRanges(k, mm, vma, start, end, (addr, next) => {
    coldPmdRange(k, mm, addr, next, pageout, list);
    if (list.length > 0) reclaimed += reclaimPages(k, list.splice(0));
  });
  return reclaimed;
}

/** One pmd_entry call: the PMD THP at `addr`, or the PTEs of [addr, end). */
function coldPmdRange(k: Kernel, mm: Mm, addr: number, end: number, pageout: boolean, list: number[]): void {
  const st = mm.walker.find(addr, PTE, false, SLOT);
  if (st === WALK_LEAF && SLOT.level === PMD) {
    if (!coldHugePmd(k, mm, addr, end, pageout, list)) return;
    // The THP was split: its pages in the range are handled as PTEs.
    if (mm.walker.find(addr, PTE, false, SLOT) !== WALK_OK) return;
  } else if (st !== WALK_OK) {
    return;
  }
  coldPteRange(k, mm, addr, end, pageout, list);
}

/**
 * The PMD part: a THP mapped only by this PMD. Returns true when the range
 * covered part of it and it was split (the caller goes on over the PTEs).
 */
function coldHugePmd(k: Kernel, mm: Mm, addr: number, end: number, pageout: boolean, list: number[]): boolean {
  const b = k.backend;
  const f = k.folios;
  const size = mm.walker.levelSize(PMD);
  b.getEntry(SLOT.table, SLOT.index, PMD, R, 0);
  if (!b.present(R, 0, PMD)) return false;
  const pfn = b.pfn(R, 0, PMD);
  // vm_normal_folio_pmd: the huge zero folio is no folio to reclaim.
  if (k.hugeZero.is(pfn) || b.special(R, 0, PMD)) return false;
  const head = f.head(pfn);
  if (k.rmap.maybeMappedShared(head)) return false;
  if (end - addr !== size) {
    f.ref(head);
    const err = splitFolio(k, head, 0);
    folioPut(k, head, 1);
    return err === 0;
  }
  const haddr = addr - (addr % size);
  if (!pageout && b.young(R, 0, PMD)) {
    const ptl = k.tables.ptl(SLOT.tablePa);
    k.locks.acquire(ptl);
    b.clearYoungDirty(k.ptCtx, SLOT.table, SLOT.index, PMD, haddr, 1, true, false);
    k.locks.release(ptl);
  }
  coldFolio(k, head, pageout, list);
  return false;
}

/** The PTEs of [addr, end) in the PTE table SLOT was just walked to. */
function coldPteRange(k: Kernel, mm: Mm, addr: number, end: number, pageout: boolean, list: number[]): void {
  const b = k.backend;
  const f = k.folios;
  const ps = k.pageSize;
  let table = SLOT.table;
  let index = SLOT.index;
  let ptl = k.tables.ptl(SLOT.tablePa);
  k.locks.acquire(ptl);
  for (let nr = 1; addr < end; addr += nr * ps, index += nr) {
    nr = 1;
    b.getEntry(table, index, PTE, R, 0);
    if (!b.present(R, 0, PTE)) continue;
    const page = normalPage(k, R, 0);
    if (page < 0) continue;
    const head = f.head(page);
    const pages = f.nrPages(head);
    let young = b.young(R, 0, PTE);
    if (pages > 1) {
      nr = folioPteBatch(k, table, index, page, Math.min((end - addr) / ps, head + pages - page), 0);
      young = batchBits.young;
      if (nr < pages) {
        const r = splitPartialFolio(k, mm, ptl, head, addr, SLOT);
        if (r === "skipped") continue;
        if (r === "gone") return;
        table = SLOT.table;
        index = SLOT.index;
        ptl = k.tables.ptl(SLOT.tablePa);
        if (r === "split") nr = 0;
        continue;
      }
    }
    // Fully mapped here: exclusive when it has no other mappings.
    if (!f.test(head, PG_lru) || f.mapcount(head) !== pages) continue;
    if (!pageout && young) b.clearYoungDirty(k.ptCtx, table, index, PTE, addr, nr, true, false);
    coldFolio(k, head, pageout, list);
  }
  k.locks.release(ptl);
}

/** Forget the folio's references; then deactivate it (COLD) or isolate it for reclaim (PAGEOUT). */
function coldFolio(k: Kernel, head: number, pageout: boolean, list: number[]): void {
  const f = k.folios;
  f.clear(head, PG_referenced);
  if (f.test(head, PG_active)) f.set(head, PG_workingset);
  if (!pageout) {
    folioDeactivate(k, head);
    return;
  }
  // An unevictable folio would only be put back.
  if (!f.test(head, PG_unevictable) && isolateForReclaim(k, head)) list.push(head);
}
