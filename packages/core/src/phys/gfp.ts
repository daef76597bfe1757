/**
 * The gfp flags the model distinguishes. Values are the model's own; names
 * and combinations are the kernel's (include/linux/gfp_types.h).
 */
export const __GFP_MOVABLE = 1 << 0;
export const __GFP_RECLAIMABLE = 1 << 1;
export const __GFP_DIRECT_RECLAIM = 1 << 2;
export const __GFP_KSWAPD_RECLAIM = 1 << 3;
export const __GFP_NORETRY = 1 << 4;
export const __GFP_NOWARN = 1 << 5;
export const __GFP_COMP = 1 << 6;
export const __GFP_ZERO = 1 << 7;
export const __GFP_THISNODE = 1 << 8;
export const __GFP_HIGH = 1 << 9;
export const __GFP_NOFAIL = 1 << 10;
export const __GFP_RETRY_MAYFAIL = 1 << 11;
export const __GFP_NOMEMALLOC = 1 << 12;

export const __GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM;
export const GFP_KERNEL = __GFP_RECLAIM;
export const GFP_NOWAIT = __GFP_KSWAPD_RECLAIM | __GFP_NOWARN;
export const GFP_HIGHUSER = GFP_KERNEL;
export const GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE;
/** Page tables: GFP_PGTABLE_USER (unmovable, zeroed). */
export const GFP_PGTABLE_USER = GFP_KERNEL | __GFP_ZERO;
export const GFP_TRANSHUGE_LIGHT = (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM;
export const GFP_TRANSHUGE = GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM;

/** gfp_migratetype. */
export function gfpMigratetype(gfp: number): number {
  if (gfp & __GFP_MOVABLE) return 1;
  if (gfp & __GFP_RECLAIMABLE) return 2;
  return 0;
}
