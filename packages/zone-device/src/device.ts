import { PTE, SoftleafType, entryRegs, softleafPfn, softleafTypeOf } from "@hugemm/arch";
import {
  GFP_HIGHUSER_MOVABLE,
  GFP_TRANSHUGE,
  MEMORY_DEVICE_COHERENT,
  MEMORY_DEVICE_PRIVATE,
  PG_locked,
  Slot,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_READ,
  WALK_OK,
  folioPut,
  splitFolio,
  type Kernel,
  type MemoryType,
  type Mm,
  type Vma,
} from "@hugemm/core";
import { DeviceMemory } from "./devmem";
import {
  MIGRATE_PFN_COMPOUND,
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_WRITE,
  MIGRATE_VMA_SELECT_COMPOUND,
  MIGRATE_VMA_SELECT_DEVICE_COHERENT,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  MIGRATE_VMA_SELECT_SYSTEM,
  migratePfn,
  mpfnHas,
  mpfnToPfn,
} from "./migrate-pfn";
import { migrateDeviceFolioSetup, migrateVmaFinalize, migrateVmaPages, migrateVmaSetup, type MigrateVma } from "./migrate-vma";
import { Mirror, type MirrorResult } from "./mirror";
import type { Pagemap } from "./pgmap";

const R = entryRegs(1);

export interface HmmDeviceSpec {
  readonly name: string;
  readonly type: MemoryType;
  /** Device memory in pages (a whole number of THPs). */
  readonly nrPages: number;
  readonly nid: number;
  /** First pfn of its range (default: the next free place above RAM and other devices). */
  readonly startPfn?: number;
}

/**
 * A device like the kernel's test_hmm (dmirror): private or coherent device
 * memory in one pgmap, a device-side allocator of pages and THPs that can be
 * told to fail, the migrate_vma driver hooks (copy to and from the device,
 * migrate_to_ram on a CPU fault), and one Mirror per process that opens it.
 */
export class HmmDevice {
  readonly mirrors = new Map<number, Mirror>();
  /** page->zone_device_data: the mirror that migrated each device folio here. */
  readonly owners = new Map<number, Mirror>();
  readonly mem: DeviceMemory;

  constructor(
    readonly k: Kernel,
    readonly name: string,
    readonly pgmap: Pagemap,
  ) {
    // Without PMD THPs the device hands out pages only.
    this.mem = new DeviceMemory(k, pgmap, Math.max(k.thp.pmdOrder, 0));
  }

  get type(): MemoryType {
    return this.pgmap.type;
  }

  /** The mirror of `mm` (the process opens the device on first use). */
  mirror(mm: Mm): Mirror {
    let m = this.mirrors.get(mm.id);
    if (m === undefined) {
      m = new Mirror(this.k, this, mm);
      this.mirrors.set(mm.id, m);
    }
    return m;
  }

  /** HMM_DMIRROR_FLAG_FAIL_ALLOC: the device's next page allocation fails. */
  failNextAlloc(): void {
    this.mem.failNext = true;
  }

  /** Whether the PTE at `addr` is a device-exclusive entry for `pfn`. */
  isExclusiveAt(mm: Mm, addr: number, pfn: number): boolean {
    const b = this.k.backend;
    const slot = new Slot();
    if (mm.walker.find(addr, PTE, false, slot) !== WALK_OK) return false;
    b.readEntry(slot.table, slot.index, PTE, R, 0);
    if (b.present(R, 0, PTE) || b.none(R, 0, PTE)) return false;
    return softleafTypeOf(b.swpType(R, 0, PTE)) === SoftleafType.DEVICE_EXCLUSIVE && softleafPfn(b.softleaf, b.swpOffset(R, 0, PTE)) === pfn;
  }

  /**
   * HMM_DMIRROR_MIGRATE_TO_DEV: migrate [addr, addr + npages) of the mirror's
   * process to device memory, VMA by VMA (EINVAL at a hole or a VMA the
   * device may not read), THPs whole with `compound`, then read the range
   * back through the device's page table (ENOENT if a page did not move).
   */
  migrateToDevice(mirror: Mirror, addr: number, npages: number, compound: boolean, withData = true): MirrorResult {
    return this.k.op("migrate-to-device", () => this.toDevice(mirror, addr, npages, compound, withData));
  }

