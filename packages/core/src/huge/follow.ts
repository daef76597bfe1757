import { PTE, entryRegs } from "@hugemm/arch";
import { FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE } from "../gup/gup";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { isCowMapping } from "../mm/vm-flags";
import { PG_anon, PG_anon_exclusive } from "../phys/page-flags";
import { Slot, WALK_LEAF } from "../pgtable/walker";

const R = entryRegs(1);
const SLOT = new Slot();

/**
 * follow_huge_pmd / follow_huge_pud for GUP: the page of the huge leaf at
 * `addr`, or -1 when the fault path must run first (not present, or not
 * writable for FOLL_WRITE), or -2 when a read-only pin must unshare first
 * (gup_must_unshare: an anonymous page not exclusive to this mm, or a
 * long-term pin of the huge zero folio).
 */
export function followHuge(k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number): number {
  const b = k.backend;
  if (mm.walker.find(addr, PTE, false, SLOT) !== WALK_LEAF) return -1;
  const level = SLOT.level;
  b.readEntry(SLOT.table, SLOT.index, level, R, 0);
  if (!b.present(R, 0, level) || b.protnone(R, 0, level)) return -1;
  const size = mm.walker.levelSize(level);
  const head = b.pfn(R, 0, level);
  const page = head + Math.floor((addr % size) / k.pageSize);
  const write = b.write(R, 0, level);
  if (flags & FOLL_WRITE && !write) return -1;
  if (!write && (flags & (FOLL_WRITE | FOLL_PIN)) === FOLL_PIN && isCowMapping(vma.flags)) {
    const f = k.folios;
    if (k.hugeZero.is(head) || !f.test(head, PG_anon)) {
      if (flags & FOLL_LONGTERM) return -2;
    } else if (!f.pageTest(head, PG_anon_exclusive)) {
      // A PMD/PUD-mapped folio keeps exclusivity on its head page.
      return -2;
    }
  }
  return page;
}
