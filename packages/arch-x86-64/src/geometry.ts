import { deriveTables, type Geometry, type Level, type LevelGeometry, P4D, PGD, PMD, PTE, PUD } from "@hugemm/arch";

export const PAGE_SHIFT = 12;
export const PMD_SHIFT = 21;
export const PUD_SHIFT = 30;
export const P4D_SHIFT = 39;
/** 512 entries of 8 bytes at every level. */
export const PTRS_PER_TABLE = 512;
const TABLE_BYTES = 4096;

/**
 * x86-64 geometry (pgtable_64_types.h, page_64_types.h, sparsemem.h).
 * 4-level: pgdir_shift = 39 and ptrs_per_p4d = 1, so the P4D folds into the
 * PGD at run time; TASK_SIZE = 2^47; MAX_PHYSMEM_BITS = 46.
 * 5-level (LA57): pgdir_shift = 48 and a real 512-entry P4D; TASK_SIZE = 2^56;
 * MAX_PHYSMEM_BITS = 52.
 */
export function x86Geometry(levels: 4 | 5): Geometry {
  const l5 = levels === 5;
  const pgdirShift = l5 ? 48 : 39;
  const physBits = l5 ? 52 : 46;
  const lv: LevelGeometry[] = [
    { level: PTE, shift: PAGE_SHIFT, entries: PTRS_PER_TABLE, folded: false },
    { level: PMD, shift: PMD_SHIFT, entries: PTRS_PER_TABLE, folded: false },
    { level: PUD, shift: PUD_SHIFT, entries: PTRS_PER_TABLE, folded: false },
    { level: P4D, shift: P4D_SHIFT, entries: l5 ? PTRS_PER_TABLE : 1, folded: !l5 },
    { level: PGD, shift: pgdirShift, entries: PTRS_PER_TABLE, folded: false },
  ];
  const tables = deriveTables(
    lv,
    () => TABLE_BYTES,
    (level: Level) => level <= PUD,
    () => 1,
  );
  return {
    pageShift: PAGE_SHIFT,
    pageSize: 1 << PAGE_SHIFT,
    vaBits: pgdirShift + 9,
    userVaBits: l5 ? 56 : 47,
    // LA57 address space above 47 bits only for mmap hints above it (DEFAULT_MAP_WINDOW).
    mapWindowBits: 47,
    physBits,
    maxPfn: 2 ** (physBits - PAGE_SHIFT) - 1,
    // x86 has no ARCH_FORCE_MAX_ORDER: the generic MAX_PAGE_ORDER of 10.
    maxPageOrder: 10,
    entryBytes: 8,
    levels: lv,
    tables,
  };
}