  private toDevice(mirror: Mirror, addr: number, npages: number, compound: boolean, withData: boolean): MirrorResult {
    const k = this.k;
    const ps = k.pageSize;
    const end = addr + npages * ps;
    for (let a = addr; a < end; ) {
      const vma = mirror.mm.vmas.lookup(a);
      if (vma === undefined || (vma.flags & VM_READ) === 0) return { errno: "EINVAL", cpages: 0, faults: 0, data: [] };
      const next = Math.min(end, vma.end);
      const flags = MIGRATE_VMA_SELECT_SYSTEM | (compound ? MIGRATE_VMA_SELECT_COMPOUND : 0);
      const m = migrateVmaSetup(k, { mm: mirror.mm, vma, start: a, end: next, flags, pgmapOwner: this });
      if (typeof m === "string") return { errno: m, cpages: 0, faults: 0, data: [] };
      this.allocAndCopy(m, mirror);
      migrateVmaPages(k, m);
      this.finalizeAndMap(m, mirror);
      migrateVmaFinalize(k, m);
      a = next;
    }
    return mirror.readBack(addr, npages, withData);
  }

  /**
   * dmirror_migrate_alloc_and_copy: a device page (or THP for a compound
   * entry) for every page to migrate, holding a copy of the source (zeroes
   * for a hole or the zero page). When a THP cannot be had, the entry falls
   * back to single pages, which makes migrate_vma split the source.
   */
  private allocAndCopy(m: MigrateVma, mirror: Mirror): void {
    const f = this.k.folios;
    const nrThp = 2 ** this.k.thp.pmdOrder;
    for (let i = 0; i < m.npages; ) {
      const s = m.src[i]!;
      if (s === 0 || !mpfnHas(s, MIGRATE_PFN_MIGRATE)) {
        i++;
        continue;
      }
      const spfn = mpfnToPfn(s);
      const large = mpfnHas(s, MIGRATE_PFN_COMPOUND);
      const write = mpfnHas(s, MIGRATE_PFN_WRITE) ? MIGRATE_PFN_WRITE : 0;
      if (spfn >= 0 && this.k.phys.isZoneDevice(spfn)) {
        i++;
        continue;
      }
      const d = this.mem.alloc(large ? this.k.thp.pmdOrder : 0);
      if (d < 0) {
        if (!large) {
          i++;
          continue;
        }
        const nr = Math.min(nrThp, m.npages - i);
        for (let j = 0; j < nr; j++) {
          const p = this.mem.alloc(0);
          if (p < 0) break;
          this.owners.set(p, mirror);
          m.dst[i + j] = migratePfn(p) + write;
          if (spfn >= 0) f.copyContents(p, spfn + j, 1);
        }
        i += nr;
        continue;
      }
      this.owners.set(d, mirror);
      const nr = large ? nrThp : 1;
      m.dst[i] = migratePfn(d) + write + (large ? MIGRATE_PFN_COMPOUND : 0);
      if (spfn >= 0) f.copyContents(d, spfn, nr);
      i += nr;
    }
  }

  /** dmirror_migrate_finalize_and_map: the device maps what moved to it, writable as the source was. */
  private finalizeAndMap(m: MigrateVma, mirror: Mirror): void {
    const f = this.k.folios;
    const ps = this.k.pageSize;
    for (let i = 0; i < m.npages; i++) {
      if (m.src[i] === 0 || !mpfnHas(m.src[i]!, MIGRATE_PFN_MIGRATE)) continue;
      const d = mpfnToPfn(m.dst[i]!);
      if (d < 0) continue;
      const nr = Math.min(f.nrPages(f.head(d)), m.npages - i);
      mirror.storeRange(m.addr(i) / ps, d, nr, mpfnHas(m.dst[i]!, MIGRATE_PFN_WRITE));
    }
  }

