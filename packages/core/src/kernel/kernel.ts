import type { ArchBackend, Geometry, Level, PageTableContext, TlbFlushReason } from "@hugemm/arch";
import { Folios } from "../folio/folios";
import { Lru } from "../folio/lru";
import { Mm } from "../mm/mm";
import { GFP_KERNEL } from "../phys/gfp";
import { PG_reserved, PGTY_zero } from "../phys/page-flags";
import { PhysMem } from "../phys/phys";
import { PageTables } from "../pgtable/tables";
import { AnonVmas } from "../rmap/anon-vma";
import { Rmap } from "../rmap/rmap";
import { Swap } from "../swap/swap";
import { PageCache } from "../file/filemap";
import { AddressSpace } from "../file/address-space";
import { FAULT_FLAG_USER, FAULT_FLAG_WRITE } from "../fault/codes";
import { doFault } from "../fault/file";
import { handlePteFault, userFault, type FaultHandlers } from "../fault/handle";
import { doSwapPage, shmemSwapin, type DevicePrivateFault } from "../fault/swapin";
import { exitMmap } from "../mm/exit";
import { peekTag, touchRange, type TouchResult } from "../mm/touch";
import type { Vma } from "../mm/vma";
import type { HugeZap } from "../mm/zap";
import { parseSize } from "../util/size";
import type { SysResult } from "../mm/errno";
import type { HugeVmaOps } from "../mm/huge-vma-ops";
import { hugeVmaOpsImpl } from "../huge/vma-ops";
import { zapHuge } from "../huge/zap";
import { copyHuge } from "../huge/copy";
import { followHuge } from "../huge/follow";
import { hugeFault } from "../huge/fault";
import { thpAlignFor } from "../huge/align";
import type { MadviseReclaimOps } from "../mm/madvise";
import type { MmapArgs } from "../mm/mmap";
import { sysMadvise, sysMmap, sysMprotect, sysMremap, sysMunmap } from "../mm/syscalls";
import type { AlignFor } from "../mm/unmapped-area";
import { releaseAnonShmem } from "../mm/vma-ops";
import { installChecker } from "../check/invariants";
import { compactNode } from "../migrate/compaction";
import { madvColdOrPageout, madvFree } from "../vmscan/madvise";
import { directReclaim, kswapd, newScanControl, shrinkNode } from "../vmscan/shrink";
import { getUserPages, releasePages, type GupResult, type HugeFollow, type LongtermMigrate } from "../gup/gup";
import { migrateLongtermUnpinnable } from "../migrate/longterm";
import { dupMmap, type HugeCopy } from "../mm/fork";
import { finishMigration, type MigrationJob } from "../migrate/migrate";
import { MPOL_MF_MOVE_ALL, movePagesRange, type MovePagesJob } from "../migrate/move-pages";
import { clearRefs } from "../mm/clear-refs";
import { ModelInputError } from "../util/errors";
import { newEvents, newModelEvents, newMthpStats, newNodeStats } from "../stats/counters";
import { ThpSettings } from "../huge/settings";
import { HugeZeroFolio } from "../huge/zero-folio";
import { DeferredSplitQueue } from "../huge/deferred-split";
import { splitFolio, type SplitError } from "../huge/folio-split";
import { splitHugePagesPid } from "../huge/split-debug";
import { dropSlab } from "../huge/shrinker";
import { folioPut } from "../folio/put";
import { ModelBug } from "../util/errors";
import { LockTracker } from "../util/locks";
import { Rng } from "../util/rng";
import { resolveConfig, type KernelConfig, type ResolvedConfig } from "./config";
import { Features, type KernelFeature } from "./feature";

/** TLB invalidations the model would have issued, by reason. */
export interface TlbStats {
  flushes: number;
  /** Base pages the flushed ranges covered. */
  pages: number;
  readonly byReason: Map<TlbFlushReason | CoreFlushReason, number>;
}

/** Why the core itself flushes a range (the arch helpers report their own reasons). */
export type CoreFlushReason = "munmap" | "mprotect" | "mremap" | "cow" | "reclaim" | "migrate" | "split" | "clear-refs" | "collapse";

/**
 * One modelled machine running one kernel: physical memory, the page
 * allocator, folios, LRU lists, page tables, reverse maps, processes and
 * their address spaces, on one arch backend.
 */
