/**
 * struct hugepage_subpool: a hugetlbfs mount's page limits. `max` (mount
 * option size=) caps the pages its files may use; `min` (min_size=) keeps
 * that many pages reserved for the mount from the start. -1 = no limit.
 */
export interface Subpool {
  readonly max: number;
  readonly min: number;
  /** Pages in use or reserved against `max`. */
  used: number;
  /** Pages of the minimum still reserved for the mount (rsv_hpages). */
  rsv: number;
}

/**
 * hugepage_subpool_get_pages: charge `delta` pages; returns how many the
 * global pool must still reserve (the rest came from the minimum's
 * reservation), or -1 when the mount's size would be exceeded (-ENOMEM).
 * No subpool: all of them.
 */
export function subpoolGet(spool: Subpool | null, delta: number): number {
  if (spool === null) return delta;
  if (spool.max !== -1) {
    if (spool.used + delta > spool.max) return -1;
    spool.used += delta;
  }
  if (spool.min !== -1 && spool.rsv > 0) {
    if (delta > spool.rsv) {
      const ret = delta - spool.rsv;
      spool.rsv = 0;
      return ret;
    }
    spool.rsv -= delta;
    return 0;
  }
  return delta;
}

/**
 * hugepage_subpool_put_pages: uncharge `delta` pages; returns how many
 * global reservations to drop (those refilling the minimum stay reserved).
 */
export function subpoolPut(spool: Subpool | null, delta: number): number {
  if (spool === null) return delta;
  let ret = delta;
  if (spool.max !== -1) spool.used -= delta;
  if (spool.min !== -1 && spool.used < spool.min) {
    if (spool.rsv + delta <= spool.min) ret = 0;
    else ret = spool.rsv + delta - spool.min;
    spool.rsv += delta;
    if (spool.rsv > spool.min) spool.rsv = spool.min;
  }
  return ret;
}
