import { lruAddDrain } from "../folio/lru-batch";
import type { Kernel } from "../kernel/kernel";
import { GFP_HIGHUSER, GFP_TRANSHUGE, __GFP_MOVABLE, __GFP_NOWARN, __GFP_RECLAIM } from "../phys/gfp";
import { MigrateReason, isolateForMigration, migrateIsolated, type NewFolio } from "./migrate";

/**
 * The destination of a folio leaving ZONE_MOVABLE for a long-term pin:
 * alloc_migration_target with GFP_USER on the folio's node — THP gfp for a
 * large folio — under memalloc_pin_save, which takes __GFP_MOVABLE away so
 * the copy cannot land in ZONE_MOVABLE again.
 */
export function longtermPinTarget(k: Kernel): NewFolio {
  return (src, order) => {
    let gfp = GFP_HIGHUSER | __GFP_NOWARN;
    if (order > 0) gfp = (gfp & ~__GFP_RECLAIM) | GFP_TRANSHUGE;
    return k.folios.alloc(order, gfp & ~__GFP_MOVABLE, k.phys.nidOf(src));
  };
}

/**
 * migrate_longterm_unpinnable_folios for the heads of the folios a
 * FOLL_LONGTERM pin found in ZONE_MOVABLE or in device-coherent memory
 * (each once): device folios go to system memory through their pgmap,
 * the others that can be isolated are migrated (a THP whole, or split when no THP can be had
 * outside ZONE_MOVABLE); false when migrate_pages left any behind (-ENOMEM).
 */
export function migrateLongtermUnpinnable(k: Kernel, heads: readonly number[]): boolean {
  lruAddDrain(k);
  const list: number[] = [];
  for (const head of heads) {
    const pgmap = k.phys.pgmapOf(head);
    // Device-coherent memory is moved by its driver's side of migrate_vma (migrate_device_coherent_folio).
    if (pgmap !== undefined) {
      if (pgmap.migrateToSystem?.(head) !== true) return false;
      continue;
    }
    if (isolateForMigration(k, head)) list.push(head);
  }
  if (list.length === 0) return true;
  const r = migrateIsolated(k, list, longtermPinTarget(k), MigrateReason.LONGTERM_PIN);
  return r.failed.length === 0;
}