  /**
   * HMM_DMIRROR_MIGRATE_TO_SYS: migrate the device's pages in the range
   * back to system memory (THPs whole where a THP can be had). Returns the
   * pages the migration collected.
   */
  migrateToSystem(mirror: Mirror, addr: number, npages: number): MirrorResult {
    return this.k.op("migrate-to-system", () => this.toSystem(mirror, addr, npages));
  }

  private toSystem(mirror: Mirror, addr: number, npages: number): MirrorResult {
    const k = this.k;
    const ps = k.pageSize;
    const end = addr + npages * ps;
    let cpages = 0;
    for (let a = addr; a < end; ) {
      const vma = mirror.mm.vmas.lookup(a);
      if (vma === undefined || (vma.flags & VM_READ) === 0) return { errno: "EINVAL", cpages, faults: 0, data: [] };
      const next = Math.min(end, vma.end);
      const sel = this.type === MEMORY_DEVICE_COHERENT ? MIGRATE_VMA_SELECT_DEVICE_COHERENT : MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
      const m = migrateVmaSetup(k, { mm: mirror.mm, vma, start: a, end: next, flags: sel | MIGRATE_VMA_SELECT_COMPOUND, pgmapOwner: this });
      if (typeof m === "string") return { errno: m, cpages, faults: 0, data: [] };
      cpages += m.cpages;
      if (this.faultAllocAndCopy(m) !== 0) {
        migrateVmaFinalize(k, m);
        return { errno: "ENOMEM", cpages, faults: 0, data: [] };
      }
      migrateVmaPages(k, m);
      migrateVmaFinalize(k, m);
      a = next;
    }
    return { errno: 0, cpages, faults: 0, data: [] };
  }

  /**
   * dmirror_devmem_fault_alloc_and_copy: system memory for each device folio
   * to migrate back — a THP for a device THP unless that fails (or the
   * device was told to fail), then a single page — with a copy of its data;
   * the device forgets its mapping. VM_FAULT_OOM when no page can be had.
   */
  private faultAllocAndCopy(m: MigrateVma): number {
    const k = this.k;
    const f = k.folios;
    const ps = k.pageSize;
    for (let i = 0; i < m.npages; ) {
      const s = m.src[i]!;
      const spfn = s === 0 ? -1 : mpfnToPfn(s);
      if (spfn < 0 || !mpfnHas(s, MIGRATE_PFN_MIGRATE)) {
        i++;
        continue;
      }
      const shead = f.head(spfn);
      let order = f.order(shead);
      let d = -1;
      if (order > 0) {
        if (this.mem.failNext) this.mem.failNext = false;
        else d = f.alloc(order, GFP_TRANSHUGE, m.mm.nid);
        if (d < 0) order = 0;
      }
      if (d < 0) d = f.alloc(0, GFP_HIGHUSER_MOVABLE, m.mm.nid);
      if (d < 0) return VM_FAULT_OOM;
      f.set(d, PG_locked);
      const nr = 2 ** order;
      // The device's mapping of the page goes (xa_erase); its mirror also drops it the next time it looks.
      this.owners.get(shead)?.eraseRange(m.addr(i) / ps, f.nrPages(shead));
      f.copyContents(d, spfn, nr);
      m.dst[i] = migratePfn(d) + (mpfnHas(s, MIGRATE_PFN_WRITE) ? MIGRATE_PFN_WRITE : 0) + (order > 0 ? MIGRATE_PFN_COMPOUND : 0);
      i += mpfnHas(s, MIGRATE_PFN_COMPOUND) ? 2 ** f.order(shead) : 1;
    }
    return 0;
  }

  /**
   * dev_pagemap_ops.migrate_to_ram (dmirror_devmem_fault), from a CPU fault
   * on a device-private entry naming `page` (locked and referenced by the
   * fault): migrate the folio's range of the VMA back to system memory.
   * The range is the folio's, clamped to the VMA.
   */
  migrateToRam(mm: Mm, vma: Vma, addr: number, page: number, size: number): number {
    const k = this.k;
    const start = Math.max(vma.start, addr - (addr % size));
    const end = Math.min(vma.end, addr - (addr % size) + size);
    const m = migrateVmaSetup(k, { mm, vma, start, end, flags: MIGRATE_VMA_SELECT_DEVICE_PRIVATE | MIGRATE_VMA_SELECT_COMPOUND, pgmapOwner: this, faultPage: page });
    if (typeof m === "string") return VM_FAULT_SIGBUS;
    const r = this.faultAllocAndCopy(m);
    if (r !== 0) {
      migrateVmaFinalize(k, m);
      return r;
    }
    migrateVmaPages(k, m);
    migrateVmaFinalize(k, m);
    return 0;
  }

