import { PTE } from "@hugemm/arch";
import { MEMORY_DEVICE_PRIVATE, ModelInputError, PG_allocated, PG_lru, PGTY_buddy, rmapWalk, type Kernel, type KernelFeature, type ViolationReport } from "@hugemm/core";
import { HmmDevice, devicePrivateFault } from "./device";
import { MEMORY_TYPES, idleRefcount, memremapPages, memunmapPages, type MemoryTypeName, type Pagemap } from "./pgmap";

/** A device as a machine declares it (`machine.devices:` in scenarios). */
export interface DeviceConfig {
  readonly name: string;
  readonly type: MemoryTypeName;
  /** Bytes of device memory: a whole number of the device's THP size. */
  readonly size: number;
  readonly node?: number;
  /** Alignment of the device's physical range in bytes (default: the THP size); a power of two from the THP size to 1 GiB. */
  readonly align?: number;
  /** First physical address (default: the next aligned address above RAM and the other devices). */
  readonly start?: number;
}

const GiB = 2 ** 30;

/**
 * ZONE_DEVICE on one kernel: the devices, their pgmaps, the device-private
 * fault handler and the checker's device invariants. Install it with
 * installZoneDevice(k) (once per kernel), then add devices.
 */
export class ZoneDevice implements KernelFeature {
  readonly name = "zone-device";
  readonly devices = new Map<string, HmmDevice>();
  private readonly byPgmap = new Map<Pagemap, HmmDevice>();

  constructor(readonly k: Kernel) {
    k.devicePrivateFault = (k2, mm, vma, addr, _flags, slot, orig) => devicePrivateFault(k2, (p) => this.byPgmap.get(p), mm, vma, addr, slot, orig);
  }

  /** The device called `name`; a clear error when there is none. */
  device(name: string): HmmDevice {
    const d = this.devices.get(name);
    if (d === undefined) throw new ModelInputError("device", name, this.devices.size === 0 ? "a device declared by the machine (none is)" : `one of ${[...this.devices.keys()].join(", ")}`);
    return d;
  }

  /**
   * Probe a device: memremap_pages of its range as ZONE_DEVICE of its node,
   * with the device's allocator behind the pgmap's folio_free. Bad
   * configuration is a ModelInputError naming the field; a range the
   * kernel refuses (RAM, another device) too, with the kernel's errno.
   */
  addDevice(c: DeviceConfig): HmmDevice {
    return this.k.op("memremap", () => this.probe(c));
  }

  private probe(c: DeviceConfig): HmmDevice {
    const k = this.k;
    const ps = k.pageSize;
    // Device memory comes in whole THPs (when the arch has PMD THPs) and whole pageblocks (memory hotplug's granule).
    const thp = ps * Math.max(2 ** Math.max(k.thp.pmdOrder, 0), k.phys.memmap.pbPages);
    if (typeof c.name !== "string" || !/^[a-z][a-z0-9_-]*$/.test(c.name)) throw new ModelInputError("device name", c.name, "lower-case letters, digits, - and _ (such as gpu0)");
    if (this.devices.has(c.name)) throw new ModelInputError("device name", c.name, "a name no other device has");
    const type = MEMORY_TYPES[c.type];
    if (type === undefined) throw new ModelInputError("device type", c.type, `one of ${Object.keys(MEMORY_TYPES).join(", ")}`);
    if (!Number.isSafeInteger(c.size) || c.size <= 0 || c.size % thp !== 0) throw new ModelInputError("device size", c.size, `a positive multiple of ${thp} bytes (the device's THP and pageblock size)`);
    const nid = c.node ?? 0;
    if (!Number.isInteger(nid) || nid < 0 || nid >= k.phys.nodes.length) throw new ModelInputError("device node", nid, `a node id in [0, ${k.phys.nodes.length - 1}]`);
    const align = c.align ?? thp;
    if (!Number.isSafeInteger(align) || align < thp || align > GiB || (align & (align - 1)) !== 0) throw new ModelInputError("device align", align, `a power of two from ${thp} bytes to 1 GiB`);
    const lowest = Math.max(k.phys.totalPages, k.phys.pagemaps.end) * ps;
    const start = c.start ?? Math.ceil(lowest / align) * align;
    if (!Number.isSafeInteger(start) || start % align !== 0) throw new ModelInputError("device start", start, `an address aligned to ${align} bytes`);
    const r = memremapPages(k, {
      type,
      startPfn: start / ps,
      nrPages: c.size / ps,
      nid,
      owner: {},
      ops: { folioFree: (p, head) => this.byPgmap.get(p)!.folioFree(head), migrateToSystem: (p, head) => this.byPgmap.get(p)!.migrateCoherentFolio(head) },
    });
    if (!r.ok) throw new ModelInputError("device range", `0x${start.toString(16)}+0x${c.size.toString(16)}`, `a range the kernel accepts (memremap_pages: ${r.errno}, ${r.reason})`);
    const dev = new HmmDevice(k, c.name, r.pgmap);
    // The device is the pgmap's owner: migrate_vma and hmm_range_fault match pages against it.
    r.pgmap.owner = dev;
    this.devices.set(c.name, dev);
    this.byPgmap.set(r.pgmap, dev);
    return dev;
  }

