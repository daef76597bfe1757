import { mixTag } from "../folio/contents";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { GFP_HIGHUSER_MOVABLE } from "../phys/gfp";
import { PG_dirty, PG_swapbacked, PG_uptodate } from "../phys/page-flags";
import { EV, NS } from "../stats/counters";
import { ModelBug } from "../util/errors";
import type { AddressSpace } from "./address-space";

/** Default read-ahead window (read_ahead_kb = 128). */
export const RA_PAGES_BYTES = 128 * 1024;

/** What a regular file's page holds before anything writes it. */
export function fileTag(as: AddressSpace, index: number): number {
  return mixTag(as.seed, index);
}

/** The page cache: folios of files and shmem, by (address space, index). */
export class PageCache {
  constructor(private readonly k: Kernel) {}

  /** filemap_get_folio: the cached folio for `index`, or -1. */
  lookup(as: AddressSpace, index: number): number {
    return as.pages.get(index) ?? -1;
  }

  /**
   * filemap_add_folio: put a new folio in the cache at `index` (the cache takes
   * one reference per page) and on the LRU (file pages inactive, shmem on the anon lists).
   */
  add(as: AddressSpace, head: number, index: number): void {
    const f = this.k.folios;
    const nr = f.nrPages(head);
    for (let i = 0; i < nr; i++) {
      if (as.pages.has(index + i)) throw new ModelBug(`page cache of ${as.name} already holds index ${index + i}`);
      as.pages.set(index + i, head);
    }
    as.nrpages += nr;
    f.setMapping(head, as.id, index);
    f.ref(head, nr);
    f.set(head, PG_uptodate);
    if (as.shmem) f.set(head, PG_swapbacked);
    const st = this.k.phys.nodeStats(this.k.phys.nidOf(head));
    st[NS.nr_file_pages]! += nr;
    if (as.shmem) st[NS.nr_shmem]! += nr;
    this.k.lru.add(head);
  }

  /** __filemap_remove_folio + folio_put of the cache's references. */
  remove(as: AddressSpace, head: number): void {
    const f = this.k.folios;
    const nr = f.nrPages(head);
    const index = f.index(head);
    for (let i = 0; i < nr; i++) as.pages.delete(index + i);
    as.nrpages -= nr;
    const st = this.k.phys.nodeStats(this.k.phys.nidOf(head));
    st[NS.nr_file_pages]! -= nr;
    if (as.shmem) st[NS.nr_shmem]! -= nr;
    if (!as.shmem && f.test(head, PG_dirty)) st[NS.nr_dirty]! -= nr;
    folioPut(this.k, head, nr);
  }

  /**
   * Read page `index` of a regular file into the cache (filemap_read_folio):
   * allocate, fill from disk, add. Returns the head or -1 on ENOMEM.
   */
  readPage(as: AddressSpace, index: number, nid: number): number {
    const f = this.k.folios;
    const head = f.alloc(0, GFP_HIGHUSER_MOVABLE, nid);
    if (head < 0) return -1;
    f.writeTag(head, as.disk.get(index) ?? fileTag(as, index));
    this.add(as, head, index);
    // add() took the cache's reference; drop the allocation's.
    f.unref(head);
    this.k.events[EV.pgpgin]! += this.k.pageSize / 1024;
    return head;
  }

  /**
   * do_sync_mmap_readahead on a cache miss: read the read-around window
   * centred on `index` (ra_pages, clipped to the file), the faulting page first.
   * Returns the faulting page's folio or -1.
   */
  readAround(as: AddressSpace, index: number, nid: number, random: boolean): number {
    const head = this.readPage(as, index, nid);
    if (head < 0 || random) return head;
    const ra = Math.max(1, RA_PAGES_BYTES / this.k.pageSize);
    const last = as.nrPages(this.k.pageSize);
    const from = Math.max(0, index - Math.floor(ra / 2));
    for (let i = from; i < Math.min(last, from + ra); i++) {
      if (i === index || as.pages.has(i)) continue;
      if (this.readPage(as, i, nid) < 0) break;
    }
    return head;
  }

  /**
   * A new zeroed shmem page at `index` (shmem_alloc_and_add_folio). It
   * starts clean, as shmem_get_folio_gfp leaves it: a read fault maps it
   * clean, and a write (fault or write(2)) dirties it.
   */
  shmemAlloc(as: AddressSpace, index: number, nid: number): number {
    const f = this.k.folios;
    const head = f.alloc(0, GFP_HIGHUSER_MOVABLE, nid);
    if (head < 0) return -1;
    this.add(as, head, index);
    f.unref(head);
    return head;
  }

  /**
   * folio_mark_dirty for a page-cache folio: regular files account it as
   * NR_FILE_DIRTY until written back; shmem pages are not dirty-accounted.
   */
  markDirty(head: number): void {
    const f = this.k.folios;
    if (f.test(head, PG_dirty)) return;
    f.set(head, PG_dirty);
    if (!f.test(head, PG_swapbacked)) this.k.phys.nodeStats(this.k.phys.nidOf(head))[NS.nr_dirty]! += f.nrPages(head);
  }

  /** Write a dirty regular-file folio back to disk (writeback, synchronous in the model). */
  writeback(as: AddressSpace, head: number): void {
    const f = this.k.folios;
    const nr = f.nrPages(head);
    const index = f.index(head);
    for (let i = 0; i < nr; i++) as.disk.set(index + i, f.readTag(head + i));
    if (f.test(head, PG_dirty)) this.k.phys.nodeStats(this.k.phys.nidOf(head))[NS.nr_dirty]! -= nr;
    f.clear(head, PG_dirty);
    this.k.events[EV.pgpgout]! += (nr * this.k.pageSize) / 1024;
  }
}
