import type { ArchBackend, HugeSize } from "./backend";
import { entryRegs } from "./entry";
import { tableIndex, type TableGeometry } from "./geometry";
import type { Level } from "./level";
import type { ProtIndex } from "./prot";
import { simpleContext, type PageTableContext } from "./tlb";
import type { TableMemory } from "./walk";

/** A slot in a table: where one entry lives. */
export interface Slot {
  readonly table: Uint32Array;
  readonly tablePa: number;
  readonly index: number;
  readonly level: Level;
}

/**
 * Find the slot holding `va`'s entry at `level`, allocating and linking any
 * missing tables above it from `mem`. Not a hot path: tools, demos and tests
 * build chains with it; the core has its own allocator-backed walker.
 */
export function ensureSlot(b: ArchBackend, mem: TableMemory, rootPa: number, va: number, level: Level): Slot {
  const tables = b.geometry.tables;
  const reg = entryRegs(1);
  let tablePa = rootPa;
  for (let i = 0; i < tables.length; i++) {
    const t = tables[i]!;
    const table = mem.get(tablePa);
    const index = tableIndex(t, va);
    if (t.level === level) return { table, tablePa, index, level };
    if (t.level < level) break;
    b.readEntry(table, index, t.level, reg, 0);
    if (b.none(reg, 0, t.level)) {
      const next = tables[i + 1]!;
      const pa = mem.alloc(next.tableBytes);
      b.tableEntry(reg, 0, t.level, pa, true);
      b.writeEntry(table, index, t.level, reg, 0);
      tablePa = pa;
    } else if (b.table(reg, 0, t.level)) {
      tablePa = b.tablePa(reg, 0, t.level);
    } else {
      throw new RangeError(`va 0x${va.toString(16)}: ${t.level} entry is not a table`);
    }
  }
  throw new RangeError(`level ${level} has no table of its own on ${b.id}`);
}

export interface MapOptions {
  readonly young?: boolean;
  readonly dirty?: boolean;
  readonly ctx?: PageTableContext;
}

/** Map one page or block of `level` at `va` to `pfn` with `prot`. Returns the slot. */
export function mapLeaf(
  b: ArchBackend,
  mem: TableMemory,
  rootPa: number,
  va: number,
  level: Level,
  pfn: number,
  prot: ProtIndex,
  opts: MapOptions = {},
): Slot {
  const slot = ensureSlot(b, mem, rootPa, va, level);
  const reg = entryRegs(1);
  b.pfnEntry(reg, 0, level, pfn, prot);
  b.mkhuge(reg, 0, level);
  if (opts.young) b.mkyoung(reg, 0, level);
  if (opts.dirty) b.mkdirty(reg, 0, level);
  b.setEntries(opts.ctx ?? simpleContext(), slot.table, slot.index, level, va, reg, 0, 1);
  return slot;
}

/** Map `nr` consecutive base pages with one set_ptes call (arm64 folds whole aligned blocks). */
export function mapPtes(
  b: ArchBackend,
  mem: TableMemory,
  rootPa: number,
  va: number,
  pfn: number,
  nr: number,
  prot: ProtIndex,
  opts: MapOptions = {},
): Slot {
  const slot = ensureSlot(b, mem, rootPa, va, 0);
  const reg = entryRegs(1);
  b.pfnEntry(reg, 0, 0, pfn, prot);
  if (opts.young) b.mkyoung(reg, 0, 0);
  if (opts.dirty) b.mkdirty(reg, 0, 0);
  b.setEntries(opts.ctx ?? simpleContext(), slot.table, slot.index, 0, va, reg, 0, nr);
  return slot;
}

/**
 * Map a huge page of `size` at `va` the way hugetlb would: allocate the
 * tables the size needs (8xx 8M: one PTE table per PMD slot), then set_huge_pte_at.
 */
export function mapHuge(
  b: ArchBackend,
  mem: TableMemory,
  rootPa: number,
  va: number,
  pfn: number,
  prot: ProtIndex,
  size: HugeSize,
  opts: MapOptions = {},
): Slot {
  const slot = ensureSlot(b, mem, rootPa, va, size.level);
  if (size.viaPteTables) {
    const pteTable = b.geometry.tables.find((t: TableGeometry) => t.level === 0)!;
    const reg = entryRegs(1);
    for (let i = 0; i < size.ncontig; i++) {
      b.readEntry(slot.table, slot.index + i, size.level, reg, 0);
      if (b.none(reg, 0, size.level)) {
        const pa = mem.alloc(pteTable.tableBytes);
        b.tableEntry(reg, 0, size.level, pa, true);
        b.writeEntry(slot.table, slot.index + i, size.level, reg, 0);
      }
    }
  }
  const reg = entryRegs(1);
  b.pfnEntry(reg, 0, size.level, pfn, prot);
  b.makeHugeEntry(reg, 0, size);
  if (opts.young) b.mkyoung(reg, 0, size.level);
  if (opts.dirty) b.mkdirty(reg, 0, size.level);
  b.setHugeEntry(opts.ctx ?? simpleContext(), mem, slot.table, slot.index, va, reg, 0, size);
  return slot;
}

/** Allocate a root table for `b` in `mem`. */
export function allocRoot(b: ArchBackend, mem: TableMemory): number {
  return mem.alloc(b.geometry.tables[0]!.tableBytes);
}
