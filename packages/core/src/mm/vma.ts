import type { HugeSize } from "@hugemm/arch";
import type { AnonVma, AnonVmaChain } from "../rmap/anon-vma";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "./mm";
import type { ZapDetails } from "./zap";
import type { AddressSpace } from "../file/address-space";
import { Lock } from "../util/locks";
import { VM_HUGETLB, VM_MAYSHARE, VM_SHARED } from "./vm-flags";

let nextVmaId = 1;

/**
 * Operations a VMA kind provides in place of the core's defaults (the
 * kernel's vm_operations_struct). Feature packages (hugetlb, device memory)
 * register kinds through the core's extension API.
 */
export interface VmaKind {
  readonly name: string;
  /** vm_ops->may_split: refuse a VMA boundary at `addr` (hugetlb needs huge-page alignment); null allows it. */
  maySplit?(vma: Vma, addr: number): { errno: "EINVAL" | "ENOMEM"; reason: string } | null;
  /** vm_ops->close: the VMA goes away (munmap, exit). A kind with close keeps VMA merges from removing its VMAs. */
  close?(vma: Vma): void;
  /**
   * vm_ops->open: `vma` is a new copy of `from` — the child's VMA at fork
   * (`fork` true; dup_mmap calls it after the kind's private data was
   * reset, as hugetlb_dup_vma_private does), or the new part of a split.
   */
  open?(vma: Vma, from: Vma, fork: boolean): void;
  /**
   * The whole fault (handle_mm_fault hands a hugetlb VMA to hugetlb_fault
   * instead of __handle_mm_fault): the vm_fault_t. Without it the core's
   * page-table fault runs.
   */
  fault?(k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number): number;
  /** unmap_page_range over [start, end) of the kind's VMA (munmap, exit, MADV_DONTNEED); the core records the flush. */
  zap?(k: Kernel, mm: Mm, vma: Vma, start: number, end: number, details: ZapDetails): void;
  /** copy_page_range at fork, for a VMA vma_needs_copy selects: false when memory ran out (fork fails). */
  copy?(k: Kernel, dst: Mm, src: Mm, dstVma: Vma, srcVma: Vma): boolean;
  /** change_protection over [start, end), the VMA's flags already the new ones: the base pages changed. */
  changeProtection?(k: Kernel, mm: Mm, vma: Vma, start: number, end: number): number;
  /**
   * mremap's rules for the kind (align_hugetlb): the old and new lengths
   * rounded to its unit, or null (EINVAL) when an address is not aligned to
   * it or the mapping would grow.
   */
  mremapAlign?(vma: Vma, addr: number, oldLen: number, newLen: number, newAddr: number): { oldLen: number; newLen: number } | null;
  /** move_page_tables for the kind's VMA (move_hugetlb_page_tables): the bytes moved. */
  movePageTables?(k: Kernel, mm: Mm, oldVma: Vma, newVma: Vma, oldAddr: number, newAddr: number, len: number): number;
  /** After a successful move, before the old range is unmapped (fixup_hugetlb_reservations: the reservation went with `newVma`). */
  moved?(k: Kernel, oldVma: Vma, newVma: Vma): void;
  /** vm_ops->pagesize: the unit of mapping (vma_kernel_pagesize); the base page size without it. */
  pagesize?(vma: Vma): number;
  /**
   * The logical entry every mapping of the VMA is made of: walkers (the
   * checker, the views) read its `ncontig` slots at `level` as one entry
   * mapping a whole folio of 2^shift bytes, counted by the folio-level
   * mapcount (Rmap.addWhole) and outside the mm's rss counters.
   */
  entrySize?(vma: Vma): HugeSize;
}

/** A virtual memory area: [start, end) of one mm with one set of flags. */
export class Vma {
  readonly id = nextVmaId++;
  /** The per-VMA lock (vma_start_read / vma_start_write). */
  readonly lock: Lock;
  anonVma: AnonVma | null = null;
  /** vma->anon_vma_chain. */
  readonly chains: AnonVmaChain[] = [];
  /** A file-backed VMA's mapping (page cache or shmem). */
  file: AddressSpace | null = null;
  /** What /proc/pid/maps names the VMA ("[heap]", a file name, ...). */
  name = "";
  kind: VmaKind | null = null;

  constructor(
    readonly mmId: number,
    public start: number,
    public end: number,
    public flags: number,
    /** vm_pgoff: page offset in the file, or start >> PAGE_SHIFT for anonymous memory. */
    public pgoff: number,
  ) {
    this.lock = new Lock("vma", `vma#${this.id}`);
  }

  get size(): number {
    return this.end - this.start;
  }

  contains(addr: number): boolean {
    return addr >= this.start && addr < this.end;
  }

  /** vma_is_anonymous: no file and no special kind. */
  get isAnonymous(): boolean {
    return this.file === null && this.kind === null;
  }

  get isShared(): boolean {
    return (this.flags & (VM_SHARED | VM_MAYSHARE)) !== 0;
  }

  get isHugetlb(): boolean {
    return (this.flags & VM_HUGETLB) !== 0;
  }

  /** linear_page_index: the page index `addr` maps in the VMA's mapping. */
  pageIndex(addr: number, pageSize: number): number {
    return (addr - this.start) / pageSize + this.pgoff;
  }

  /**
   * vma_address: where page `index` (taken modulo 2^32, as folios store it)
   * would be mapped, or -1 if the VMA does not map it.
   */
  addressOf(index32: number, pageSize: number): number {
    const off = (index32 - this.pgoff) % 0x100000000;
    const rel = off < 0 ? off + 0x100000000 : off;
    const addr = this.start + rel * pageSize;
    return addr < this.end ? addr : -1;
  }
}