  /**
   * Unbind a device: evict its pages to system memory, then
   * memunmap_pages. EBUSY (and the device stays) when some page would not
   * move. The memmap keeps the range's struct pages; they belong to no
   * pgmap any more.
   */
  removeDevice(name: string): 0 | "EBUSY" {
    const dev = this.device(name);
    return this.k.op("memunmap", () => {
      if (dev.evict() !== 0) return "EBUSY";
      const r = memunmapPages(this.k, dev.pgmap);
      if (r !== 0) return r;
      this.devices.delete(name);
      this.byPgmap.delete(dev.pgmap);
      return 0;
    });
  }

  onExit(_k: Kernel, mm: { id: number }): void {
    for (const d of this.devices.values()) d.mirrors.delete(mm.id);
  }

  /**
   * The ZONE_DEVICE invariants: no device page is on a free list or has a
   * buddy mark; each pgmap's references are its allocated pages; every idle
   * page has its type's idle refcount and belongs to no folio; allocated
   * folios are referenced, never on an LRU, and mapped only as their type
   * allows (device-private by device-private entries, coherent by present
   * PTEs).
   */
  check(k: Kernel, _op: string, report: ViolationReport): void {
    const f = k.folios;
    const m = k.phys.memmap;
    for (const z of k.phys.deviceZones.values()) {
      if (z.freePages !== 0 || z.managedPages !== 0) report("buddy", `ZONE_DEVICE of node ${z.nid} has ${z.freePages} free and ${z.managedPages} managed pages`);
    }
    for (const dev of this.devices.values()) {
      const p = dev.pgmap;
      if (p.refs !== dev.mem.allocated) report("pgmap-refs", `${dev.name}: pgmap holds ${p.refs} page references but ${dev.mem.allocated} pages are allocated`, { expected: dev.mem.allocated, found: p.refs });
      let folioPages = 0;
      for (let pb = p.startPfn >>> m.pbShift; pb < (p.startPfn + p.nrPages) >>> m.pbShift; pb++) {
        const first = pb * m.pbPages;
        if (m.pbFreeOrder[pb]! >= 0) report("buddy", `${dev.name}: pageblock at pfn ${first} is a free buddy block`, { pfn: first });
        const s = m.sectionIfAny(first);
        if (m.pbLarge[pb] !== 0) {
          const head = f.head(first);
          if (head === first) folioPages += this.checkFolio(k, dev, head, report);
          continue;
        }
        if (s === undefined) continue;
        for (let i = 0; i < m.pbPages; ) {
          const pfn = first + i;
          const fl = s.flags[i]!;
          if (fl & PGTY_buddy) report("buddy", `${dev.name}: device page ${pfn} is marked as a buddy page`, { pfn });
          if ((fl & PG_allocated) === 0) {
            if (s.refcount[i] !== idleRefcount(p.type)) report("idle-refcount", `${dev.name}: idle page ${pfn} has refcount ${s.refcount[i]}, expected ${idleRefcount(p.type)}`, { pfn, expected: idleRefcount(p.type), found: s.refcount[i]! });
            i++;
            continue;
          }
          const n = f.nrPages(pfn);
          folioPages += this.checkFolio(k, dev, pfn, report);
          i += n;
        }
      }
      if (folioPages !== dev.mem.allocated) report("pgmap-refs", `${dev.name}: ${folioPages} pages are in device folios but the device allocated ${dev.mem.allocated}`, { expected: dev.mem.allocated, found: folioPages });
    }
  }

  private checkFolio(k: Kernel, dev: HmmDevice, head: number, report: ViolationReport): number {
    const f = k.folios;
    if (f.refcount(head) <= 0) report("refcount", `${dev.name}: device folio ${head} is allocated with refcount ${f.refcount(head)}`, { pfn: head });
    if (f.test(head, PG_lru)) report("lru", `${dev.name}: device folio ${head} is on an LRU list`, { pfn: head });
    const wantPresent = dev.type !== MEMORY_DEVICE_PRIVATE;
    rmapWalk(k, head, (mp) => {
      if (mp.present !== wantPresent) {
        report("device-entry", `${dev.name}: folio ${head} is mapped at 0x${mp.addr.toString(16)} by a ${mp.present ? "present" : "non-present"} entry`, { mm: mp.mm.id, addr: mp.addr, pfn: head });
      } else if (!mp.present && mp.level !== PTE && f.nrPages(head) === 1) {
        report("device-entry", `${dev.name}: order-0 folio ${head} is mapped by a huge device entry`, { pfn: head });
      }
      return true;
    });
    return f.nrPages(head);
  }
}

/** Install ZONE_DEVICE support on a kernel (or return the one installed). */
export function installZoneDevice(k: Kernel): ZoneDevice {
  return k.feature<ZoneDevice>("zone-device") ?? k.use(new ZoneDevice(k));
}
