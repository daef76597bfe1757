import { type Geometry, type LevelGeometry, deriveTables } from "../geometry";
import { type Level, PTE, PMD, PUD, P4D, PGD } from "../level";
import { PFN_BITS, PFN_SHIFT } from "./bits";

/** 4K pages, 9 bits per level, 4 levels (P4D folded), 48-bit VA, user half 47 bits. */
export function referenceGeometry(): Geometry {
  const levels: LevelGeometry[] = [
    { level: PTE, shift: 12, entries: 512, folded: false },
    { level: PMD, shift: 21, entries: 512, folded: false },
    { level: PUD, shift: 30, entries: 512, folded: false },
    { level: P4D, shift: 39, entries: 1, folded: true },
    { level: PGD, shift: 39, entries: 512, folded: false },
  ];
  const leafAllowed = (level: Level) => level <= PUD;
  return {
    pageShift: PFN_SHIFT,
    pageSize: 4096,
    vaBits: 48,
    userVaBits: 47,
    physBits: PFN_BITS + PFN_SHIFT,
    maxPfn: 2 ** PFN_BITS - 1,
    maxPageOrder: 10,
    entryBytes: 8,
    levels,
    tables: deriveTables(levels, (_l, entries) => entries * 8, leafAllowed, () => 1),
  };
}
