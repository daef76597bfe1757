import type { FileMmapOps } from "../mm/file-mmap";
import type { Vma } from "../mm/vma";
import { Lock } from "../util/locks";

/**
 * An inode's page cache (struct address_space): the folios caching it by
 * index, the VMAs mapping it (i_mmap), and what lies behind the cache —
 * a file's blocks on disk, or for shmem/tmpfs nothing but swap.
 */
export class AddressSpace {
  /** Page index -> folio head pfn, for every index a cached folio covers. */
  readonly pages = new Map<number, number>();
  /** VMAs mapping this file (the i_mmap interval tree). */
  readonly iMmap = new Set<Vma>();
  /** Written-back contents of regular file pages (index -> tag); pages never written read as the file's own pattern. */
  readonly disk = new Map<number, number>();
  /** shmem pages swapped out: index -> swap slot (type * 2^32 + offset packed by the swap layer). */
  readonly swapped = new Map<number, number>();
  /** i_mmap_rwsem. */
  readonly iMmapLock: Lock;
  /** Cached pages (nrpages). */
  nrpages = 0;
  /** The file system's mmap operations (hugetlbfs), or null for the core's. */
  mmapOps: FileMmapOps | null = null;

  constructor(
    readonly id: number,
    readonly name: string,
    /** i_size in bytes. */
    public size: number,
    readonly shmem: boolean,
    /** Seed of the file's initial contents (its blocks before any write). */
    readonly seed: number,
  ) {
    this.iMmapLock = new Lock("iMmap", `i_mmap:${name}`);
  }

  /** Pages the file spans. */
  nrPages(pageSize: number): number {
    return Math.ceil(this.size / pageSize);
  }
}
