import { EV, NS } from "../stats/counters";
import { ModelInputError } from "../util/errors";
import { __GFP_DIRECT_RECLAIM, __GFP_KSWAPD_RECLAIM, __GFP_MOVABLE, __GFP_NORETRY, __GFP_THISNODE, gfpMigratetype } from "./gfp";
import { LargeFolios, Memmap } from "./memmap";
import { MIGRATE_MOVABLE } from "./migratetype";
import { PAGE_ALLOC_COSTLY_ORDER, Zone, type PcpList, type ZoneName } from "./zone";
import { PagemapRanges, type DevPagemap, type MemremapError } from "./zone-device";

export interface PhysConfig {
  /** PAGE_SHIFT of the arch. */
  readonly pageShift: number;
  /** MAX_PAGE_ORDER: the largest buddy block. */
  readonly maxOrder: number;
  /** pageblock_order. */
  readonly pbOrder: number;
  /** Total memory in bytes, split evenly across nodes. */
  readonly memoryBytes: number;
  readonly nodes: number;
  /** ZONE_MOVABLE size per node in bytes (movablecore=); 0 for none. */
  readonly movableBytesPerNode: number;
  /** The arch's physical address bits: memory must fit below 2^physBits. */
  readonly physBits: number;
}

/** Where the slow path goes when the free lists cannot satisfy a request. */
export interface AllocSlowpath {
  /** Wake kswapd for the zones of `nid` (modelled as running to completion now). */
  kswapd(nid: number, order: number): void;
  /** Direct reclaim: free at least some pages; returns how many were reclaimed. */
  directReclaim(nid: number, order: number, gfp: number): number;
  /** Direct compaction for `order`; returns whether a block of that order should now be free. */
  compact(nid: number, order: number, gfp: number): boolean;
}

export interface NodeMem {
  readonly nid: number;
  readonly startPfn: number;
  readonly endPfn: number;
  readonly zones: readonly Zone[];
  /** Node state counters (node_stat_item and zone_stat_item summed per node). */
  readonly stats: Float64Array;
}

/**
 * Physical memory: nodes of one or more zones, the memmap and the page
 * allocator's entry points. Pages start at pfn 0; each node spans a run of
 * pfns aligned to the largest buddy block.
 */
export class PhysMem {
  readonly pageShift: number;
  readonly pageSize: number;
  readonly maxOrder: number;
  readonly memmap: Memmap;
  readonly large = new LargeFolios();
  readonly nodes: readonly NodeMem[];
  /** The buddy allocator's zones (ZONE_DEVICE zones are not among them: see deviceZones). */
  readonly zones: readonly Zone[];
  /** Every zone by index (pbZone): the buddy zones, then one ZONE_DEVICE zone per node that has device memory. */
  private readonly allZones: Zone[];
  /** ZONE_DEVICE zone of each node, once memremap_pages added a range there. */
  readonly deviceZones = new Map<number, Zone>();
  /** pgmap_array: device ranges by pfn. */
  readonly pagemaps = new PagemapRanges();
  /** RAM pages: every pfn at or above this (and below the memmap's end) is ZONE_DEVICE. */
  readonly totalPages: number;
  private readonly physBits: number;
  private readonly pbOrder: number;
  /** min_free_kbytes. */
  readonly minFreeKbytes: number;
  slowpath: AllocSlowpath | undefined;

