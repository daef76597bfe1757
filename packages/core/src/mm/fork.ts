import { PTE, SoftleafType, SWP_DEVICE_READ, SWP_MIGRATION_READ, entryRegs, softleafIsDevicePrivate, softleafIsMigration, softleafPfn, softleafTypeOf, type Level } from "@hugemm/arch";
import { restoreExclusivePte } from "./device-exclusive";
import { normalPage } from "../fault/wp";
import type { Kernel } from "../kernel/kernel";
import { GFP_HIGHUSER_MOVABLE } from "../phys/gfp";
import { PG_anon, PG_anon_exclusive } from "../phys/page-flags";
import { WALK_ENOMEM, WALK_LEAF, WALK_OK, WALK_SOFTLEAF, Slot } from "../pgtable/walker";
import { ModelBug } from "../util/errors";
import { MM_ANONPAGES, MM_SWAPENTS } from "./counters";
import { MMF_DISABLE_THP, MMF_DISABLE_THP_EXCEPT_ADVISED, MMF_HAS_PINNED, type Mm } from "./mm";
import { pteBatch, mmCounter } from "./zap";
import { Vma } from "./vma";
import { VM_DONTCOPY, VM_LOCKED, VM_LOCKONFAULT, VM_MIXEDMAP, VM_PFNMAP, VM_SHARED, VM_WIPEONFORK, VM_WRITE, isCowMapping, protIndex } from "./vm-flags";

const R = entryRegs(4);

/** GUP_PIN_COUNTING_BIAS: a FOLL_PIN of a small folio adds this to its refcount. */
export const GUP_PIN_COUNTING_BIAS = 1024;

/**
 * What copying a huge entry did: "ok" (copied, or left for the child to
 * fault), "again" (the parent's entry was split: copy the level below), or
 * "enomem".
 */
export type HugeCopyResult = "ok" | "again" | "enomem";

/** Copying a huge entry at fork (copy_huge_pmd / copy_huge_pud), provided by the huge-page layer. */
export type HugeCopy = (k: Kernel, dst: Mm, src: Mm, dstVma: Vma, srcVma: Vma, level: Level, slot: Slot, addr: number) => HugeCopyResult;

/** folio_maybe_dma_pinned. */
export function folioMaybeDmaPinned(k: Kernel, head: number): boolean {
  const id = k.folios.lid(head);
  if (id === 0) return k.folios.refcount(head) >= GUP_PIN_COUNTING_BIAS;
  return k.folios.large.pincount[id - 1]! > 0;
}

/** folio_needs_cow_for_dma: a COW mapping of an mm that pinned pages, and this folio may be pinned. */
export function folioNeedsCowForDma(k: Kernel, vma: Vma, mm: Mm, head: number): boolean {
  if (!isCowMapping(vma.flags)) return false;
  if ((mm.flags & MMF_HAS_PINNED) === 0) return false;
  return folioMaybeDmaPinned(k, head);
}

/** vm_area_dup for the child: the same range, flags without mlock, file and name; no anon_vma yet. */
function dupVma(src: Vma, child: Mm): Vma {
  const v = new Vma(child.id, src.start, src.end, src.flags & ~(VM_LOCKED | VM_LOCKONFAULT), src.pgoff);
  v.file = src.file;
  v.name = src.name;
  v.kind = src.kind;
  return v;
}

/**
 * dup_mmap: the child gets a copy of every VMA not marked VM_DONTCOPY, an
 * anon_vma of its own under the parent's (anon_vma_fork), and copies of the
 * page tables of the VMAs that need them (vma_needs_copy). Returns the child,
 * or null when memory ran out (the partial child is torn down).
 */
