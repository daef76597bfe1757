import type { AnonVma, AnonVmaChain } from "../rmap/anon-vma";
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
  /** vm_ops->close: the VMA goes away. A kind with close keeps VMA merges from removing its VMAs. */
  close?(vma: Vma): void;
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