  constructor(
    cfg: PhysConfig,
    readonly events: Float64Array,
    makeNodeStats: () => Float64Array,
  ) {
    this.pageShift = cfg.pageShift;
    this.pageSize = 2 ** cfg.pageShift;
    this.maxOrder = cfg.maxOrder;
    if (!Number.isInteger(cfg.nodes) || cfg.nodes < 1 || cfg.nodes > 64) {
      throw new ModelInputError("node count", cfg.nodes, "an integer from 1 to 64");
    }
    // Nodes and zones are made of whole pageblocks; blocks at their edges may be smaller than MAX_PAGE_ORDER.
    const blockBytes = 2 ** (cfg.pbOrder + cfg.pageShift);
    const perNode = cfg.memoryBytes / cfg.nodes;
    if (!Number.isInteger(perNode) || perNode % blockBytes !== 0 || perNode === 0) {
      throw new ModelInputError("memory size", cfg.memoryBytes, `a multiple of ${cfg.nodes} x ${blockBytes} bytes (whole pageblocks on every node)`);
    }
    if (cfg.memoryBytes > 2 ** cfg.physBits) {
      throw new ModelInputError("memory size", cfg.memoryBytes, `at most 2^${cfg.physBits} bytes, the arch's physical address space`);
    }
    const movable = cfg.movableBytesPerNode;
    if (movable % blockBytes !== 0 || movable >= perNode) {
      throw new ModelInputError("movable zone size", movable, `a multiple of ${blockBytes} bytes smaller than a node (${perNode} bytes)`);
    }
    const pagesPerNode = perNode / this.pageSize;
    this.totalPages = pagesPerNode * cfg.nodes;
    this.memmap = new Memmap(0, this.totalPages, cfg.pbOrder);
    const nodes: NodeMem[] = [];
    const zones: Zone[] = [];
    for (let nid = 0; nid < cfg.nodes; nid++) {
      const start = nid * pagesPerNode;
      const end = start + pagesPerNode;
      const movablePages = movable / this.pageSize;
      const nodeZones: Zone[] = [];
      const add = (name: ZoneName, s: number, e: number) => {
        const z = new Zone(this.memmap, this.large, { nid, name, index: zones.length, startPfn: s, endPfn: e, maxOrder: cfg.maxOrder, pageSize: this.pageSize });
        z.isMovablePage = (pfn) => this.isMovable(pfn);
        zones.push(z);
        nodeZones.push(z);
      };
      add("Normal", start, end - movablePages);
      if (movablePages > 0) add("Movable", end - movablePages, end);
      nodes.push({ nid, startPfn: start, endPfn: end, zones: nodeZones, stats: makeNodeStats() });
    }
    this.nodes = nodes;
    this.zones = zones;
    this.allZones = [...zones];
    this.physBits = cfg.physBits;
    this.pbOrder = cfg.pbOrder;
    for (const z of zones) this.initZone(z);
    this.minFreeKbytes = this.calculateMinFreeKbytes();
    this.setupWatermarks(this.minFreeKbytes);
  }

  /** memmap_init + __free_pages_core: every block free, every pageblock MOVABLE, ascending to the tail. */
  private initZone(z: Zone): void {
    const m = this.memmap;
    for (let pb = z.startPfn / m.pbPages; pb < z.endPfn / m.pbPages; pb++) {
      m.pbZone[pb] = z.index;
      m.pbMigratetype[pb] = MIGRATE_MOVABLE;
    }
    // The largest naturally aligned block that fits, from the bottom up (__free_pages_memory).
    for (let pfn = z.startPfn; pfn < z.endPfn; ) {
      let order = this.maxOrder;
      while (order > 0 && (pfn % (1 << order) !== 0 || pfn + (1 << order) > z.endPfn)) order--;
      z.freeOne(pfn, order, MIGRATE_MOVABLE, true);
      pfn += 1 << order;
    }
    this.nodeStats(z.nid)[NS.nr_free_pages] = this.nodeFree(z.nid);
  }

  /** calculate_min_free_kbytes: sqrt(lowmem_kbytes * 16), clamped to [128, 262144]. */
  private calculateMinFreeKbytes(): number {
    let lowmem = 0;
    for (const z of this.zones) if (z.name === "Normal") lowmem += z.managedPages;
    const kb = lowmem * (this.pageSize / 1024);
    return Math.min(262144, Math.max(128, Math.floor(Math.sqrt(kb * 16))));
  }

  /** __setup_per_zone_wmarks. */
  setupWatermarks(minFreeKbytes: number): void {
    const pagesMin = Math.floor(minFreeKbytes / (this.pageSize / 1024));
    let lowmemPages = 0;
    for (const z of this.zones) if (z.name !== "Movable") lowmemPages += z.managedPages;
    for (const z of this.zones) {
      let min: number;
      if (z.name === "Movable") {
        // Like highmem: a small reserve, since it cannot serve __GFP_HIGH and atomic allocations anyway.
        min = Math.min(128, Math.max(32, Math.floor(z.managedPages / 1024)));
      } else {
        min = Math.floor((pagesMin * z.managedPages) / lowmemPages);
      }
      const step = Math.max(min >> 2, Math.floor((z.managedPages * 10) / 10000));
      z.wmarkMin = min;
      z.wmarkLow = min + step;
      z.wmarkHigh = min + 2 * step;
      // zone_highsize for one CPU on the node: the low watermark split between it and the node's CPU count.
      z.pcp.high = Math.max(Math.floor(z.wmarkLow / 2), z.pcp.batch * 4);
    }
  }

