import { deriveTables, type Geometry, type Level, type LevelGeometry, PGD, PMD, PTE, PUD, P4D } from "@hugemm/arch";
import type { Arm64Config } from "./options";

/**
 * ARM64_HW_PGTABLE_LEVEL_SHIFT(n): bits mapped by one entry at hardware
 * level n (-1..3), (PAGE_SHIFT - 3) per level above the page offset.
 */
export function hwLevelShift(pageShift: number, n: number): number {
  return (pageShift - 3) * (4 - n) + 3;
}

/**
 * The five logical levels for a configuration (pgtable-hwdef.h):
 * PGDIR_SHIFT = LEVEL_SHIFT(4 - levels), PTRS_PER_PGD = 2^(VA_BITS -
 * PGDIR_SHIFT); every other table has 2^(PAGE_SHIFT - 3) entries. Levels
 * above the top are folded into the PGD and share its shift.
 */
export function arm64Levels(c: Arm64Config): LevelGeometry[] {
  const perTable = 2 ** (c.pageShift - 3);
  const pgdirShift = hwLevelShift(c.pageShift, 4 - c.levels);
  const pmd = c.levels > 2;
  const pud = c.levels > 3;
  const p4d = c.levels > 4;
  return [
    { level: PTE, shift: c.pageShift, entries: perTable, folded: false },
    { level: PMD, shift: pmd ? hwLevelShift(c.pageShift, 2) : pgdirShift, entries: pmd ? perTable : 1, folded: !pmd },
    { level: PUD, shift: pud ? hwLevelShift(c.pageShift, 1) : pgdirShift, entries: pud ? perTable : 1, folded: !pud },
    { level: P4D, shift: p4d ? hwLevelShift(c.pageShift, 0) : pgdirShift, entries: p4d ? perTable : 1, folded: !p4d },
    { level: PGD, shift: pgdirShift, entries: 2 ** (c.vaBits - pgdirShift), folded: false },
  ];
}

/**
 * Which levels may hold a leaf: pages at the PTE level, blocks at the PMD
 * level, and PUD blocks only with the 4K granule (pud_sect_supported())
 * when the PMD level is not folded. The hardware also allows 16K/64K level-1
 * and 4K level-0 blocks under FEAT_LPA2/FEAT_LPA; the kernel never makes them.
 */
export function leafAllowedAt(c: Arm64Config, level: Level): boolean {
  if (level === PTE || level === PMD) return true;
  return level === PUD && c.granule === "4k" && c.levels > 2;
}

/** Entries in a contiguous run: CONT_PTES for PTE tables, CONT_PMDS for PMD tables. */
export function contEntriesAt(c: Arm64Config, level: Level): number {
  if (level === PTE) return 2 ** c.contPteShift;
  if (level === PMD) return 2 ** c.contPmdShift;
  return 1;
}

export function arm64Geometry(c: Arm64Config): Geometry {
  const levels = arm64Levels(c);
  const tables = deriveTables(
    levels,
    (_level, entries) => entries * 8,
    (level) => leafAllowedAt(c, level),
    (level) => contEntriesAt(c, level),
  );
  return {
    pageShift: c.pageShift,
    pageSize: 2 ** c.pageShift,
    vaBits: c.vaBits,
    userVaBits: c.vaBits,
    // 52-bit VA: DEFAULT_MAP_WINDOW is VA_BITS_MIN (48); a hint above it opens the rest.
    mapWindowBits: Math.min(c.vaBits, 48),
    physBits: c.physBits,
    maxPfn: 2 ** (c.physBits - c.pageShift) - 1,
    // ARCH_FORCE_MAX_ORDER: 13 for 64K pages, 11 for 16K, 10 for 4K (arch/arm64/Kconfig).
    maxPageOrder: c.pageShift === 16 ? 13 : c.pageShift === 14 ? 11 : 10,
    entryBytes: 8,
    levels,
    tables,
  };
}

/**
 * For each logical level, the level whose table holds its entries: a folded
 * level behaves as the level it folds into (e.g. PGD and P4D act as PUD with
 * 3 levels).
 */
export function effectiveLevels(g: Geometry): Uint8Array {
  const eff = new Uint8Array(5);
  for (const t of g.tables) for (const l of t.folds) eff[l] = t.level;
  return eff;
}
