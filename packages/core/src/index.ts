// The kernel object and its configuration.
export { Kernel, type TlbStats, type CoreFlushReason } from "./kernel/kernel";
export { KERNEL_VERSIONS, resolveConfig, type KernelConfig, type KernelVersion, type ResolvedConfig, type SwapKind } from "./kernel/config";
export { Features, type KernelFeature, type ViolationReport } from "./kernel/feature";

// Address spaces, VMAs and the system calls on them.
export { Mm, MMF_HAS_PINNED, MMF_DISABLE_THP, MMF_DISABLE_THP_EXCEPT_ADVISED, MMF_HUGE_ZERO_FOLIO, MMF_VM_HUGEPAGE } from "./mm/mm";
export { Vma, type VmaKind } from "./mm/vma";
export * from "./mm/vm-flags";
export * from "./mm/counters";
export { ERRNO, sysOk, sysErr, hex, type Errno, type SysOk, type SysErr, type SysResult } from "./mm/errno";
export { sysMmap, sysMunmap, sysMprotect, sysMremap, sysMadvise } from "./mm/syscalls";
export { MAP_DROPPABLE, MAP_GROWSDOWN, MAP_LOCKED, MAP_HUGETLB, MAP_STACK, type MmapArgs, type MmapDone } from "./mm/mmap";
export { MADV_HWPOISON, MADV_SOFT_OFFLINE, MADV_GUARD_INSTALL, MADV_GUARD_REMOVE, type MadviseReclaimOps, type MadviseLockMode } from "./mm/madvise";
export { defaultHugeVmaOps, type HugeVmaOps } from "./mm/huge-vma-ops";
export { MMAP_MIN_ADDR, defaultAlignFor, vmUnmappedArea, vmStartGap, taskUnmappedBase, type AlignFor, type UnmappedAreaInfo } from "./mm/unmapped-area";
export { zapPageRange, mmCounter, type HugeZap, type ZapDetails } from "./mm/zap";
export { GUP_PIN_COUNTING_BIAS, folioMaybeDmaPinned, folioNeedsCowForDma, type HugeCopy } from "./mm/fork";
export { registerMapHugetlb, mapHugetlbSetupOf, type FileMmapOps, type MapHugetlbSetup } from "./mm/file-mmap";
export type { TouchResult } from "./mm/touch";

// Faults, GUP, migration.
export * from "./fault/codes";
export type { FaultHandlers } from "./fault/handle";
export { FOLL_WRITE, FOLL_GET, FOLL_FORCE, FOLL_NOFAULT, FOLL_ANON, FOLL_LONGTERM, FOLL_REMOTE, FOLL_PIN, type GupResult, type HugeFollow, type LongtermMigrate } from "./gup/gup";
export { MigrateReason, type MigrationJob, type NewFolio } from "./migrate/migrate";
export { MPOL_MF_MOVE, MPOL_MF_MOVE_ALL, type MovePagesJob } from "./migrate/move-pages";
export { CLEAR_REFS_ALL, CLEAR_REFS_ANON, CLEAR_REFS_MAPPED, CLEAR_REFS_SOFT_DIRTY, CLEAR_REFS_MM_HIWATER_RSS } from "./mm/clear-refs";
export { allocContig } from "./migrate/contig";

// Files and reverse maps.
export { AddressSpace } from "./file/address-space";
export { Rmap, type DeferredSplitHook } from "./rmap/rmap";
export { rmapWalk, pageVmaMappedWalk, type MappedAt } from "./rmap/walk";

// Physical memory, folios and page tables.
export * from "./phys/gfp";
export * from "./phys/migratetype";
export * from "./phys/page-flags";
export { PhysMem, type PhysConfig, type AllocSlowpath, type NodeMem } from "./phys/phys";
export { Zone, PerCpuPages, PAGE_ALLOC_COSTLY_ORDER, zoneBatchsize, type ZoneName } from "./phys/zone";
export { Memmap, MemSection, LargeFolios, type FolioContents } from "./phys/memmap";
export { Folios } from "./folio/folios";
export { ZERO_FILL, contentTag, mixTag } from "./folio/contents";
export { FOLIO_BATCH_SIZE, folioBatchContents, lruAddDrain } from "./folio/lru-batch";
export * from "./folio/lru";
export { PageTables, type TableInfo } from "./pgtable/tables";
export { walkLogical, logicalCensus, type LogicalEntry } from "./pgtable/logical-walk";
export { Walker, Slot, WALK_OK, WALK_NONE, WALK_ENOMEM, WALK_LEAF, WALK_SOFTLEAF, WALK_BAD, type WalkStatus } from "./pgtable/walker";

// Counters and the kernel's report views.
export * from "./stats/counters";
export * from "./stats/meminfo";
export * from "./stats/vmstat";
export * from "./stats/smaps";
export * from "./stats/thp";

// Huge pages.
export { ThpSettings, type GlobalEnabled, type AnonEnabled, type Defrag, type PudDeposit } from "./huge/settings";
export { thpVmaAllowableOrders, thpVmaSuitableOrder, TVA_SMAPS, TVA_PAGEFAULT, TVA_KHUGEPAGED, TVA_FORCED_COLLAPSE, type TvaType } from "./huge/orders";
export { splitFolio, piecesOf, type SplitError, type SplitOptions } from "./huge/folio-split";
export { DeferredSplitQueue } from "./huge/deferred-split";
export { HugeZeroFolio } from "./huge/zero-folio";
export { deferredSplitScan, shrinkSlab, thpUnderused } from "./huge/shrinker";
export * from "./huge/collapse-primitives";

// Checking.
export { checkInvariants, installChecker, InvariantViolation, type Violation } from "./check/invariants";
export { Lock, LockTracker, type LockRank, type LockClass } from "./util/locks";
export { ModelInputError, ModelBug } from "./util/errors";
export { parseSize, formatSize } from "./util/size";
export { Rng } from "./util/rng";

// Report views for the CLI: tools/mm/thpmaps, TLB coverage, the walk of one address.
export { thpmaps, formatThpmaps, contOrder, type Thpmaps, type ThpmapsOptions, type ThpmapsStat, type ThpmapsType, type ThpmapsVma, type ThpmapsTotals } from "./stats/thpmaps";
export { tlbCoverage, mmTablePages, type TlbCoverage, type TlbSizeCount } from "./stats/tlb";
export { walkAddress, formatWalk, folioAt, type AddressWalk, type WalkLevel, type WalkEnd, type WalkSoftleaf, type WalkHardware, type WalkFolio, type FolioType } from "./stats/walk";

// ZONE_DEVICE: what the generic paths know of device memory (the pgmaps and drivers are a feature package's).
export * from "./phys/zone-device";
export { folioPut } from "./folio/put";
export { tryToMigrate, removeMigrationPtes, type TtuOpts } from "./migrate/migration-entries";
export { isolateForMigration, putbackFolio } from "./migrate/migrate";
export { splitHugeEntry } from "./huge/split-entry";
export { restoreExclusivePte } from "./mm/device-exclusive";
export { splitUnmappedFolio } from "./huge/folio-split";
export { moveToNewFolio, expectedRefs } from "./migrate/move";
export { anonVmaPrepare } from "./fault/anon";
export { allocSplitTables, depositSplitTables, freeSplitTables, type SplitTables } from "./huge/deposit";
export { mkHugeEntry } from "./huge/map";