  nodeStats(nid: number): Float64Array {
    return this.nodes[nid]!.stats;
  }

  private nodeFree(nid: number): number {
    let n = 0;
    for (const z of this.nodes[nid]!.zones) n += z.freePages;
    return n;
  }

  zoneOf(pfn: number): Zone {
    return this.allZones[this.memmap.pbZone[this.memmap.pageblock(pfn)]!]!;
  }

  /** folio_is_zone_device / is_zone_device_page. */
  isZoneDevice(pfn: number): boolean {
    return pfn >= this.totalPages && pfn < this.memmap.endPfn;
  }

  /** page_pgmap: the pgmap of a ZONE_DEVICE page, or undefined for any other pfn. */
  pgmapOf(pfn: number): DevPagemap | undefined {
    return pfn >= this.totalPages ? this.pagemaps.lookup(pfn) : undefined;
  }

  /**
   * The hotplug half of memremap_pages (pagemap_range): a range that meets
   * System RAM is refused with ENXIO, one that meets another pgmap with
   * ENOMEM, one beyond the physical address space or not pageblock aligned
   * with EINVAL. Otherwise the memmap grows to cover it, its pageblocks join
   * the node's ZONE_DEVICE zone (spanned, never managed: no page of it
   * reaches the free lists) and the pgmap is found by pfn from now on.
   */
  memremapRange(p: DevPagemap): 0 | MemremapError {
    const pb = 2 ** this.pbOrder;
    const { startPfn: start, nrPages: nr, nid } = p;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(nr) || nr <= 0 || start % pb !== 0 || nr % pb !== 0) return "EINVAL";
    if (nid < 0 || nid >= this.nodes.length) return "EINVAL";
    if (start < this.totalPages) return "ENXIO";
    if ((start + nr) * this.pageSize > 2 ** this.physBits || start + nr > 2 ** 32) return "EINVAL";
    if (this.pagemaps.overlaps(start, nr)) return "ENOMEM";
    const m = this.memmap;
    m.growTo(start + nr);
    const old = this.deviceZones.get(nid);
    const index = old?.index ?? this.allZones.length;
    const zs = old === undefined ? start : Math.min(old.startPfn, start);
    const ze = old === undefined ? start + nr : Math.max(old.endPfn, start + nr);
    // resize_zone_range: the zone spans every device range of its node.
    const z = new Zone(m, this.large, { nid, name: "Device", index, startPfn: zs, endPfn: ze, maxOrder: this.maxOrder, pageSize: this.pageSize, managedPages: 0 });
    this.allZones[index] = z;
    this.deviceZones.set(nid, z);
    m.pbZone.fill(index, start / pb, (start + nr) / pb);
    m.pbMigratetype.fill(MIGRATE_MOVABLE, start / pb, (start + nr) / pb);
    this.pagemaps.add(p);
    return 0;
  }

  /** memunmap_pages' hotplug half: the range leaves pgmap_array (its pages must be idle: the caller checks). */
  memunmapRange(p: DevPagemap): boolean {
    return this.pagemaps.remove(p);
  }

  nidOf(pfn: number): number {
    return this.zoneOf(pfn).nid;
  }

  /**
   * Batch what page-by-page freeing does in one step where that leaves the
   * same state (KernelConfig.fastPaths): n order-0 frees onto the pcp list
   * at once, and a pcp bulk free of a naturally aligned run of pages as
   * one buddy block.
   */
  fastPaths = true;

  /** Set by the folio layer: is this allocated page movable (an LRU folio)? */
  isMovable: (pfn: number) => boolean = () => false;

  /** Free pages in the buddy lists of all zones. */
  get nrFreePages(): number {
    let n = 0;
    for (const z of this.zones) n += z.freePages;
    return n;
  }

  /** Free pages including the pcp lists. */
  get freePagesWithPcp(): number {
    let n = 0;
    for (const z of this.zones) n += z.freeIncludingPcp;
    return n;
  }

  /** Zonelists built so far, by node and the gfp bits that shape them (zones never change after boot). */
  private readonly zonelists = new Map<number, readonly Zone[]>();

  /** The zones an allocation may use, in preference order (the zonelist): highest zone first, local node first. */
  zonelist(nid: number, gfp: number): readonly Zone[] {
    const movable = (gfp & __GFP_MOVABLE) !== 0;
    const thisNode = (gfp & __GFP_THISNODE) !== 0;
    const key = nid * 4 + (movable ? 2 : 0) + (thisNode ? 1 : 0);
    const cached = this.zonelists.get(key);
    if (cached !== undefined) return cached;
    const order: number[] = [nid];
    if (!thisNode) for (let i = 1; i < this.nodes.length; i++) order.push((nid + i) % this.nodes.length);
    const out: Zone[] = [];
    for (const n of order) {
      const zs = this.nodes[n]!.zones;
      for (let i = zs.length - 1; i >= 0; i--) {
        const z = zs[i]!;
        if (z.name === "Movable" && !movable) continue;
        out.push(z);
      }
    }
    this.zonelists.set(key, out);
    return out;
  }

  /**
   * __alloc_pages: a block of 2^order pages, or -1 when memory cannot be found
   * even after the slow path (the caller reports ENOMEM or falls back).
   */
  allocPages(order: number, gfp: number, nid = 0): number {
    const mt = gfpMigratetype(gfp);
    const zl = this.zonelist(nid, gfp);
    const pfn = this.getFromFreelist(zl, order, mt, "low");
    if (pfn >= 0) return pfn;
    return this.allocSlowpath(zl, order, gfp, nid, mt);
  }

  /**
   * Whether `n` order-0 allocations in a row would all come from the
   * preferred zone's pcp path, each passing the low watermark check: the
   * zone stays above it even after the refills the run may take.
   */
  canAllocBulk(n: number, gfp: number, nid: number): boolean {
    return this.bulkZone(n, gfp, nid) !== undefined;
  }

  /** The preferred zone when a bulk of `n` can come from it (canAllocBulk), else undefined. */
  private bulkZone(n: number, gfp: number, nid: number): Zone | undefined {
    const z = this.zonelist(nid, gfp)[0];
    return z !== undefined && z.freePages - n - z.pcp.batch > z.wmarkLow ? z : undefined;
  }

  /**
   * `n` order-0 pages into `out`, exactly as `n` calls of allocPages would
   * hand them out. While the preferred zone stays clear of its low
   * watermark for the whole run (so that each call would pass the same
   * check and take the same pcp path), they are taken in one tight loop;
   * otherwise page by page. Returns how many were had (it stops at the
   * first failure, as those calls would).
   */
  allocPagesBulk(n: number, gfp: number, nid: number, out: number[]): number {
    const z = this.bulkZone(n, gfp, nid);
    if (z === undefined) {
      for (let i = 0; i < n; i++) {
        const pfn = this.allocPages(0, gfp, nid);
        if (pfn < 0) return i;
        out.push(pfn);
      }
      return n;
    }
    const mt = gfpMigratetype(gfp);
    for (let i = 0; i < n; i++) out.push(this.rmqueue(z, 0, mt));
    this.events[z.name === "Movable" ? EV.pgalloc_movable : EV.pgalloc_normal]! += n;
    z.allocatedPages += n;
    this.nodeStats(z.nid)[NS.nr_free_pages] = this.nodeFree(z.nid);
    return n;
  }

  private getFromFreelist(zl: readonly Zone[], order: number, mt: number, mark: "min" | "low"): number {
    for (const z of zl) {
      if (!z.watermarkOk(order, mark === "low" ? z.wmarkLow : z.wmarkMin)) continue;
      const pfn = this.rmqueue(z, order, mt);
      if (pfn >= 0) {
        this.events[z.name === "Movable" ? EV.pgalloc_movable : EV.pgalloc_normal]! += 1 << order;
        z.allocatedPages += 1 << order;
        this.nodeStats(z.nid)[NS.nr_free_pages] = this.nodeFree(z.nid);
        return pfn;
      }
    }
    return -1;
  }

  /** __alloc_pages_slowpath, bounded: kswapd, min watermark, compaction for costly orders, direct reclaim, retry. */
  private allocSlowpath(zl: readonly Zone[], order: number, gfp: number, nid: number, mt: number): number {
    const sp = this.slowpath;
    if (sp !== undefined && gfp & __GFP_KSWAPD_RECLAIM) sp.kswapd(nid, order);
    let pfn = this.getFromFreelist(zl, order, mt, "min");
    if (pfn >= 0 || sp === undefined || (gfp & __GFP_DIRECT_RECLAIM) === 0) return pfn;
    const costly = order > PAGE_ALLOC_COSTLY_ORDER;
    if (costly) {
      this.events[EV.compact_stall]!++;
      if (sp.compact(nid, order, gfp)) {
        pfn = this.getFromFreelist(zl, order, mt, "min");
        if (pfn >= 0) {
          this.events[EV.compact_success]!++;
          return pfn;
        }
      }
      this.events[EV.compact_fail]!++;
      if (gfp & __GFP_NORETRY) return -1;
    }
    for (let retry = 0; retry < 16; retry++) {
      this.events[EV.allocstall_normal]!++;
      const reclaimed = sp.directReclaim(nid, order, gfp);
      pfn = this.getFromFreelist(zl, order, mt, "min");
      if (pfn >= 0) return pfn;
      if (order > 0 && sp.compact(nid, order, gfp)) {
        pfn = this.getFromFreelist(zl, order, mt, "min");
        if (pfn >= 0) return pfn;
      }
      if (reclaimed === 0 || (costly && gfp & __GFP_NORETRY)) break;
    }
    return -1;
  }

  /** rmqueue: through the pcp lists for pcp orders, straight from the buddy otherwise. */
  private rmqueue(z: Zone, order: number, mt: number): number {
    const pcp = z.pcp;
    if (!pcp.allowed(order)) return z.rmqueueBuddy(order, mt);
    const list = pcp.lists[pcp.pindex(order, mt)]!;
    if (list.length === 0) {
      // rmqueue_bulk: refill in physical order at the tail (the array's front).
      const batch = order === 0 ? pcp.batch : Math.max(pcp.batch >> order, 2);
      const got: number[] = [];
      for (let i = 0; i < batch; i++) {
        const pfn = z.rmqueueBuddy(order, mt);
        if (pfn < 0) break;
        got.push(pfn);
      }
      if (got.length === 0) return -1;
      // rmqueue_bulk adds each block at the tail of the (empty) list: the first block ends up at the head.
      for (let i = got.length - 1; i >= 0; i--) list.pushHead(got[i]!);
      pcp.count += got.length * (1 << order);
    }
    const pfn = list.popHead();
    pcp.count -= 1 << order;
    return pfn;
  }

  /** free_unref_page / __free_pages_ok: back to the pcp head, or the buddy; drain a batch when over high. */
  freePages(pfn: number, order: number): void {
    if (order > this.maxOrder) {
      // free_contig_range: a block above MAX_PAGE_ORDER goes back as MAX_PAGE_ORDER blocks.
      for (let i = 0; i < (1 << order); i += 2 ** this.maxOrder) this.freePages(pfn + i, this.maxOrder);
      return;
    }
    const z = this.zoneOf(pfn);
    const mt = z.migratetypeOf(pfn);
    z.allocatedPages -= 1 << order;
    this.events[EV.pgfree]! += 1 << order;
    const pcp = z.pcp;
    if (!pcp.allowed(order)) {
      z.freeOne(pfn, order, mt);
    } else {
      const pindex = pcp.pindex(order, mt);
      pcp.lists[pindex]!.pushHead(pfn);
      pcp.count += 1 << order;
      // NR_FREE_PAGES counts the buddy lists only: it moves when a batch goes back to them.
      if (pcp.count < pcp.high) return;
      this.freePcppagesBulk(z, pcp.batch, pindex);
    }
    this.nodeStats(z.nid)[NS.nr_free_pages] = this.nodeFree(z.nid);
  }

  /**
   * `n` order-0 frees of `pfns` in turn (free_unref_folios for a batch of
   * folios): the same pcp pushes and bulk frees as n freePages calls, with
   * the zone and counters looked up once while the pages share a zone and
   * a migratetype.
   */
  freeOrder0Pages(pfns: ArrayLike<number>, n: number): void {
    if (!this.fastPaths) {
      for (let j = 0; j < n; j++) this.freePages(pfns[j]!, 0);
      return;
    }
    let j = 0;
    while (j < n) {
      const first = pfns[j]!;
      const z = this.zoneOf(first);
      const mt = z.migratetypeOf(first);
      const pcp = z.pcp;
      if (!pcp.allowed(0)) {
        this.freePages(first, 0);
        j++;
        continue;
      }
      const pindex = pcp.pindex(0, mt);
      const list = pcp.lists[pindex]!;
      const zoneIdx = this.memmap.pbZone[this.memmap.pageblock(first)]!;
      let drained = false;
      let k = j;
      for (; k < n; k++) {
        const pfn = pfns[k]!;
        const pb = this.memmap.pageblock(pfn);
        if (this.memmap.pbZone[pb] !== zoneIdx || this.memmap.pbMigratetype[pb] !== mt) break;
        list.pushHead(pfn);
        pcp.count++;
        if (pcp.count >= pcp.high) {
          this.freePcppagesBulk(z, pcp.batch, pindex);
          drained = true;
        }
      }
      z.allocatedPages -= k - j;
      this.events[EV.pgfree]! += k - j;
      if (drained) this.nodeStats(z.nid)[NS.nr_free_pages] = this.nodeFree(z.nid);
      j = k;
    }
  }

  /**
   * free_pcppages_bulk: free `count` pages from the lists' tails, taking the
   * lists round robin after `pindex` and draining each (up to the count)
   * before moving on, as the kernel does.
   */
  private freePcppagesBulk(z: Zone, count: number, pindex = -1): void {
    const pcp = z.pcp;
    const lists = pcp.lists;
    let idx = pindex;
    while (count > 0 && pcp.count > 0) {
      let list: PcpList;
      do {
        idx = idx + 1 === lists.length ? 0 : idx + 1;
        list = lists[idx]!;
      } while (list.length === 0);
      const order = pcp.orderOf(idx);
      const nr = 1 << order;
      while (count > 0 && list.length > 0) {
        const pfn = list.popTail();
        count -= nr;
        pcp.count -= nr;
        const next = list.peekTail();
        if (order !== 0 || !this.fastPaths || (next !== pfn + 1 && next !== pfn - 1)) {
          z.freeOne(pfn, order, z.migratetypeOf(pfn));
          continue;
        }
        // A run of consecutive pages of one pageblock taken in turn, upwards or downwards: freed as the
        // aligned blocks their merging would make, each when its last page would have been freed.
        const step = next - pfn;
        const pbShift = this.memmap.pbShift;
        let len = 1;
        while (count > 0 && list.peekTail() === pfn + step * len && (pfn + step * len) >>> pbShift === pfn >>> pbShift) {
          list.popTail();
          len++;
          count--;
          pcp.count--;
        }
        const mt = z.migratetypeOf(pfn);
        const lo = step > 0 ? pfn : pfn - len + 1;
        const hi = lo + len;
        if (step > 0) {
          for (let x = lo; x < hi; ) {
            let o = 0;
            while (x % (2 << o) === 0 && x + (2 << o) <= hi) o++;
            z.freeOne(x, o, mt);
            x += 1 << o;
          }
        } else {
          for (let e = hi; e > lo; ) {
            let o = 0;
            while ((e - (2 << o)) % (2 << o) === 0 && e - (2 << o) >= lo) o++;
            z.freeOne(e - (1 << o), o, mt);
            e -= 1 << o;
          }
        }
      }
    }
  }

  /** drain_all_pages: everything on the pcp lists back to the buddy (compaction and checks use it). */
  drainPcp(): void {
    for (const z of this.zones) {
      if (z.pcp.count > 0) this.freePcppagesBulk(z, z.pcp.count);
      this.nodeStats(z.nid)[NS.nr_free_pages] = this.nodeFree(z.nid);
    }
  }

  /** Take a specific free, pcp-drained block (alloc_contig_range's final step). */
  takeFreeRange(pfn: number, order: number): boolean {
    const z = this.zoneOf(pfn);
    if (!z.takeFreeRange(pfn, order)) return false;
    z.allocatedPages += 1 << order;
    this.nodeStats(z.nid)[NS.nr_free_pages] = this.nodeFree(z.nid);
    return true;
  }

  /** The zones' largest free order, for allocation checks. */
  largestFreeOrder(): number {
    let o = -1;
    for (const z of this.zones) o = Math.max(o, z.largestFreeOrder());
    return o;
  }
}
