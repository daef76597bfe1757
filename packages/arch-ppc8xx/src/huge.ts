import { ArchInputError, type HugeSize, type TableStore } from "@hugemm/arch";
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_EXEC, _PAGE_RO, _PMD_PAGE_8M, PMD_TABLE_MASK, SZ_4M } from "./bits";
import type { Ppc8xxConfig } from "./config";
import { entryWordIndex, ptePartialUpdate, setHugeCells } from "./table-storage";

/**
 * hugetlb entries spanning several slots. 16K and 512K pages are runs of
 * cells in an ordinary PTE table. An 8M page is reached through its first
 * PMD slot (what huge_pte_alloc() returns, the "8M pmdp"): both PMDs carry
 * _PMD_PAGE_8M and each points to its own PTE table, all 1024 cells of
 * which map the page.
 */

/** Throws unless `size` is one of the backend's huge sizes. */
export function checkHugeSize(sizes: readonly HugeSize[], size: HugeSize): void {
  for (const s of sizes) if (s.shift === size.shift && s.level === size.level && s.ncontig === size.ncontig) return;
  throw new ArchInputError("huge size", `2^${size.shift} at level ${size.level} x${size.ncontig}`, `one of ${sizes.map((s) => `2^${s.shift}`).join(", ")}`);
}

function check8MIndex(pmdTable: Uint32Array, index: number): void {
  if (!(index >= 0 && index + 1 < pmdTable.length) || index % 2 !== 0) {
    throw new ArchInputError("8M huge page PMD index", index, `an even index in [0, ${pmdTable.length - 2}] (an 8M page starts 8M-aligned)`);
  }
}

/** The PTE table the PMD word `pmdTable[index]` points to. */
function pteTableOf(store: TableStore, pmdTable: Uint32Array, index: number): Uint32Array {
  const pmd = pmdTable[index]!;
  const table = (pmd & 1) !== 0 ? store.tableAt((pmd & PMD_TABLE_MASK) >>> 0) : undefined;
  if (table === undefined) {
    throw new ArchInputError(
      "8M huge page PMD slot",
      `${index} = 0x${pmd.toString(16)}`,
      "a PMD pointing to a PTE table (huge_pte_alloc() allocates one per PMD)",
    );
  }
  return table;
}

function firstCell(cfg: Ppc8xxConfig, table: Uint32Array, index: number, size: HugeSize): number {
  if (index % size.ncontig !== 0) {
    throw new ArchInputError("huge page PTE index", index, `a multiple of ${size.ncontig} (the page is size-aligned)`);
  }
  return entryWordIndex(table, index, cfg.cellsPerPte);
}

/** set_huge_pte_at(). */
export function setHuge(cfg: Ppc8xxConfig, store: TableStore, table: Uint32Array, index: number, val: number, size: HugeSize): void {
  if (!size.viaPteTables) {
    setHugeCells(cfg, table, firstCell(cfg, table, index, size), val, false);
    return;
  }
  check8MIndex(table, index);
  const t0 = pteTableOf(store, table, index);
  const t1 = pteTableOf(store, table, index + 1);
  table[index] = (table[index]! | _PMD_PAGE_8M) >>> 0;
  table[index + 1] = (table[index + 1]! | _PMD_PAGE_8M) >>> 0;
  setHugeCells(cfg, t0, 0, val, true);
  setHugeCells(cfg, t1, 0, (val + SZ_4M) >>> 0, true);
}

/** huge_ptep_get(): the first cell; for the 8M pmdp, cell 0 of the first PTE table. */
export function getHuge(cfg: Ppc8xxConfig, store: TableStore, table: Uint32Array, index: number, size: HugeSize): number {
  if (!size.viaPteTables) return table[firstCell(cfg, table, index, size)]!;
  check8MIndex(table, index);
  if (table[index] === 0) return 0;
  return pteTableOf(store, table, index)[0]!;
}

/** pte_update(..., huge = 1): both PTE tables for the 8M pmdp. Returns the old first cell. */
export function updateHuge(
  cfg: Ppc8xxConfig,
  store: TableStore,
  table: Uint32Array,
  index: number,
  clr: number,
  set: number,
  size: HugeSize,
): number {
  if (!size.viaPteTables) return ptePartialUpdate(cfg, table, firstCell(cfg, table, index, size), clr, set, true, false);
  check8MIndex(table, index);
  const t0 = pteTableOf(store, table, index);
  const t1 = pteTableOf(store, table, index + 1);
  const pmdIs8M = (table[index]! & _PMD_PAGE_8M) === _PMD_PAGE_8M;
  const old = ptePartialUpdate(cfg, t0, 0, clr, set, true, pmdIs8M);
  ptePartialUpdate(cfg, t1, 0, clr, set, true, pmdIs8M);
  return old;
}

/**
 * huge_ptep_set_access_flags() through __ptep_set_access_flags(): compare
 * the slot with the new value (for the 8M pmdp the kernel compares the PMD
 * word itself, so it always reports a change), then set DIRTY, ACCESSED and
 * EXEC from it and clear the RO bits it lacks. Returns whether it changed.
 */
export function setHugeAccessFlags(
  cfg: Ppc8xxConfig,
  store: TableStore,
  table: Uint32Array,
  index: number,
  val: number,
  size: HugeSize,
): boolean {
  const current = size.viaPteTables ? table[index]! : table[firstCell(cfg, table, index, size)]!;
  if (current === val) return false;
  const set = val & (_PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_EXEC);
  const clr = ~val & _PAGE_RO;
  updateHuge(cfg, store, table, index, clr, set, size);
  return true;
}
