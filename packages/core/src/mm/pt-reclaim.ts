import { entryRegs } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "./mm";

const R = entryRegs(1);

/**
 * try_to_free_pte (mm/pt_reclaim.c, CONFIG_PT_RECLAIM): after MADV_DONTNEED
 * zapped a whole PTE table, free it if every entry is none: clear the PMD
 * entry above it and give the page back (mm_dec_nr_ptes). The fast path the
 * kernel takes when nothing was skipped ends the same way. Returns whether
 * the table was freed.
 */
export function tryToFreePte(k: Kernel, mm: Mm, ptePa: number, parentPa: number, parentIndex: number): boolean {
  const b = k.backend;
  const geo = k.geometry.tables;
  const pte = geo[geo.length - 1]!;
  const up = geo[geo.length - 2];
  if (up === undefined || parentPa < 0) return false;
  const table = k.tables.get(ptePa);
  for (let i = 0; i < pte.entries; i++) {
    b.readEntry(table, i, pte.level, R, 0);
    if (!b.none(R, 0, pte.level)) return false;
  }
  R[0] = 0;
  R[1] = 0;
  b.writeEntry(k.tables.get(parentPa), parentIndex, up.level, R, 0);
  k.tables.free(ptePa);
  mm.tablesFreed++;
  mm.walker.invalidate();
  return true;
}