export function dupMmap(k: Kernel, parent: Mm, hugeCopy: HugeCopy, exitChild: (mm: Mm) => void): Mm | null {
  const child = k.createMm();
  child.nid = parent.nid;
  // mmf_init_flags: only the THP switches carry over. MMF_VM_HUGEPAGE is not in MMF_INIT_MASK: khugepaged_fork
  // registers the child itself (the onFork hook), setting the flag as __khugepaged_enter does.
  child.flags = parent.flags & (MMF_DISABLE_THP | MMF_DISABLE_THP_EXCEPT_ADVISED);
  k.locks.acquire(parent.mmapLock);
  try {
    for (const src of parent.vmas.all()) {
      if (src.flags & VM_DONTCOPY) continue;
      const dst = dupVma(src, child);
      dst.kind?.open?.(dst, src, true);
      if ((dst.flags & VM_WIPEONFORK) === 0) k.anonVmas.fork(dst, src);
      if (dst.file !== null) dst.file.iMmap.add(dst);
      child.vmas.insert(dst);
      if (dst.flags & VM_WIPEONFORK) continue;
      if (!copyPageRange(k, child, parent, dst, src, hugeCopy)) {
        k.locks.release(parent.mmapLock);
        exitChild(child);
        k.locks.acquire(parent.mmapLock);
        return null;
      }
    }
  } finally {
    k.locks.release(parent.mmapLock);
  }
  // The parent's PTEs were write-protected: flush_tlb_mm.
  k.flushTlb(0, k.pageSize, "cow");
  return child;
}

/** vma_needs_copy: only VMAs whose pages a fault could not fill back in get their tables copied. */
function vmaNeedsCopy(src: Vma): boolean {
  return (src.flags & (VM_PFNMAP | VM_MIXEDMAP)) !== 0 || src.anonVma !== null;
}

/** copy_page_range for one VMA. */
function copyPageRange(k: Kernel, dst: Mm, src: Mm, dstVma: Vma, srcVma: Vma, hugeCopy: HugeCopy): boolean {
  if (!vmaNeedsCopy(srcVma)) return true;
  const kindCopy = srcVma.kind?.copy;
  if (kindCopy !== undefined) return kindCopy(k, dst, src, dstVma, srcVma);
  const pteTable = k.geometry.tables[k.geometry.tables.length - 1]!;
  const span = 2 ** pteTable.shift * pteTable.entries;
  const srcSlot = new Slot();
  const dstSlot = new Slot();
  let addr = srcVma.start;
  while (addr < srcVma.end) {
    const st = src.walker.find(addr, PTE, false, srcSlot);
    if (st === WALK_LEAF || st === WALK_SOFTLEAF) {
      const size = src.walker.levelSize(srcSlot.level);
      const r = hugeCopy(k, dst, src, dstVma, srcVma, srcSlot.level, srcSlot, addr);
      if (r === "enomem") return false;
      // "again": the entry is a table now; walk it.
      if (r === "ok") addr = Math.min(srcVma.end, addr - (addr % size) + size);
      continue;
    }
    if (st !== WALK_OK) {
      const skip = src.walker.levelSize(srcSlot.level);
      addr = Math.min(srcVma.end, addr - (addr % skip) + skip);
      continue;
    }
    const end = Math.min(srcVma.end, addr - (addr % span) + span);
    if (dst.walker.find(addr, PTE, true, dstSlot, dst.nid) === WALK_ENOMEM) return false;
    if (!copyPteRange(k, dst, src, dstVma, srcVma, dstSlot, srcSlot, addr, end)) return false;
    addr = end;
  }
  return true;
}

