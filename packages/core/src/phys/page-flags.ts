/**
 * The per-page flags word. The low bits are the kernel's page and folio
 * flags (for a large folio the folio-wide ones live in its large-folio row;
 * the per-page ones stay here); page types are mutually exclusive; the top
 * bits record the compound structure: order, head and tail.
 */
export const PG_locked = 1 << 0;
export const PG_referenced = 1 << 1;
export const PG_uptodate = 1 << 2;
export const PG_dirty = 1 << 3;
export const PG_lru = 1 << 4;
export const PG_active = 1 << 5;
export const PG_workingset = 1 << 6;
export const PG_swapbacked = 1 << 7;
export const PG_swapcache = 1 << 8;
export const PG_unevictable = 1 << 9;
export const PG_mlocked = 1 << 10;
export const PG_reclaim = 1 << 11;
/** Per page: the page is exclusive to one anon mm (PageAnonExclusive). */
export const PG_anon_exclusive = 1 << 12;
/** The folio's mapping is an anon_vma (the kernel's PAGE_MAPPING_ANON). */
export const PG_anon = 1 << 13;
export const PG_partially_mapped = 1 << 14;
export const PG_hwpoison = 1 << 15;
export const PG_writeback = 1 << 16;
export const PG_reserved = 1 << 17;
/** The page has been isolated from the LRU (folio_isolate_lru) and is off every list. */
export const PG_isolated = 1 << 18;

/** Page types. */
export const PGTY_buddy = 1 << 20;
export const PGTY_table = 1 << 21;
export const PGTY_zero = 1 << 22;
/** The page belongs to an allocated folio (head or tail). */
export const PG_allocated = 1 << 23;

export const ORDER_SHIFT = 24;
export const ORDER_MASK = 0x1f << ORDER_SHIFT;
export const PG_head = 1 << 29;
export const PG_tail = 1 << 30;

/** Flags that describe a folio rather than a page: copied from a head's row, cleared on free. */
export const FOLIO_FLAGS =
  PG_locked | PG_referenced | PG_uptodate | PG_dirty | PG_lru | PG_active | PG_workingset | PG_swapbacked | PG_swapcache | PG_unevictable | PG_mlocked | PG_reclaim | PG_anon | PG_partially_mapped | PG_writeback | PG_isolated;

export function flagOrder(flags: number): number {
  return (flags & ORDER_MASK) >>> ORDER_SHIFT;
}

const NAMES: [number, string][] = [
  [PG_locked, "locked"],
  [PG_referenced, "referenced"],
  [PG_uptodate, "uptodate"],
  [PG_dirty, "dirty"],
  [PG_lru, "lru"],
  [PG_active, "active"],
  [PG_workingset, "workingset"],
  [PG_swapbacked, "swapbacked"],
  [PG_swapcache, "swapcache"],
  [PG_unevictable, "unevictable"],
  [PG_mlocked, "mlocked"],
  [PG_reclaim, "reclaim"],
  [PG_anon_exclusive, "anon_exclusive"],
  [PG_anon, "anon"],
  [PG_partially_mapped, "partially_mapped"],
  [PG_hwpoison, "hwpoison"],
  [PG_writeback, "writeback"],
  [PG_reserved, "reserved"],
  [PG_isolated, "isolated"],
  [PGTY_buddy, "buddy"],
  [PGTY_table, "table"],
  [PGTY_zero, "zero"],
  [PG_head, "head"],
  [PG_tail, "tail"],
];

/** The kernel-style names of the set flags ("uptodate|dirty|lru|swapbacked"). */
export function flagNames(flags: number): string[] {
  return NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}
