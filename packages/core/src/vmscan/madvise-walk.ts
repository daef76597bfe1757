import { PMD, PUD, entryRegs } from "@hugemm/arch";
import { splitHugeAt } from "../huge/split-entry";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { Slot, WALK_LEAF, WALK_OK } from "../pgtable/walker";
import { ModelInputError } from "../util/errors";
import { withoutReclaim } from "./shrink";

const R = entryRegs(1);
const SLOT = new Slot();

/**
 * walk_page_range_vma with only a pmd_entry callback (the madvise walks):
 * over [start, end) of `vma`, call `pmdEntry` once per PMD span with a PMD
 * entry that is not none. A PUD leaf on the way is split first, as
 * walk_pud_range does for every VMA walk; where that split cannot get its
 * page tables (the "at-split" policy without memory) the PUD's span is
 * left as it is.
 */
export function walkPmdRanges(k: Kernel, mm: Mm, vma: Vma, start: number, end: number, pmdEntry: (addr: number, next: number) => void): void {
  const ps = k.pageSize;
  if (vma.mmId !== mm.id) throw new ModelInputError("VMA", `#${vma.id} of mm ${vma.mmId}`, `a VMA of mm ${mm.id}`);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start % ps !== 0 || end % ps !== 0 || start > end || start < vma.start || end > vma.end) {
    throw new ModelInputError("advice range", `[0x${start.toString(16)}, 0x${end.toString(16)})`, `a page-aligned range inside the VMA [0x${vma.start.toString(16)}, 0x${vma.end.toString(16)})`);
  }
  const b = k.backend;
  const w = mm.walker;
  const pmdSize = w.levelSize(PMD);
  for (let addr = start; addr < end; ) {
    const next = Math.min(end, addr - (addr % pmdSize) + pmdSize);
    const st = w.find(addr, PMD, false, SLOT);
    if (st === WALK_OK) {
      b.readEntry(SLOT.table, SLOT.index, PMD, R, 0);
      if (!b.none(R, 0, PMD)) pmdEntry(addr, next);
      addr = next;
      continue;
    }
    // The split allocates its tables (the "at-split" policy) under the PUD's page-table lock: no reclaim there.
    if (st === WALK_LEAF && SLOT.level === PUD && withoutReclaim(k, () => splitHugeAt(k, mm, vma, addr))) continue;
    // Nothing mapped below this entry (or a PUD that stays whole): skip its span.
    const size = w.levelSize(SLOT.level);
    addr = Math.min(end, addr - (addr % size) + size);
  }
}
