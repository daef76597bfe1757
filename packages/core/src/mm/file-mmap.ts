import type { AddressSpace } from "../file/address-space";
import type { Kernel } from "../kernel/kernel";
import { ModelInputError } from "../util/errors";
import type { SysErr, SysResult } from "./errno";
import type { Mm } from "./mm";
import type { Vma } from "./vma";

/**
 * What a file system gives mmap for its files (hugetlbfs): the kernel's
 * f_op->mmap and f_op->get_unmapped_area, and the unit ksys_mmap_pgoff
 * rounds the length to. A file without them is mapped the core's way.
 */
export interface FileMmapOps {
  /** The bytes the file is mapped in (huge_page_size of its hstate): mmap rounds len up to it. */
  unit(file: AddressSpace): number;
  /** The file system keeps its own accounting: its mappings never charge the commit limit (accountable_mapping). */
  readonly ownAccounting: boolean;
  /** f_op->get_unmapped_area: where a mapping of [addr, addr + len) at page offset `pgoff` goes. */
  getUnmappedArea?(k: Kernel, mm: Mm, file: AddressSpace, addr: number, len: number, pgoff: number, flags: number): SysResult<number>;
  /**
   * f_op->mmap (call_mmap): the new VMA is in the mm and the file's i_mmap;
   * the file system sets its kind and flags and reserves what it needs. An
   * error fails the mmap and the VMA goes away.
   */
  mmap(k: Kernel, mm: Mm, vma: Vma): SysErr | null;
  /** f_op->fallocate with FALLOC_FL_* `mode` (MADV_REMOVE punches its hole through it). */
  fallocate?(k: Kernel, file: AddressSpace, mode: number, offset: number, len: number): SysResult<0>;
}

/** FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE: what madvise_remove asks of the file system. */
export const FALLOC_FL_PUNCH_HOLE_KEEP_SIZE = 0x03;

/**
 * hugetlb_file_setup for an anonymous MAP_HUGETLB mapping of `len` bytes
 * with mmap `flags` (MAP_HUGE_* size bits): the pseudo-file to map and the
 * length rounded to its page size, or the errno (EINVAL for a size without
 * an hstate).
 */
export type MapHugetlbSetup = (k: Kernel, len: number, flags: number) => SysResult<{ readonly file: AddressSpace; readonly len: number }>;

const setups = new WeakMap<Kernel, MapHugetlbSetup>();

/** Install the provider of anonymous MAP_HUGETLB mappings for `k` (the hugetlb feature; one per kernel). */
export function registerMapHugetlb(k: Kernel, setup: MapHugetlbSetup): void {
  if (typeof setup !== "function") throw new ModelInputError("MAP_HUGETLB setup", setup, "a function returning the pseudo-file to map");
  setups.set(k, setup);
}

/** The MAP_HUGETLB provider of `k`, if a feature installed one. */
export function mapHugetlbSetupOf(k: Kernel): MapHugetlbSetup | undefined {
  return setups.get(k);
}
