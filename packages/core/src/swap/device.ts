import { ModelBug, ModelInputError } from "../util/errors";

/** swap_map flag: the slot's page is in the swap cache. */
export const SWAP_HAS_CACHE = 0x40;
/** The largest count a swap_map byte holds before continuation pages (not modelled: counts are 16-bit here). */
export const SWAP_MAP_MAX = 0x3e;

const CLUSTER_FREE = 0;
const CLUSTER_NONFULL = 1;
const CLUSTER_FULL = 2;

/**
 * One swap device (swap_info_struct) of `pages` slots. Slot 0 holds the swap
 * header and is never allocated. swap_map keeps each slot's count of swap
 * entries referencing it plus SWAP_HAS_CACHE; slots are handed out from
 * clusters, each cluster serving one folio order at a time so that large
 * folios get naturally aligned runs, as the cluster allocator does.
 */
export class SwapDevice {
  readonly type: number;
  readonly pages: number;
  readonly clusterPages: number;
  /** Per slot: entry count (low byte up to SWAP_MAP_MAX, widened to 16 bits) | SWAP_HAS_CACHE << 8. */
  private readonly map: Uint16Array;
  /** Contents written to each slot (page tags). */
  readonly contents: Uint32Array;
  /** The swap cache: slot -> folio head pfn. */
  readonly cache = new Map<number, number>();
  private readonly clusterUsed: Uint32Array;
  private readonly clusterOrder: Int8Array;
  private readonly clusterState: Uint8Array;
  /** The cluster currently handing out slots of each order (the per-cpu cluster), or -1. */
  private readonly current: Int32Array;
  private readonly nextInCluster: Int32Array;
  /** Slots in use (inuse_pages), counting the header. */
  inuse = 0;

  constructor(
    type: number,
    pages: number,
    clusterPages: number,
    maxOrder: number,
    /** SWP_SYNCHRONOUS_IO (zram, pmem): reads complete in the caller, so swap-in may skip the swap cache. */
    readonly synchronous = false,
  ) {
    if (!Number.isInteger(pages) || pages < 2) throw new ModelInputError("swap size in pages", pages, "at least 2 (a header and one slot)");
    this.type = type;
    this.pages = pages;
    this.clusterPages = clusterPages;
    this.map = new Uint16Array(pages);
    this.contents = new Uint32Array(pages);
    const nc = Math.ceil(pages / clusterPages);
    this.clusterUsed = new Uint32Array(nc);
    this.clusterOrder = new Int8Array(nc).fill(-1);
    this.clusterState = new Uint8Array(nc);
    this.current = new Int32Array(maxOrder + 1).fill(-1);
    this.nextInCluster = new Int32Array(maxOrder + 1);
    // The header.
    this.map[0] = 1;
    this.clusterUsed[0] = 1;
    this.clusterState[0] = CLUSTER_NONFULL;
    this.clusterOrder[0] = 0;
    this.inuse = 1;
    // A cluster past the end of the device is only as large as what remains.
    const tail = pages % clusterPages;
    if (tail !== 0) this.clusterOrder[nc - 1] = 0;
  }

  /** The swap_map words, for the incremental checker to see which slots an operation changed (read only). */
  get mapWords(): Uint16Array {
    return this.map;
  }

  /** Free slots (SwapFree in pages). */
  get free(): number {
    return this.pages - this.inuse;
  }

  private clusterSize(c: number): number {
    return Math.min(this.clusterPages, this.pages - c * this.clusterPages);
  }

  /**
   * folio_alloc_swap: 2^order naturally aligned free slots, returned with
   * SWAP_HAS_CACHE set and no entries (the caller adds the folio to the swap
   * cache; unmapping then adds the entries). Returns the first offset or -1.
   */
  alloc(order: number): number {
    const nr = 2 ** order;
    if (nr > this.clusterPages) return -1;
    const cur = this.current[order]!;
    if (cur >= 0) {
      const off = this.scanCluster(cur, order);
      if (off >= 0) return this.take(off, nr);
      this.current[order] = -1;
    }
    const nc = this.clusterUsed.length;
    // A cluster already serving this order with room, then a free one, then (order 0) any.
    for (const want of [CLUSTER_NONFULL, CLUSTER_FREE]) {
      for (let c = 0; c < nc; c++) {
        if (this.clusterState[c] !== want) continue;
        if (want === CLUSTER_NONFULL && this.clusterOrder[c] !== order) continue;
        if (want === CLUSTER_FREE && this.clusterSize(c) < nr) continue;
        const off = this.scanCluster(c, order);
        if (off < 0) continue;
        this.clusterOrder[c] = order;
        this.current[order] = c;
        return this.take(off, nr);
      }
    }
    if (order === 0) {
      for (let c = 0; c < nc; c++) {
        if (this.clusterState[c] === CLUSTER_FULL) continue;
        const off = this.scanCluster(c, 0);
        if (off >= 0) return this.take(off, 1);
      }
    }
    return -1;
  }

