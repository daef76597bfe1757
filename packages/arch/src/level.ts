/**
 * Page-table levels, numbered from the leaf upwards so that a level's number
 * is also how many table levels sit below it. Folded levels (x86 P4D in
 * 4-level mode, arm64 PUD with 3 levels, everything above the PMD on 8xx)
 * exist logically and share their parent's entry.
 */
export const PTE = 0;
export const PMD = 1;
export const PUD = 2;
export const P4D = 3;
export const PGD = 4;

export type Level = 0 | 1 | 2 | 3 | 4;

export const LEVELS: readonly Level[] = [PTE, PMD, PUD, P4D, PGD];

const NAMES = ["pte", "pmd", "pud", "p4d", "pgd"] as const;
export type LevelName = (typeof NAMES)[number];

export function levelName(level: Level): LevelName {
  return NAMES[level]!;
}

export function parseLevel(name: string): Level {
  const i = (NAMES as readonly string[]).indexOf(name.toLowerCase());
  if (i < 0) {
    throw new RangeError(`unknown page-table level "${name}": expected one of ${NAMES.join(", ")}`);
  }
  return i as Level;
}

export function isLevel(x: unknown): x is Level {
  return typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= 4;
}
