import { PUD, SWP_DEVICE_READ, SWP_MIGRATION_READ, SoftleafType, entryRegs, softleafPfn, softleafTypeOf, type Level } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES } from "../mm/counters";
import { folioNeedsCowForDma, type HugeCopyResult } from "../mm/fork";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { VM_UFFD_WP, isCowMapping } from "../mm/vm-flags";
import { Slot, WALK_ENOMEM } from "../pgtable/walker";
import { ModelBug } from "../util/errors";
import { allocSplitTables, depositSplitTables, freeSplitTables, hasDeposit, type SplitTables } from "./deposit";
import { splitHugeSlot } from "./split-entry";

const R = entryRegs(2);
const DST = new Slot();

/**
 * copy_huge_pmd / copy_huge_pud at fork for the huge entry in `src` at
 * `slot`: the child shares the folio, both sides read-only and the child's
 * copy old, and gets deposited tables of its own (a PUD child only if the
 * parent's PUD has them). The huge zero folio is shared with a reference
 * for the child mm. A PMD migration entry is copied, both read-only. A
 * device-private entry is shared the same way (read-only, the child's
 * mapping and reference added). A folio that may be pinned by the parent cannot be shared: the parent's
 * entry is split and the caller copies the PTEs ("again"). File VMAs are
 * left for the child to fault ("ok").
 */
export function copyHuge(k: Kernel, dst: Mm, src: Mm, dstVma: Vma, srcVma: Vma, level: Level, slot: Slot, addr: number): HugeCopyResult {
  const b = k.backend;
  const f = k.folios;
  if (!dstVma.isAnonymous) return "ok";
  const size = src.walker.levelSize(level);
  const haddr = addr - (addr % size);
  const nr = k.pagesAt(level);
  let tables: SplitTables | null = null;
  if (level !== PUD || hasDeposit(k, PUD, slot.tablePa, slot.index)) {
    tables = allocSplitTables(k, dst, level);
    if (tables === null) return "enomem";
  }
  const st = dst.walker.find(haddr, level, true, DST, dst.nid);
  if (st === WALK_ENOMEM) {
    if (tables !== null) freeSplitTables(k, dst, level, tables);
    return "enomem";
  }
  const dstPtl = k.tables.ptl(DST.tablePa);
  const srcPtl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(dstPtl);
  k.locks.acquire(srcPtl, false, true);
  let locked = true;
  try {
    b.readEntry(slot.table, slot.index, level, R, 0);
    if (!b.present(R, 0, level)) {
      const type = softleafTypeOf(b.swpType(R, 0, level));
      if (type === SoftleafType.MIGRATION_WRITE || type === SoftleafType.MIGRATION_READ_EXCLUSIVE) {
        // copy_huge_non_present_pmd: both sides are plain read migration entries now.
        const off = b.swpOffset(R, 0, level);
        const sd = k.config.memSoftDirty && b.swpSoftDirty(R, 0, level);
        const wp = b.capabilities.uffdWp && b.swpUffdWp(R, 0, level);
        b.softleafEntry(R, 0, level, SWP_MIGRATION_READ, off);
        if (sd) b.swpMkSoftDirty(R, 0, level);
        if (wp) b.swpMkUffdWp(R, 0, level);
        b.writeEntry(slot.table, slot.index, level, R, 0);
      } else if (type === SoftleafType.DEVICE_PRIVATE_READ || type === SoftleafType.DEVICE_PRIVATE_WRITE) {
        // Device-private entries have no read-exclusive form: a writable one becomes readable in the
        // parent, and the child shares the folio with its own mapping (its dup never fails).
        const off = b.swpOffset(R, 0, level);
        if (type === SoftleafType.DEVICE_PRIVATE_WRITE) {
          const sd = k.config.memSoftDirty && b.swpSoftDirty(R, 0, level);
          const wp = b.capabilities.uffdWp && b.swpUffdWp(R, 0, level);
          b.softleafEntry(R, 0, level, SWP_DEVICE_READ, off);
          if (sd) b.swpMkSoftDirty(R, 0, level);
          if (wp) b.swpMkUffdWp(R, 0, level);
          b.writeEntry(slot.table, slot.index, level, R, 0);
        }
        const pfn = softleafPfn(b.softleaf, off);
        const head = f.head(pfn);
        f.ref(head);
        k.rmap.tryDupAnon(head, pfn, nr, level, false, dst.id);
      } else if (type !== SoftleafType.MIGRATION_READ) {
        throw new ModelBug(`fork: cannot copy a level-${level} softleaf of type ${type}`);
      }
      dst.addRss(MM_ANONPAGES, nr);
      if (tables !== null) depositSplitTables(k, level, DST.tablePa, DST.index, tables);
      // The uffd-wp bit survives only into a VMA that is userfaultfd-write-protected.
      if (b.capabilities.uffdWp && (dstVma.flags & VM_UFFD_WP) === 0) b.swpClearUffdWp(R, 0, level);
      b.writeEntry(DST.table, DST.index, level, R, 0);
      return "ok";
    }
    const pfn = b.pfn(R, 0, level);
    if (k.hugeZero.is(pfn)) {
      k.hugeZero.get(k, dst);
    } else {
      const head = f.head(pfn);
      f.ref(head);
      if (!k.rmap.tryDupAnon(head, pfn, nr, level, folioNeedsCowForDma(k, srcVma, src, head), dst.id)) {
        // The parent may have pinned it: split and copy the pages one by one.
        f.unref(head);
        k.locks.release(srcPtl);
        k.locks.release(dstPtl);
        locked = false;
        if (tables !== null) freeSplitTables(k, dst, level, tables);
        return splitHugeSlot(k, src, srcVma, level, slot.table, slot.tablePa, slot.index, haddr) ? "again" : "enomem";
      }
      dst.addRss(MM_ANONPAGES, nr);
    }
    if (tables !== null) depositSplitTables(k, level, DST.tablePa, DST.index, tables);
    if (isCowMapping(srcVma.flags) && b.write(R, 0, level)) {
      b.wrprotectEntries(k.ptCtx, slot.table, slot.index, level, haddr, 1);
      b.wrprotect(R, 0, level);
    }
    b.mkold(R, 0, level);
    if (b.capabilities.uffdWp && (dstVma.flags & VM_UFFD_WP) === 0) b.clearUffdWp(R, 0, level);
    b.setEntries(k.ptCtx, DST.table, DST.index, level, haddr, R, 0, 1);
    return "ok";
  } finally {
    if (locked) {
      k.locks.release(srcPtl);
      k.locks.release(dstPtl);
    }
  }
}