export class Kernel {
  readonly config: ResolvedConfig;
  readonly backend: ArchBackend;
  readonly geometry: Geometry;
  readonly pageSize: number;
  readonly pageShift: number;
  /** vm_event_item counters. */
  readonly events: Float64Array;
  /** Events of the model the kernel has no counter for (MODEL_EVENTS). */
  readonly modelEvents = newModelEvents();
  /** Per-size THP stats (/sys/kernel/mm/transparent_hugepage/hugepages-<size>kB/stats), [order * MTHP_STRIDE + stat]. */
  readonly mthpStats: Float64Array;
  /** /sys/kernel/mm/transparent_hugepage. */
  readonly thp: ThpSettings;
  readonly hugeZero = new HugeZeroFolio();
  /** The deferred split queue of large anonymous folios. */
  readonly deferredSplit: DeferredSplitQueue;
  readonly phys: PhysMem;
  readonly folios: Folios;
  readonly lru: Lru;
  readonly tables: PageTables;
  readonly rmap: Rmap;
  readonly anonVmas: AnonVmas;
  /** Address spaces of files and shmem, by mapping id. */
  readonly files = new Map<number, AddressSpace>();
  readonly locks: LockTracker;
  readonly rng: Rng;
  /** The shared zero page (empty_zero_page). */
  readonly zeroPfn: number;
  readonly tlb: TlbStats = { flushes: 0, pages: 0, byReason: new Map() };
  /** The context arch page-table operations run in for user mms. */
  readonly ptCtx: PageTableContext;
  readonly mms = new Map<number, Mm>();
  /** Folios taking part in a migration in progress: each holds one extra reference until it finishes. */
  readonly migrating = new Map<number, "src" | "dst">();
  /** References held outside the model's own structures (GUP gets and pins), per folio head, in refcount units. */
  readonly heldRefs = new Map<number, number>();
  private readonly fh: FaultHandlers;
  /** zap_huge_pmd / zap_huge_pud. */
  hugeZap: HugeZap = zapHuge;
  /** copy_huge_pmd / copy_huge_pud at fork. */
  hugeCopy: HugeCopy = copyHuge;
  /** follow_huge_pmd / follow_huge_pud for GUP. */
  hugeFollow: HugeFollow = followHuge;
  /** mprotect / mremap / VMA-boundary handling of huge entries: installed by the huge-page layer. */
  hugeVmaOps: HugeVmaOps = hugeVmaOpsImpl;
  /** THP alignment of get_unmapped_area: the kernel's PMD rule, widened to PUD size where PUD THP is enabled. */
  alignFor: AlignFor | undefined = undefined;
  /** The advice madvise hands to reclaim and khugepaged. */
  madviseOps: MadviseReclaimOps = {
    free: (k, mm, vma, start, end) => (madvFree(k, mm, vma, start, end), 0),
    pageout: (k, mm, vma, start, end) => (madvColdOrPageout(k, mm, vma, start, end, true), 0),
    cold: (k, mm, vma, start, end) => (madvColdOrPageout(k, mm, vma, start, end, false), 0),
    collapse: () => "EINVAL",
  };
  /** Migrating pages out of ZONE_MOVABLE before a long-term pin (migrate_longterm_unpinnable_folios). */
  longtermMigrate: LongtermMigrate = migrateLongtermUnpinnable;
  /** A large folio is being freed (the deferred split queue drops it): installed by the huge-page layer. */
  largeFolioFreed: (head: number) => void = () => {};
  /** Faults on device-private entries: installed by a device driver. */
  devicePrivateFault: DevicePrivateFault = () => {
    throw new ModelBug("fault on a device-private entry, but no device driver is installed");
  };
  readonly swap: Swap;
  readonly pagecache: PageCache;
  /** Feature packages installed on this kernel (khugepaged, hugetlb, device memory). */
  readonly features = new Features();
  private nextPid = 1;
  private nextMappingId = 1;