/** copy_pte_range over one PTE table. */
function copyPteRange(k: Kernel, dst: Mm, src: Mm, dstVma: Vma, srcVma: Vma, dstSlot: Slot, srcSlot: Slot, start: number, end: number): boolean {
  const b = k.backend;
  const ps = k.pageSize;
  const srcPtl = k.tables.ptl(srcSlot.tablePa);
  const dstPtl = k.tables.ptl(dstSlot.tablePa);
  k.locks.acquire(dstPtl);
  k.locks.acquire(srcPtl, false, true);
  try {
    for (let addr = start, si = srcSlot.index, di = dstSlot.index; addr < end; ) {
      b.getEntry(srcSlot.table, si, PTE, R, 0);
      if (b.none(R, 0, PTE)) {
        addr += ps;
        si++;
        di++;
        continue;
      }
      // A device-exclusive entry is restored in the parent, then copied as the present PTE it now is.
      if (!b.present(R, 0, PTE) && !restoreExclusivePte(k, srcVma, srcSlot.table, si)) {
        copyNonpresentPte(k, dst, dstVma, srcSlot.table, si, dstSlot.table, di);
        addr += ps;
        si++;
        di++;
        continue;
      }
      const nr = copyPresentPtes(k, dst, src, dstVma, srcVma, srcSlot, si, dstSlot, di, addr, (end - addr) / ps);
      if (nr < 0) return false;
      addr += nr * ps;
      si += nr;
      di += nr;
    }
  } finally {
    k.locks.release(srcPtl);
    k.locks.release(dstPtl);
  }
  return true;
}

/** copy_present_ptes: share the folio (write-protecting a COW mapping in both), or copy a possibly pinned anon page now. */
function copyPresentPtes(k: Kernel, dst: Mm, src: Mm, dstVma: Vma, srcVma: Vma, srcSlot: Slot, si: number, dstSlot: Slot, di: number, addr: number, maxNr: number): number {
  const b = k.backend;
  const f = k.folios;
  b.getEntry(srcSlot.table, si, PTE, R, 0);
  const page = normalPage(k, R, 0);
  let nr = 1;
  if (page >= 0) {
    const head = f.head(page);
    const anon = f.test(head, PG_anon);
    const mayBePinned = anon && folioNeedsCowForDma(k, srcVma, src, head);
    // A batch starting on an exclusive page of a possibly pinned folio fails whatever its length (then the
    // kernel copies that one page): skip measuring it.
    const copyNow = mayBePinned && f.pageTest(page, PG_anon_exclusive);
    if (!copyNow && f.order(head) > 0 && maxNr > 1) nr = pteBatch(k, srcSlot.table, si, page, Math.min(maxNr, head + f.nrPages(head) - page));
    if (anon) {
      if (!k.rmap.tryDupAnon(head, page, nr, PTE, mayBePinned, dst.id)) {
        if (nr > 1) nr = 1;
        return copyPresentPage(k, dst, dstVma, srcSlot, si, dstSlot, di, addr, page) ? 1 : -1;
      }
      f.ref(head, nr);
      dst.addRss(MM_ANONPAGES, nr);
    } else {
      k.rmap.add(head, page, nr, PTE, false, false, dst.id);
      f.ref(head, nr);
      dst.addRss(mmCounter(k, head), nr);
    }
  }
  // __copy_present_ptes.
  b.getEntry(srcSlot.table, si, PTE, R, 0);
  if (isCowMapping(srcVma.flags) && b.write(R, 0, PTE)) {
    b.wrprotectEntries(k.ptCtx, srcSlot.table, si, PTE, addr, nr);
    b.wrprotect(R, 0, PTE);
  }
  if (srcVma.flags & VM_SHARED) b.mkclean(R, 0, PTE);
  b.mkold(R, 0, PTE);
  if (b.capabilities.uffdWp) b.clearUffdWp(R, 0, PTE);
  b.setEntries(k.ptCtx, dstSlot.table, di, PTE, addr, R, 0, nr);
  return nr;
}

