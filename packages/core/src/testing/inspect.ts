import { PTE, entryRegs, type Level } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { Slot, WALK_LEAF, WALK_OK, WALK_SOFTLEAF } from "../pgtable/walker";

/*
 * Looking at what a test built, without changing it. Not exported from the
 * package.
 */

const R = entryRegs(1);

/** How `addr` is mapped: the level of its present leaf, "softleaf", or "none". */
export function mappedAt(k: Kernel, mm: Mm, addr: number): { level: Level; pfn: number } | "softleaf" | "none" {
  const slot = new Slot();
  const st = mm.walker.find(addr, PTE, false, slot);
  if (st === WALK_SOFTLEAF) return "softleaf";
  if (st !== WALK_OK && st !== WALK_LEAF) return "none";
  const b = k.backend;
  b.readEntry(slot.table, slot.index, slot.level, R, 0);
  if (b.none(R, 0, slot.level)) return "none";
  if (!b.present(R, 0, slot.level)) return "softleaf";
  const size = mm.walker.levelSize(slot.level);
  return { level: slot.level, pfn: b.pfn(R, 0, slot.level) + Math.floor((addr % size) / k.pageSize) };
}

/** The entry mapping `addr`, decoded by the backend (bits by name). */
export function entryAt(k: Kernel, mm: Mm, addr: number): { level: Level; write: boolean; dirty: boolean; young: boolean; special: boolean; cont: boolean } | null {
  const slot = new Slot();
  const st = mm.walker.find(addr, PTE, false, slot);
  if (st !== WALK_OK && st !== WALK_LEAF) return null;
  const b = k.backend;
  b.getEntry(slot.table, slot.index, slot.level, R, 0);
  if (!b.present(R, 0, slot.level)) return null;
  const l = slot.level;
  return { level: l, write: b.write(R, 0, l), dirty: b.dirty(R, 0, l), young: b.young(R, 0, l), special: b.special(R, 0, l), cont: b.cont(R, 0, l) };
}

/** Distinct pages holding page tables (deposited ones included). */
export function tablePages(k: Kernel): number {
  const pages = new Set<number>();
  for (const info of k.tables.info.values()) pages.add(info.pfn);
  return pages.size;
}