  /**
   * migrate_device_coherent_folio: move one coherent folio to system memory
   * (a long-term pin found it). False when it stayed on the device.
   */
  migrateCoherentFolio(head: number): boolean {
    const k = this.k;
    const m = migrateDeviceFolioSetup(k, head);
    if (m === null) return false;
    if (this.faultAllocAndCopy(m) !== 0) {
      migrateVmaFinalize(k, m);
      return false;
    }
    migrateVmaPages(k, m);
    const moved = mpfnHas(m.src[0]!, MIGRATE_PFN_MIGRATE) && mpfnToPfn(m.dst[0]!) >= 0;
    migrateVmaFinalize(k, m);
    return moved;
  }

  /** ops->folio_free: the folio's pages return to the device's free lists. */
  folioFree(head: number): void {
    this.owners.delete(head);
    this.mem.free(head);
  }

  /**
   * dmirror_device_evict_chunk (migrate_device_range): move every page still
   * on the device to system memory, as the driver must before
   * memunmap_pages. Returns the folios that would not move (a split of a
   * device THP leaves pages that are evicted in turn).
   */
  evict(): number {
    const k = this.k;
    const f = k.folios;
    let stuck = 0;
    for (let pass = 0; pass < 3 && this.mem.folios.size > 0; pass++) {
      stuck = 0;
      for (const head of [...this.mem.folios]) {
        if (!this.mem.folios.has(head) || f.head(head) !== head) continue;
        const m = migrateDeviceFolioSetup(k, head);
        if (m === null) {
          stuck++;
          continue;
        }
        if (this.faultAllocAndCopy(m) === 0) migrateVmaPages(k, m);
        migrateVmaFinalize(k, m);
      }
    }
    return this.mem.folios.size === 0 ? 0 : Math.max(stuck, this.mem.folios.size);
  }
}

/**
 * The device-private fault (do_swap_page, do_huge_pmd_device_private):
 * take a reference and the folio lock — a folio already locked is being
 * migrated, so the fault returns and the access retries — and let the
 * page's pgmap migrate it back. A PTE-mapped device THP is split first:
 * the kernel splits it inside the collection (migrate_vma_split_folio)
 * with the faulting page's lock held; the model splits it before taking
 * the lock, which leaves the same folios.
 */
export function devicePrivateFault(k: Kernel, deviceOf: (p: Pagemap) => HmmDevice | undefined, mm: Mm, vma: Vma, addr: number, slot: Slot, orig: Uint32Array): number {
  const b = k.backend;
  const f = k.folios;
  const level = slot.level;
  const page = softleafPfn(b.softleaf, b.swpOffset(orig, 0, level));
  const pgmap = k.phys.pgmapOf(page) as Pagemap | undefined;
  const dev = pgmap === undefined ? undefined : deviceOf(pgmap);
  if (dev === undefined || pgmap?.type !== MEMORY_DEVICE_PRIVATE) return VM_FAULT_SIGBUS;
  let head = f.head(page);
  if (f.test(head, PG_locked)) return 0;
  const size = k.pageSize * f.nrPages(head);
  if (level === PTE && f.order(head) > 0) {
    f.ref(head);
    splitFolio(k, head, 0);
    folioPut(k, f.head(head), 1);
    head = f.head(page);
  }
  f.ref(head);
  f.set(head, PG_locked);
  let r: number;
  try {
    // Size the migration by the folio the fault found (a PTE-mapped THP comes back whole, page by page).
    r = dev.migrateToRam(mm, vma, addr, page, size);
  } finally {
    const h = f.head(page);
    f.clear(h, PG_locked);
    folioPut(k, h, 1);
  }
  return r;
}