/** copy_present_page: the child gets its own copy of a page the parent may have pinned. */
function copyPresentPage(k: Kernel, dst: Mm, dstVma: Vma, srcSlot: Slot, si: number, dstSlot: Slot, di: number, addr: number, page: number): boolean {
  const b = k.backend;
  const f = k.folios;
  const folio = f.alloc(0, GFP_HIGHUSER_MOVABLE, dst.nid);
  if (folio < 0) return false;
  f.copyContents(folio, page, 1);
  k.rmap.addNewAnon(folio, dstVma, addr, PTE, true);
  k.lru.add(folio);
  dst.addRss(MM_ANONPAGES, 1);
  b.pfnEntry(R, 2, PTE, folio, protIndex(dstVma.flags));
  b.mkdirty(R, 2, PTE);
  if (dstVma.flags & VM_WRITE) b.mkwrite(R, 2, PTE);
  b.readEntry(srcSlot.table, si, PTE, R, 0);
  if (b.capabilities.uffdWp && b.uffdWp(R, 0, PTE)) b.mkuffdWp(R, 2, PTE);
  b.setEntries(k.ptCtx, dstSlot.table, di, PTE, addr, R, 2, 1);
  return true;
}

/** copy_nonpresent_pte. */
function copyNonpresentPte(k: Kernel, dst: Mm, dstVma: Vma, srcTable: Uint32Array, si: number, dstTable: Uint32Array, di: number): void {
  const b = k.backend;
  b.readEntry(srcTable, si, PTE, R, 0);
  const type = softleafTypeOf(b.swpType(R, 0, PTE));
  const off = b.swpOffset(R, 0, PTE);
  if (type === SoftleafType.SWAP) {
    k.swap.device!.dup(off, 1);
    if (b.swpExclusive(R, 0, PTE)) {
      // Mark the swap entry as shared.
      b.swpClearExclusive(R, 0, PTE);
      b.writeEntry(srcTable, si, PTE, R, 0);
    }
    dst.addRss(MM_SWAPENTS, 1);
  } else if (softleafIsMigration(type)) {
    const head = k.folios.head(softleafPfn(b.softleaf, off));
    dst.addRss(mmCounter(k, head), 1);
    if (type !== SoftleafType.MIGRATION_READ && isCowMapping(dstVma.flags)) {
      // Both sides must be read-only now: the previously exclusive entry is shared.
      const sd = k.config.memSoftDirty && b.swpSoftDirty(R, 0, PTE);
      const wp = b.capabilities.uffdWp && b.swpUffdWp(R, 0, PTE);
      b.softleafEntry(R, 0, PTE, SWP_MIGRATION_READ, off);
      if (sd) b.swpMkSoftDirty(R, 0, PTE);
      if (wp) b.swpMkUffdWp(R, 0, PTE);
      b.writeEntry(srcTable, si, PTE, R, 0);
    }
  } else if (softleafIsDevicePrivate(type)) {
    // The device's copy is shared like a page: a reference, an rmap dup (it cannot be pinned) and rss.
    const page = softleafPfn(b.softleaf, off);
    const head = k.folios.head(page);
    k.folios.ref(head);
    dst.addRss(mmCounter(k, head), 1);
    k.rmap.tryDupAnon(head, page, 1, PTE, false, dst.id);
    if (type === SoftleafType.DEVICE_PRIVATE_WRITE && isCowMapping(dstVma.flags)) {
      // The parent's entry becomes readable: soft-dirty is dropped, uffd-wp kept.
      const wp = b.capabilities.uffdWp && b.swpUffdWp(R, 0, PTE);
      b.softleafEntry(R, 0, PTE, SWP_DEVICE_READ, off);
      if (wp) b.swpMkUffdWp(R, 0, PTE);
      b.writeEntry(srcTable, si, PTE, R, 0);
    }
  } else if (type === SoftleafType.MARKER) {
    // Only uffd-wp markers survive fork, and only into a uffd-wp VMA (not modelled): drop it.
    return;
  } else if (type !== SoftleafType.HWPOISON) {
    throw new ModelBug(`fork: cannot copy softleaf type ${type} without its device driver`);
  }
  if (b.capabilities.uffdWp) b.swpClearUffdWp(R, 0, PTE);
  b.writeEntry(dstTable, di, PTE, R, 0);
}
