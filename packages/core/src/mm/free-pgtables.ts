import { PTE, entryRegs } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import { ModelBug } from "../util/errors";
import type { Mm } from "./mm";

const R = entryRegs(1);

/**
 * free_pgd_range: free the page tables under [addr, end) that no VMA outside
 * [floor, ceiling) can still need — a PTE table when the PMD range it serves
 * lies within the bounds, a higher table when its whole span does. The ranges
 * were unmapped first, so every table freed must be empty; the model checks.
 * `ceiling` 0 means the top of the address space.
 */
export function freePgdRange(k: Kernel, mm: Mm, addr: number, end: number, floor: number, ceiling: number): void {
  const tables = k.geometry.tables;
  // The span one PTE table serves: the entry size of the table above the PTE table.
  const pmdSize = 2 ** tables[Math.max(0, tables.length - 2)]!.shift;
  // The PMD-aligned trimming free_pgd_range starts with.
  addr -= addr % pmdSize;
  if (addr < floor) addr += pmdSize;
  let ceil = ceiling;
  if (ceil !== 0) {
    ceil -= ceil % pmdSize;
    if (ceil === 0) return;
  }
  if (ceil !== 0 && end - 1 > ceil - 1) end -= pmdSize;
  if (addr > end - 1) return;
  freeLevel(k, mm, 0, mm.rootPa, addr, end, floor, ceil);
  mm.walker.invalidate();
}

/**
 * Free the child tables of the table at `tablePa` (position `ti` in the
 * geometry) under [addr, end): every PTE table met (free_pte_range), and a
 * higher child table when the span its parent entry maps starts at or above
 * `floor` and the range ends below `ceiling` rounded down to that span, as
 * free_pmd_range / free_pud_range / free_p4d_range decide.
 */
function freeLevel(k: Kernel, mm: Mm, ti: number, tablePa: number, addr: number, end: number, floor: number, ceiling: number): void {
  const b = k.backend;
  const t = k.geometry.tables[ti]!;
  const child = k.geometry.tables[ti + 1];
  if (child === undefined) return;
  const table = k.tables.get(tablePa);
  const size = 2 ** t.shift;
  for (let a = addr; a < end; ) {
    const next = Math.min(end, a - (a % size) + size);
    const index = Math.floor(a / size) & (t.entries - 1);
    b.readEntry(table, index, t.level, R, 0);
    if (b.none(R, 0, t.level) || !b.table(R, 0, t.level)) {
      a = next;
      continue;
    }
    const childPa = b.tablePa(R, 0, t.level);
    let free = child.level === PTE;
    if (!free) {
      freeLevel(k, mm, ti + 1, childPa, a, next, floor, ceiling);
      const start = a - (a % size);
      const ceil = ceiling === 0 ? 0 : ceiling - (ceiling % size);
      free = start >= floor && !(ceiling !== 0 && ceil === 0) && (ceil === 0 || next - 1 <= ceil - 1);
    }
    if (free) {
      assertEmpty(k, childPa, child.entries, child.level);
      R[0] = 0;
      R[1] = 0;
      b.writeEntry(table, index, t.level, R, 0);
      k.tables.free(childPa);
      mm.tablesFreed++;
    }
    a = next;
  }
}

function assertEmpty(k: Kernel, pa: number, entries: number, level: number): void {
  const b = k.backend;
  const table = k.tables.get(pa);
  for (let i = 0; i < entries; i++) {
    b.readEntry(table, i, level as 0, R, 0);
    if (!b.none(R, 0, level as 0)) throw new ModelBug(`freeing a level-${level} page table at 0x${pa.toString(16)} whose entry ${i} is still in use`);
  }
}