  private scanCluster(c: number, order: number): number {
    const nr = 2 ** order;
    const base = c * this.clusterPages;
    const size = this.clusterSize(c);
    for (let i = 0; i + nr <= size; i += nr) {
      let free = true;
      for (let j = 0; j < nr; j++) {
        if (this.map[base + i + j] !== 0) {
          free = false;
          break;
        }
      }
      if (free) return base + i;
    }
    return -1;
  }

  private take(off: number, nr: number): number {
    const c = Math.floor(off / this.clusterPages);
    for (let j = 0; j < nr; j++) this.map[off + j] = SWAP_HAS_CACHE << 8;
    this.inuse += nr;
    this.clusterUsed[c]! += nr;
    this.clusterState[c] = this.clusterUsed[c] === this.clusterSize(c) ? CLUSTER_FULL : CLUSTER_NONFULL;
    return off;
  }

  private release(off: number): void {
    const c = Math.floor(off / this.clusterPages);
    this.map[off] = 0;
    this.inuse--;
    this.clusterUsed[c]!--;
    if (this.clusterUsed[c] === 0) {
      this.clusterState[c] = CLUSTER_FREE;
      this.clusterOrder[c] = -1;
      for (let o = 0; o < this.current.length; o++) if (this.current[o] === c) this.current[o] = -1;
    } else {
      this.clusterState[c] = CLUSTER_NONFULL;
    }
  }

  private check(off: number): void {
    if (!(off > 0 && off < this.pages) || this.map[off] === 0) throw new ModelBug(`swap slot ${off} of device ${this.type} is not in use`);
  }

  /** Turn a slot just allocated with the cache flag into one entry reference and no cache (shmem swap-out). */
  claim(off: number): void {
    this.check(off);
    this.map[off] = 1;
  }

  /** Entries referencing the slot (swap_count), without the cache flag. */
  count(off: number): number {
    return this.map[off]! & 0xff;
  }

  hasCache(off: number): boolean {
    return (this.map[off]! & (SWAP_HAS_CACHE << 8)) !== 0;
  }

  /** The slot is allocated (by entries or the cache). */
  inUse(off: number): boolean {
    return this.map[off] !== 0;
  }

  /** swap_duplicate: one more entry references each of `nr` slots. */
  dup(off: number, nr = 1): void {
    for (let j = 0; j < nr; j++) {
      this.check(off + j);
      const c = this.map[off + j]! & 0xff;
      if (c >= 0xfe) throw new ModelBug(`swap slot ${off + j} count overflow`);
      this.map[off + j]!++;
    }
  }

  /**
   * swap_put_entries / swap_free_nr: drop one entry reference from each of
   * `nr` slots; a slot with no entries and no cache becomes free.
   */
  put(off: number, nr = 1): void {
    for (let j = 0; j < nr; j++) {
      this.check(off + j);
      const v = this.map[off + j]!;
      if ((v & 0xff) === 0) throw new ModelBug(`swap slot ${off + j} has no entry to drop`);
      this.map[off + j] = v - 1;
      if (this.map[off + j] === 0) this.release(off + j);
    }
  }

  /** Put `nr` slots' pages in the swap cache as the folio at `head`. */
  addToCache(off: number, nr: number, head: number): void {
    for (let j = 0; j < nr; j++) {
      this.check(off + j);
      if (this.cache.has(off + j)) throw new ModelBug(`swap slot ${off + j} already cached`);
      this.map[off + j]! |= SWAP_HAS_CACHE << 8;
      this.cache.set(off + j, head);
    }
  }

  /** Take `nr` slots out of the swap cache; slots with no entries left become free. */
  deleteFromCache(off: number, nr: number): void {
    for (let j = 0; j < nr; j++) {
      this.cache.delete(off + j);
      this.map[off + j]! &= ~(SWAP_HAS_CACHE << 8);
      if (this.map[off + j] === 0) this.release(off + j);
    }
  }

  /** The folio caching slot `off`, or -1. */
  lookup(off: number): number {
    return this.cache.get(off) ?? -1;
  }
}