  constructor(cfg: KernelConfig) {
    this.config = resolveConfig(cfg);
    const c = this.config;
    this.backend = c.backend;
    this.geometry = c.backend.geometry;
    this.pageSize = this.geometry.pageSize;
    this.pageShift = this.geometry.pageShift;
    this.events = newEvents();
    this.mthpStats = newMthpStats();
    this.thp = new ThpSettings(c.backend, c.memoryBytes);
    this.phys = new PhysMem(
      {
        pageShift: this.pageShift,
        maxOrder: c.maxOrder,
        pbOrder: c.pbOrder,
        memoryBytes: c.memoryBytes,
        nodes: c.nodes,
        movableBytesPerNode: c.movableBytesPerNode,
        physBits: this.geometry.physBits,
      },
      this.events,
      newNodeStats,
    );
    this.phys.fastPaths = c.fastPaths;
    this.folios = new Folios(this.phys);
    this.lru = new Lru(this.folios, this.phys);
    this.tables = new PageTables(this.backend, this.phys, this.folios);
    this.rmap = new Rmap(this.folios, this.phys, this.pageSize, this.mthpStats);
    this.deferredSplit = new DeferredSplitQueue(this);
    this.rmap.deferredSplit = (head) => this.deferredSplit.queue(head, true);
    this.largeFolioFreed = (head) => void this.deferredSplit.unqueue(head);
    this.anonVmas = new AnonVmas(() => this.newMappingId());
    this.locks = new LockTracker(c.check);
    this.rng = new Rng(c.seed);
    this.zeroPfn = this.allocZeroPage();
    this.swap = new Swap(this, c.swapBytes / this.pageSize);
    this.pagecache = new PageCache(this);
    this.alignFor = thpAlignFor(this);
    if (c.check) installChecker(this);
    this.phys.slowpath = {
      kswapd: (nid) => void kswapd(this, nid),
      directReclaim: (nid) => directReclaim(this, nid),
      compact: (nid, order) => compactNode(this, nid, order),
    };
    this.fh = {
      doFault: (k, mm, vma, addr, flags, slot) => doFault(k, mm, vma, addr, flags, slot, (as, index, nid) => shmemSwapin(k, as, index, nid)),
      doSwapPage: (k, mm, vma, addr, flags, slot, orig) =>
        doSwapPage(k, mm, vma, addr, flags, slot, orig, this.fh, this.devicePrivateFault, (k2, mm2, vma2, addr2, flags2, slot2) => handlePteFault(k2, mm2, vma2, addr2, flags2, slot2, this.fh)),
      hugeFault,
      freeSwap: (head) => this.swap.folioFreeSwap(head),
    };
    const folios = this.folios;
    const tlb = this.tlb;
    const pageSize = this.pageSize;
    this.ptCtx = {
      user: true,
      folioCovers(pfn: number, nr: number): boolean {
        const head = folios.head(pfn);
        return head <= pfn && pfn + nr <= head + folios.nrPages(head);
      },
      flushTlbRange(start: number, end: number, _stride: number, _level: Level, reason: TlbFlushReason): void {
        tlb.flushes++;
        // Base pages covered, as flushTlb counts them: the stride is only the invalidation granule.
        tlb.pages += (end - start) / pageSize;
        tlb.byReason.set(reason, (tlb.byReason.get(reason) ?? 0) + 1);
      },
    };
  }

  /** Base pages one entry at `level` maps. */
  pagesAt(level: Level): number {
    return 2 ** (this.geometry.levels[level]!.shift - this.pageShift);
  }

  /** Account `n` refcount units held by a user of GUP on the folio at `head` (negative to release). */
  holdRef(head: number, n: number): void {
    const v = (this.heldRefs.get(head) ?? 0) + n;
    if (v === 0) this.heldRefs.delete(head);
    else this.heldRefs.set(head, v);
  }

  /** A unique id for an anon_vma or address space (they share folio->mapping). */
  newMappingId(): number {
    return this.nextMappingId++;
  }

  private allocZeroPage(): number {
    const pfn = this.phys.allocPages(0, GFP_KERNEL);
    if (pfn < 0) throw new ModelBug("no memory for the zero page");
    this.folios.prep(pfn, 0);
    this.folios.section(pfn).flags[pfn & this.phys.memmap.pbMask]! |= PGTY_zero | PG_reserved;
    return pfn;
  }

  /** Install a feature package on this kernel; returns it. */
  use<F extends KernelFeature>(feature: F): F {
    this.features.add(feature);
    return feature;
  }

  /** The installed feature called `name`, or undefined. */
  feature<F extends KernelFeature>(name: string): F | undefined {
    return this.features.get<F>(name);
  }

  /** Record a TLB flush the core issues itself (munmap, mprotect, COW, reclaim, migration). */
  flushTlb(start: number, end: number, reason: CoreFlushReason): void {
    this.tlb.flushes++;
    this.tlb.pages += (end - start) / this.pageSize;
    this.tlb.byReason.set(reason, (this.tlb.byReason.get(reason) ?? 0) + 1);
  }

  /** A new process with an empty address space. */
  createMm(): Mm {
    const mm = new Mm(this, this.nextPid++);
    this.mms.set(mm.id, mm);
    return mm;
  }

  /** The process with `pid`, or undefined. */
  mm(pid: number): Mm | undefined {
    return this.mms.get(pid);
  }

