import { ArchInputError, PTE, type Level } from "@hugemm/arch";

const LEVEL_RANGE = "0 (pte), or 1 (pmd), 2 (pud), 3 (p4d), 4 (pgd), which all name the one 8xx top-level entry";

/**
 * Whether `level` is the PTE level. PUD, P4D and PGD fold into the PMD on
 * 8xx, so levels 1..4 all behave as the PMD. Anything else throws.
 */
export function isPteLevel(level: Level): boolean {
  if (level === PTE) return true;
  if (level === 1 || level === 2 || level === 3 || level === 4) return false;
  throw new ArchInputError("page-table level", level, LEVEL_RANGE);
}

/** Throws unless `level` is a PMD (or folded-above) level: the levels that hold table pointers. */
export function requireTableLevel(level: Level, what: string): void {
  if (isPteLevel(level)) {
    throw new ArchInputError(`${what} level`, level, "1 (pmd) .. 4 (pgd): only the 8xx top-level entry points to a table");
  }
}
