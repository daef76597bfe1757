import {
  MEMORY_DEVICE_COHERENT,
  MEMORY_DEVICE_FS_DAX,
  MEMORY_DEVICE_GENERIC,
  MEMORY_DEVICE_PCI_P2PDMA,
  MEMORY_DEVICE_PRIVATE,
  ModelInputError,
  type DevPagemap,
  type Kernel,
  type MemoryType,
  type MemremapError,
} from "@hugemm/core";

/** The memory types by the names scenarios use. */
export const MEMORY_TYPES = {
  private: MEMORY_DEVICE_PRIVATE,
  coherent: MEMORY_DEVICE_COHERENT,
  fsdax: MEMORY_DEVICE_FS_DAX,
  generic: MEMORY_DEVICE_GENERIC,
  p2pdma: MEMORY_DEVICE_PCI_P2PDMA,
} as const satisfies Record<string, MemoryType>;
export type MemoryTypeName = keyof typeof MEMORY_TYPES;

/**
 * The refcount of an idle ZONE_DEVICE page by type, as __init_zone_device_page
 * and free_zone_device_folio leave it (kernels with the DAX refcount series):
 * device-DAX pages idle at 1, every other type at 0.
 */
export function idleRefcount(type: MemoryType): number {
  return type === MEMORY_DEVICE_GENERIC ? 1 : 0;
}

/** dev_pagemap_ops: what the driver does for its pages. */
export interface PagemapOps {
  /** ops->folio_free: the folio's last reference went; its pages are the driver's again. */
  folioFree(pgmap: Pagemap, head: number): void;
  /** migrate_device_coherent_folio for a coherent pgmap: move the folio to system memory. */
  migrateToSystem?(pgmap: Pagemap, head: number): boolean;
}

export interface MemremapArgs {
  readonly type: MemoryType;
  /** First pfn and size of the range; the range must lie above RAM and meet no other pgmap. */
  readonly startPfn: number;
  readonly nrPages: number;
  readonly nid: number;
  /** pgmap->owner: the device (migrate_vma's pgmap_owner must match it). */
  readonly owner: object;
  /** vmemmap_shift: the order of the compound folios the memmap is built as (device-DAX). */
  readonly vmemmapShift?: number;
  readonly ops?: PagemapOps;
}

/** MAX_FOLIO_ORDER on the model's arches (PUD order with 4K pages). */
const MAX_FOLIO_ORDER = 18;

/**
 * struct dev_pagemap: one range of device memory with struct pages in
 * ZONE_DEVICE. Device-private and device-coherent pgmaps take one percpu
 * reference per page while a page is allocated (zone_device_page_init) and
 * drop it when the page is freed; `refs` is that count, which must be zero
 * for memunmap_pages to finish.
 */
export class Pagemap implements DevPagemap {
  readonly type: MemoryType;
  readonly startPfn: number;
  readonly nrPages: number;
  readonly nid: number;
  /** Set once by the driver that probed it (the device itself). */
  owner: object;
  readonly vmemmapShift: number;
  readonly ops: PagemapOps | undefined;
  /** The pgmap's percpu ref beyond its initial one: allocated pages (private, coherent). */
  refs = 0;
  /** memunmap_pages has run: no new reference may be taken. */
  dead = false;

  constructor(a: MemremapArgs) {
    this.type = a.type;
    this.startPfn = a.startPfn;
    this.nrPages = a.nrPages;
    this.nid = a.nid;
    this.owner = a.owner;
    this.vmemmapShift = a.vmemmapShift ?? 0;
    this.ops = a.ops;
  }

  /** Whether `pfn` is one of this pgmap's pages. */
  has(pfn: number): boolean {
    return pfn >= this.startPfn && pfn < this.startPfn + this.nrPages;
  }

  migrateToSystem(head: number): boolean {
    return this.type === MEMORY_DEVICE_COHERENT && this.ops?.migrateToSystem !== undefined && this.ops.migrateToSystem(this, head);
  }

  folioFree(head: number): void {
    if (this.ops === undefined) throw new ModelInputError("pgmap", this.type, "a pgmap with dev_pagemap_ops to free its folios");
    this.ops.folioFree(this, head);
  }
}

/** The outcome of memremap_pages: the pgmap, or the kernel's errno and why. */
export type MemremapResult = { ok: true; pgmap: Pagemap } | { ok: false; errno: MemremapError; reason: string };

/**
 * memremap_pages: check the pgmap as the kernel does (a device-private or
 * coherent pgmap needs its ops; vmemmap_shift at most MAX_FOLIO_ORDER; the
 * model builds folios for the device-private and coherent types only), then
 * hot-add its range as ZONE_DEVICE. Every page starts idle: refcount 0, no
 * folio.
 */
export function memremapPages(k: Kernel, a: MemremapArgs): MemremapResult {
  const shift = a.vmemmapShift ?? 0;
  if (!Number.isInteger(shift) || shift < 0 || shift > MAX_FOLIO_ORDER) return { ok: false, errno: "EINVAL", reason: `vmemmap_shift ${shift} is above MAX_FOLIO_ORDER (${MAX_FOLIO_ORDER})` };
  if ((a.type === MEMORY_DEVICE_PRIVATE || a.type === MEMORY_DEVICE_COHERENT) && a.ops === undefined) {
    return { ok: false, errno: "EINVAL", reason: "a device-private or device-coherent pgmap needs folio_free (and migrate_to_ram)" };
  }
  if (a.type !== MEMORY_DEVICE_PRIVATE && a.type !== MEMORY_DEVICE_COHERENT) {
    throw new ModelInputError("device type", a.type, "private or coherent (FS-DAX, device-DAX and P2PDMA memory are not modelled yet)");
  }
  const p = new Pagemap(a);
  const r = k.phys.memremapRange(p);
  if (r !== 0) {
    const why = { EINVAL: "the range is empty, misaligned or beyond the physical address space", ENXIO: "the range meets System RAM", ENOMEM: "the range meets another pgmap" }[r];
    return { ok: false, errno: r, reason: why };
  }
  return { ok: true, pgmap: p };
}

/**
 * memunmap_pages: kill the pgmap's reference and wait for it to drain. The
 * model cannot wait, so a pgmap with pages still allocated is refused
 * (EBUSY: the driver must evict them first, as test_hmm does with
 * migrate_device_range before it unregisters).
 */
export function memunmapPages(k: Kernel, p: Pagemap): 0 | "EBUSY" {
  if (p.refs !== 0) return "EBUSY";
  p.dead = true;
  k.phys.memunmapRange(p);
  return 0;
}