  /** Every live process, in pid order. */
  processes(): Mm[] {
    return [...this.mms.values()];
  }

  /** The fault handlers the core's fault path dispatches to. */
  get faultHandlers(): FaultHandlers {
    return this.fh;
  }

  /** A user access fault at `addr` (the arch fault handler, then handle_mm_fault): the vm_fault_t result. */
  fault(mm: Mm, addr: number, write: boolean): number {
    return this.op("fault", () => userFault(this, mm, addr, FAULT_FLAG_USER | (write ? FAULT_FLAG_WRITE : 0), this.fh));
  }

  /** Loads or stores over a range, faulting as needed; stores with `seed` write a pattern. */
  touch(mm: Mm, start: number, len: number, write: boolean, seed?: number): TouchResult {
    return this.op("touch", () => touchRange(this, mm, start, len, write, this.fh, seed));
  }

  /** The contents tag of the page mapped at `va`, or -1 if nothing is mapped there. */
  peek(mm: Mm, va: number): number {
    return peekTag(this, mm, va);
  }

  /**
   * fork: a child process with a copy of `mm` (COW for private anonymous
   * memory). Returns null when memory ran out, as fork's -ENOMEM.
   */
  fork(mm: Mm): Mm | null {
    return this.op("fork", () => {
      const child = dupMmap(this, mm, this.hugeCopy, (c) => {
        exitMmap(this, c, this.hugeZap, (v) => this.unlinkFileVma(v));
        this.hugeZero.put(c);
      });
      if (child !== null) this.features.forked(this, mm, child);
      return child;
    });
  }

  /**
   * get_user_pages / pin_user_pages(_fast): `nr` pages from `start` with
   * FOLL_* `flags` (FOLL_GET or FOLL_PIN among them).
   */
  gup(mm: Mm, start: number, nr: number, flags: number, fast = true): GupResult {
    return this.op("gup", () => getUserPages(this, mm, start, nr, flags, fast, this.fh, this.hugeFollow, this.longtermMigrate));
  }

  /** unpin_user_pages(_dirty_lock) / put_page for a gup result. */
  unpin(res: GupResult, flags: number, dirty = false): void {
    this.op("unpin", () => releasePages(this, res.pages, flags, dirty));
  }

  /**
   * Migrate the folios mapped in [start, start + len) of `mm` to node `nid`
   * (move_pages with `flags`: MPOL_MF_MOVE_ALL, the default here, moves
   * folios other processes map too; MPOL_MF_MOVE leaves them with -EACCES).
   * Folios already on `nid` stay, as move_pages leaves them. With `hold`,
   * the folios stay unmapped behind migration entries until finishMigration
   * (faults on them wait).
   */
  migrateRange(mm: Mm, start: number, len: number, nid: number, hold = false, flags = MPOL_MF_MOVE_ALL): MovePagesJob {
    return this.op("migrate", () => movePagesRange(this, mm, start, len, nid, hold, flags));
  }

  /** A write of `type` (1-5) to /proc/pid/clear_refs. */
  clearRefs(mm: Mm, type: number): void {
    this.op("clear-refs", () => clearRefs(this, mm, type));
  }

  /** Finish a held migration: returns the folios moved. */
  finishMigration(job: MigrationJob): number {
    return this.op("migrate-finish", () => finishMigration(this, job));
  }

  /**
   * Memory pressure: reclaim at least `nr` pages from node `nid` as direct
   * reclaim would (shrink_node). Returns the pages reclaimed.
   */
  reclaim(nr: number, nid = 0): number {
    return this.op("reclaim", () => shrinkNode(this, nid, newScanControl(nr, false)));
  }

  /** Run kswapd on a node until its zones are above their high watermarks. */
  runKswapd(nid = 0): number {
    return this.op("kswapd", () => kswapd(this, nid));
  }

  /** /proc/sys/vm/compact_memory: compact every zone. */
  compactMemory(): void {
    this.op("compact", () => {
      for (const n of this.phys.nodes) compactNode(this, n.nid, -1);
    });
  }

  /** mmap(2): the mapped address, or the errno and why. */
  mmap(mm: Mm, args: MmapArgs): SysResult<number> {
    return sysMmap(this, mm, args);
  }

  /** munmap(2). */
  munmap(mm: Mm, addr: number, len: number): SysResult<0> {
    return sysMunmap(this, mm, addr, len);
  }

