import { PTE, entryRegs, type EntryReg, type Level } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { Slot, WALK_LEAF, WALK_OK, WALK_SOFTLEAF } from "./walker";

/**
 * One logical entry of a walk: a PTE, a huge leaf (PMD/PUD THP, DAX), or a
 * kind's logical entry (a hugetlb page: one slot, an arm64 cont run, an 8xx
 * 8M pair) read as one value whatever its physical slots. The walk reuses
 * one object: a client copies what it keeps.
 */
export interface LogicalEntry {
  /** First virtual address the entry maps. */
  addr: number;
  /** Bytes it maps. */
  size: number;
  /** The level of its slots, and the first slot. */
  level: Level;
  table: Uint32Array;
  index: number;
  /** Slots it takes at `level`. */
  ncontig: number;
  /** The entry's value (young and dirty gathered over a run) in `value[0..1]`, in `valueLevel`'s format. */
  readonly value: EntryReg;
  valueLevel: Level;
}

const SLOT = new Slot();
const ENTRY: LogicalEntry = { addr: 0, size: 0, level: PTE, table: new Uint32Array(0), index: 0, ncontig: 1, value: entryRegs(1), valueLevel: PTE };

/**
 * The generic page walk over [start, end) of `mm`, handing `visit` each
 * non-none logical entry once. A VMA whose kind has a logical entry is
 * walked in its units through the arch's huge_ptep_get; any other is walked
 * level by level, a huge leaf or softleaf being one entry. Clients never see
 * the raw slots of a run unless they read them from `table`/`index`.
 */
export function walkLogical(k: Kernel, mm: Mm, start: number, end: number, visit: (e: LogicalEntry) => void): void {
  const b = k.backend;
  const w = mm.walker;
  const e = ENTRY;
  for (let vma = mm.vmas.intersection(start, end); vma !== undefined; vma = mm.vmas.intersection(Math.max(start, vma.end), end)) {
    const from = Math.max(start, vma.start);
    const to = Math.min(end, vma.end);
    const es = vma.kind?.entrySize?.(vma);
    if (es !== undefined) {
      const size = 2 ** es.shift;
      for (let addr = from - (from % size); addr < to; addr += size) {
        if (w.find(addr, es.level, false, SLOT) !== WALK_OK) continue;
        b.getHugeEntry(k.tables, SLOT.table, SLOT.index, addr, e.value, 0, es);
        e.valueLevel = es.viaPteTables ? PTE : es.level;
        if (b.none(e.value, 0, e.valueLevel)) continue;
        e.addr = addr;
        e.size = size;
        e.level = es.level;
        e.table = SLOT.table;
        e.index = SLOT.index;
        e.ncontig = es.ncontig;
        visit(e);
      }
    } else {
      for (let addr = from - (from % k.pageSize); addr < to; ) {
        const st = w.find(addr, PTE, false, SLOT);
        const size = w.levelSize(SLOT.level);
        const base = addr - (addr % size);
        if (st === WALK_OK || st === WALK_LEAF || st === WALK_SOFTLEAF) {
          b.readEntry(SLOT.table, SLOT.index, SLOT.level, e.value, 0);
          if (!b.none(e.value, 0, SLOT.level)) {
            e.addr = base;
            e.size = size;
            e.level = SLOT.level;
            e.table = SLOT.table;
            e.index = SLOT.index;
            e.ncontig = 1;
            e.valueLevel = SLOT.level;
            visit(e);
          }
        }
        addr = base + size;
      }
    }
    if (vma.end >= end) break;
  }
}

/** A pagemap-like census of [start, end): present logical entries by the bytes each maps. */
export function logicalCensus(k: Kernel, mm: Mm, start: number, end: number): Map<number, number> {
  const out = new Map<number, number>();
  walkLogical(k, mm, start, end, (e) => {
    if (k.backend.present(e.value, 0, e.valueLevel)) out.set(e.size, (out.get(e.size) ?? 0) + 1);
  });
  return out;
}
