import { PTE, entryRegs } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import { WALK_LEAF, WALK_OK } from "../pgtable/walker";
import { normalPage } from "../fault/wp";
import type { Mm } from "./mm";

const R = entryRegs(1);

/** The heads of the folios mapped (present) in [start, start + len) of `mm`, each once, in address order. */
export function foliosInRange(k: Kernel, mm: Mm, start: number, len: number): number[] {
  const ps = k.pageSize;
  const out: number[] = [];
  const seen = new Set<number>();
  const slot = mm.slot;
  const b = k.backend;
  for (let va = start - (start % ps); va < start + len; ) {
    const st = mm.walker.find(va, PTE, false, slot);
    if (st === WALK_OK || st === WALK_LEAF) {
      b.readEntry(slot.table, slot.index, slot.level, R, 0);
      if (b.present(R, 0, slot.level)) {
        // vm_normal_page / vm_normal_folio_pmd: no zero pages, no special mappings.
        const page = slot.level === PTE ? normalPage(k, R, 0) : b.special(R, 0, slot.level) || k.hugeZero.is(b.pfn(R, 0, slot.level)) ? -1 : b.pfn(R, 0, slot.level);
        if (page >= 0) {
          const head = k.folios.head(page);
          if (!seen.has(head)) {
            seen.add(head);
            out.push(head);
          }
        }
      }
      const size = mm.walker.levelSize(slot.level);
      va = va - (va % size) + size;
    } else {
      const size = mm.walker.levelSize(slot.level);
      va = va - (va % size) + size;
    }
  }
  return out;
}