  /** mprotect(2) with PROT_* `prot`. */
  mprotect(mm: Mm, addr: number, len: number, prot: number): SysResult<0> {
    return sysMprotect(this, mm, addr, len, prot);
  }

  /** mremap(2) with MREMAP_* `flags`: the mapping's new address. */
  mremap(mm: Mm, oldAddr: number, oldLen: number, newLen: number, flags: number, newAddr = 0): SysResult<number> {
    return sysMremap(this, mm, oldAddr, oldLen, newLen, flags, newAddr);
  }

  /** madvise(2) with MADV_* `advice`. */
  madvise(mm: Mm, addr: number, len: number, advice: number): SysResult<0> {
    return sysMadvise(this, mm, addr, len, advice, this.madviseOps);
  }

  /**
   * Split the large folio at `head` to `order` (split_folio_to_order), or
   * with `at` only around that page (folio_split). Returns 0 or the errno.
   */
  splitFolio(head: number, order: number, at?: number): 0 | SplitError {
    return this.op("split-folio", () => {
      const f = this.folios;
      if (!Number.isInteger(head) || head < 0 || !f.isAllocated(head) || f.head(head) !== head) throw new ModelInputError("folio", head, "the head pfn of an allocated folio");
      f.ref(head);
      const r = splitFolio(this, head, order, at === undefined ? {} : { at });
      folioPut(this, f.head(at ?? head), 1);
      return r;
    });
  }

  /**
   * debugfs split_huge_pages for one process: split every THP mapped in
   * [start, end) of `mm` to `order` (at page `inFolioOffset` of each folio
   * with a non-uniform split when given). Returns [split, total].
   */
  splitHugePages(mm: Mm, start: number, end: number, order = 0, inFolioOffset = -1): [number, number] {
    return this.op("split-huge-pages", () => splitHugePagesPid(this, mm, start, end, order, inFolioOffset));
  }

  /** /proc/sys/vm/drop_caches = 2: run the shrinkers (deferred split queue, huge zero folio) to completion. */
  dropSlab(): number {
    return this.op("drop-slab", () => dropSlab(this));
  }

  /** The process exits: its whole address space is torn down. */
  exit(mm: Mm): void {
    this.op("exit", () => {
      this.features.exiting(this, mm);
      exitMmap(this, mm, this.hugeZap, (v) => this.unlinkFileVma(v));
      this.hugeZero.put(mm);
    });
  }

  /** A regular file of `size` bytes (its blocks hold a pattern derived from `seed`), or a shmem/tmpfs file. */
  createFile(name: string, size: number | string, opts: { shmem?: boolean; seed?: number } = {}): AddressSpace {
    const bytes = parseSize("file size", size);
    if (opts.shmem === true && opts.seed !== undefined) throw new ModelInputError("file seed", opts.seed, "no seed for a shmem file: a new shmem/memfd file reads as zeroes");
    const as = new AddressSpace(this.newMappingId(), name, bytes, opts.shmem ?? false, opts.seed ?? this.rng.u32());
    this.files.set(as.id, as);
    return as;
  }

  /** @internal Take a file VMA out of its mapping's i_mmap. */
  unlinkFileVma(v: Vma): void {
    if (v.file === null) return;
    v.file.iMmap.delete(v);
    // Shared anonymous memory's shmem file goes with its last mapping.
    releaseAnonShmem(this, v.file);
  }

  /**
   * Run one operation: with checking on, no lock may stay held and the
   * invariant checker runs afterwards.
   */
  op<T>(name: string, fn: () => T): T {
    // An operation made of others (a device command faulting pages in) is checked once, when it ends.
    this.opDepth++;
    let r: T;
    try {
      r = fn();
    } finally {
      this.opDepth--;
    }
    if (this.config.check && this.opDepth === 0) {
      this.locks.assertNoneHeld(name);
      this.afterOp(name);
    }
    return r;
  }

  /** How many operations are running, one inside another. */
  private opDepth = 0;

  /** Called after each operation when checking (the invariant checker installs itself here). */
  afterOp: (op: string) => void = () => {};

  /** The full check, whatever the checker's mode (the invariant checker installs itself here). */
  fullCheck: (op: string) => void = () => {};

  /**
   * A checkpoint: with checking on, run the full invariant check now (the
   * incremental checker also starts again from it). Throws
   * InvariantViolation when it fails.
   */
  checkpoint(name = "checkpoint"): void {
    if (this.config.check) this.fullCheck(name);
  }

  /** @internal Forget an exited mm. */
  dropMm(mm: Mm): void {
    this.mms.delete(mm.id);
  }
}
