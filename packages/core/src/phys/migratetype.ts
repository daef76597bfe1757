/** enum migratetype, the three the page allocator groups by (MIGRATE_PCPTYPES). */
export const MIGRATE_UNMOVABLE = 0;
export const MIGRATE_MOVABLE = 1;
export const MIGRATE_RECLAIMABLE = 2;
export const MIGRATE_PCPTYPES = 3;

export type Migratetype = 0 | 1 | 2;

export const MIGRATETYPE_NAMES = ["Unmovable", "Movable", "Reclaimable"] as const;

/** The order in which other migratetypes are raided when one runs dry. */
export const FALLBACKS: readonly (readonly Migratetype[])[] = [
  [MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE],
  [MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE],
  [MIGRATE_UNMOVABLE, MIGRATE_MOVABLE],
];
