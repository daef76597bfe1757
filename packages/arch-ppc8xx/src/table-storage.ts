import { ArchInputError } from "@hugemm/arch";
import { _PAGE_HUGE, HW_CELLS_PER_TABLE, SZ_4K } from "./bits";
import type { Ppc8xxConfig } from "./config";

/**
 * Raw table access. A level-1 entry is one word. A pte_t is one word with
 * 4K pages and four words (pte, pte1, pte2, pte3) with 16K pages: the
 * hardware always walks 4K cells, so every logical PTE is written to its
 * four cells (__set_pte_at) and read from the first (ptep_get).
 */

/** The first word of entry `index`, after checking it lies inside `table`. */
export function entryWordIndex(table: Uint32Array, index: number, cells: number): number {
  const w = index * cells;
  if (!(w >= 0 && w + cells <= table.length) || index !== Math.floor(index)) {
    throw new ArchInputError("table index", index, `an integer in [0, ${table.length / cells - 1}]`);
  }
  return w;
}

/** number_of_cells_per_pte(): how many 4K cells one pte_update() or set_huge_pte_at() writes. */
export function numberOfCellsPerPte(cfg: Ppc8xxConfig, pmdIs8M: boolean, val: number, huge: boolean): number {
  if (!huge) return cfg.cellsPerPte;
  if (pmdIs8M) return HW_CELLS_PER_TABLE;
  if (cfg.pageShift === 12 && (val & _PAGE_HUGE) === 0) return 4;
  return 128;
}

function checkCells(table: Uint32Array, cell: number, num: number): void {
  if (!(cell >= 0 && cell + num <= table.length)) {
    throw new ArchInputError("huge page cell range", `${cell}..${cell + num - 1}`, `cells inside one PTE table [0, ${table.length - 1}]`);
  }
}

/**
 * __pte_update(): compute the new value from the first cell, then write it
 * to number_of_cells_per_pte(new) cells, one pte_t at a time (replicated
 * four times with 16K pages), adding PAGE_SIZE for each pte_t. The count
 * and the increment apply even when the new value is 0, exactly as in the
 * kernel. Returns the old first cell.
 */
export function ptePartialUpdate(
  cfg: Ppc8xxConfig,
  table: Uint32Array,
  cell: number,
  clr: number,
  set: number,
  huge: boolean,
  pmdIs8M: boolean,
): number {
  const old = table[cell]!;
  let val = ((old & ~clr) | set) >>> 0;
  const num = numberOfCellsPerPte(cfg, pmdIs8M, val, huge);
  checkCells(table, cell, num);
  const per = cfg.cellsPerPte;
  let c = cell;
  for (let i = 0; i < num; i += per) {
    for (let j = 0; j < per; j++) table[c++] = val;
    val = (val + cfg.pageSize) >>> 0;
  }
  return old;
}

/**
 * __set_huge_pte_at(): write number_of_cells_per_pte(val) consecutive cells,
 * each 4K further on than the last, so every cell maps its own 4K slice
 * (the hardware ignores the RPN bits below the page size).
 */
export function setHugeCells(cfg: Ppc8xxConfig, table: Uint32Array, cell: number, val: number, pmdIs8M: boolean): void {
  const num = numberOfCellsPerPte(cfg, pmdIs8M, val, true);
  checkCells(table, cell, num);
  for (let i = 0; i < num; i++) table[cell + i] = (val + i * SZ_4K) >>> 0;
}
