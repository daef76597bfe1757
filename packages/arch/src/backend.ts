import type { Capabilities } from "./capabilities";
import type { DescribedEntry } from "./describe";
import type { EntryReg } from "./entry";
import type { Geometry } from "./geometry";
import type { Level } from "./level";
import type { ProtIndex } from "./prot";
import type { SoftleafFormat } from "./softleaf";
import type { PageTableContext } from "./tlb";
import type { HardwareWalk, TableStore, Translation, WalkAccess } from "./walk";

/** The contract version this package defines. Backends state the one they implement. */
export const SPECIFICATION_VERSION = "v1";

/**
 * A page-table format: one architecture in one configuration.
 *
 * Conventions shared by every method:
 * - An entry value is held in a register `(v, o)`: `v[o]` is bits 0..31 and
 *   `v[o+1]` bits 32..63 (0 on 32-bit arches). Modifiers change the register
 *   in place; nothing allocates.
 * - `level` is the logical level of the entry (PTE, PMD, PUD, ...), so one
 *   method serves what the kernel spells pte_*, pmd_* and pud_*.
 * - A table is the `Uint32Array` storage of one table page; entries are
 *   addressed by their logical index and read or written only through
 *   `readEntry` / `writeEntry` and the page-table operations, which know the
 *   arch's layout (8xx replicates cells; arm64 manages PTE_CONT).
 * - Addresses (va, pa) are byte addresses as numbers; pfns are numbers.
 */
export interface ArchBackend {
  readonly specificationVersion: "v1";
  /** "x86-64", "arm64", "ppc8xx", or a third-party name. */
  readonly arch: string;
  /** The configuration ("4level", "4k-48", "16k", ...). */
  readonly variant: string;
  /** `${arch}:${variant}`, accepted by the backend's factory to recreate it. */
  readonly id: string;
  /** A human description ("x86-64, 4-level paging, 48-bit VA"). */
  readonly description: string;
  readonly geometry: Geometry;
  readonly capabilities: Capabilities;
  readonly softleaf: SoftleafFormat;
  /** Bits in a swap entry's offset field. */
  readonly swapOffsetBits: number;
  /** Huge page sizes the arch maps (hugetlb and THP), ascending. */
  readonly hugeSizes: readonly HugeSize[];

  // ---- entry construction ------------------------------------------------

  /** pfn_pte / pfn_pmd / pfn_pud: an entry for `pfn` with the protection vm_get_page_prot(prot). Not huge. */
  pfnEntry(out: EntryReg, o: number, level: Level, pfn: number, prot: ProtIndex): void;
  /** pmd_mkhuge / pud_mkhuge. No-op at PTE level. */
  mkhuge(v: EntryReg, o: number, level: Level): void;
  /** pXd_populate: an entry at `level` pointing to a table at physical address `tablePa`. */
  tableEntry(out: EntryReg, o: number, level: Level, tablePa: number, user: boolean): void;
  /** pte_modify / pmd_modify: replace the protection, keeping pfn, young, dirty and software state. */
  modify(v: EntryReg, o: number, level: Level, prot: ProtIndex): void;

  // ---- predicates ----------------------------------------------------------

  none(v: EntryReg, o: number, level: Level): boolean;
  present(v: EntryReg, o: number, level: Level): boolean;
  /** pmd_leaf / pud_leaf (a present PTE is always a leaf). */
  leaf(v: EntryReg, o: number, level: Level): boolean;
  /** pmd_trans_huge / pud_trans_huge. */
  transHuge(v: EntryReg, o: number, level: Level): boolean;
  /** The entry points to a next-level table. */
  table(v: EntryReg, o: number, level: Level): boolean;
  /** pmd_bad / pud_bad as the arch defines it: a non-none entry that is not a valid table pointer (huge leaves are "bad"); false for none. */
  bad(v: EntryReg, o: number, level: Level): boolean;
  write(v: EntryReg, o: number, level: Level): boolean;
  dirty(v: EntryReg, o: number, level: Level): boolean;
  young(v: EntryReg, o: number, level: Level): boolean;
  special(v: EntryReg, o: number, level: Level): boolean;
  softDirty(v: EntryReg, o: number, level: Level): boolean;
  uffdWp(v: EntryReg, o: number, level: Level): boolean;
  /** pte_protnone / pmd_protnone (NUMA hinting). */
  protnone(v: EntryReg, o: number, level: Level): boolean;
  /** The entry allows user-mode access (on 8xx this is decided by the PMD and is true for user leaves). */
  user(v: EntryReg, o: number, level: Level): boolean;
  /** The entry maps executable memory. */
  exec(v: EntryReg, o: number, level: Level): boolean;
  /** The entry carries the arch's contiguous hint (arm64 PTE_CONT). */
  cont(v: EntryReg, o: number, level: Level): boolean;
  /** pte_pfn / pmd_pfn / pud_pfn; at PMD and PUD the pfn of the block's first page. */
  pfn(v: EntryReg, o: number, level: Level): number;
  tablePa(v: EntryReg, o: number, level: Level): number;

  // ---- modifiers -----------------------------------------------------------

  /**
   * pte_mkwrite for an ordinary (non-shadow-stack) VMA: writable, without
   * making a clean entry dirty (x86 also moves SavedDirty back to Dirty).
   */
  mkwrite(v: EntryReg, o: number, level: Level): void;
  /** pte_wrprotect: read-only, keeping dirty. */
  wrprotect(v: EntryReg, o: number, level: Level): void;
  mkdirty(v: EntryReg, o: number, level: Level): void;
  mkclean(v: EntryReg, o: number, level: Level): void;
  mkyoung(v: EntryReg, o: number, level: Level): void;
  mkold(v: EntryReg, o: number, level: Level): void;
  mkspecial(v: EntryReg, o: number, level: Level): void;
  mksoftDirty(v: EntryReg, o: number, level: Level): void;
  clearSoftDirty(v: EntryReg, o: number, level: Level): void;
  mkuffdWp(v: EntryReg, o: number, level: Level): void;
  clearUffdWp(v: EntryReg, o: number, level: Level): void;
  /** pmd_mkinvalid / pud_mkinvalid: not valid for the MMU but still present and huge to the kernel. */
  mkinvalid(v: EntryReg, o: number, level: Level): void;
  /** pte_advance_pfn: move the entry `nr` pages on (x86 counts down in inverted entries). */
  advancePfn(v: EntryReg, o: number, level: Level, nr: number): void;

  // ---- softleaves (non-present leaves) -------------------------------------

  /** __swp_entry_to_pte(__swp_entry(type, offset)) at `level`, with every flag clear. */
  softleafEntry(out: EntryReg, o: number, level: Level, swpType: number, offset: number): void;
  /**
   * The entry is a softleaf (is_swap_pte / is_swap_pmd): not none, not
   * present, and not a PROT_NONE or invalidated leaf (which x86 PUDs can be
   * without being "present").
   */
  isSoftleaf(v: EntryReg, o: number, level: Level): boolean;
  swpType(v: EntryReg, o: number, level: Level): number;
  swpOffset(v: EntryReg, o: number, level: Level): number;
  swpExclusive(v: EntryReg, o: number, level: Level): boolean;
  swpMkExclusive(v: EntryReg, o: number, level: Level): void;
  swpClearExclusive(v: EntryReg, o: number, level: Level): void;
  swpSoftDirty(v: EntryReg, o: number, level: Level): boolean;
  swpMkSoftDirty(v: EntryReg, o: number, level: Level): void;
  swpClearSoftDirty(v: EntryReg, o: number, level: Level): void;
  swpUffdWp(v: EntryReg, o: number, level: Level): boolean;
  swpMkUffdWp(v: EntryReg, o: number, level: Level): void;
  swpClearUffdWp(v: EntryReg, o: number, level: Level): void;

  // ---- raw table storage (the kernel's __ptep_get / __set_pte) --------------

  readEntry(table: Uint32Array, index: number, level: Level, out: EntryReg, o: number): void;
  writeEntry(table: Uint32Array, index: number, level: Level, v: EntryReg, o: number): void;

  // ---- page-table operations (the kernel's generic API; arm64 contpte lives here) --

  /** set_ptes / set_pmd_at / set_pud_at: write `nr` entries, advancing the pfn by each entry's size (one page at PTE level). */
  setEntries(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, v: EntryReg, o: number, nr: number): void;
  /** ptep_get: the entry, with access/dirty gathered across a contiguous block. */
  getEntry(table: Uint32Array, index: number, level: Level, out: EntryReg, o: number): void;
  /** ptep_get_and_clear / pmdp_huge_get_and_clear: clear one entry and return its old value. */
  getAndClear(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, out: EntryReg, o: number): void;
  /**
   * get_and_clear_full_ptes: clear `nr` entries mapping consecutive pages of
   * one folio; returns the first entry with young and dirty gathered from all.
   */
  getAndClearEntries(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, nr: number, out: EntryReg, o: number): void;
  /** wrprotect_ptes / pmdp_set_wrprotect. */
  wrprotectEntries(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, nr: number): void;
  /**
   * ptep_set_access_flags: make the entry at least as permissive as `v`
   * (young, dirty, write) after a fault; `dirty` says it was a write fault.
   * Returns whether the entry was updated. Arches whose MMU sets access and
   * dirty bits itself may update only for write faults (x86 does).
   */
  setAccessFlags(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, v: EntryReg, o: number, dirty: boolean): boolean;
  /** ptep_test_and_clear_young over `nr` entries: was any young? */
  testAndClearYoung(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, nr: number): boolean;
  /** clear_young_dirty_ptes (MADV_FREE / MADV_COLD): clear young and/or dirty in `nr` entries. */
  clearYoungDirty(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, nr: number, young: boolean, dirty: boolean): void;
  /** ptep_modify_prot_start/commit over `nr` entries (one folio's batch): apply pte_modify(prot). */
  modifyEntries(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, nr: number, prot: ProtIndex): void;
  /** pmdp_invalidate: make a huge entry invalid (mkinvalid), flushing; returns the old value in `out`. */
  invalidate(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, out: EntryReg, o: number): void;
  /**
   * pmdp_invalidate_ad (change_huge_pmd, whose caller flushes afterwards):
   * the same invalidation, without its own flush where the hardware cannot
   * set access or dirty bits in an invalid entry (x86 defines
   * __HAVE_ARCH_PMDP_INVALIDATE_AD); elsewhere exactly pmdp_invalidate.
   * Optional: a backend without it is taken to flush.
   */
  invalidateAd?(ctx: PageTableContext, table: Uint32Array, index: number, level: Level, va: number, out: EntryReg, o: number): void;
  /** pte_batch_hint: how many entries from `index` are known to continue one mapping (arm64 cont block). */
  batchHint(table: Uint32Array, index: number, level: Level): number;

  // ---- huge entries spanning several slots (hugetlb; arm64 cont; 8xx 16K/512K/8M) --

  /** arch_make_huge_pte: turn an entry made by pfnEntry at the size's level into a huge entry of `size`. */
  makeHugeEntry(v: EntryReg, o: number, size: HugeSize): void;
  /** set_huge_pte_at at the size's first slot. */
  setHugeEntry(ctx: PageTableContext, store: TableStore, table: Uint32Array, index: number, va: number, v: EntryReg, o: number, size: HugeSize): void;
  /** huge_ptep_get: the logical entry with young/dirty gathered over its slots. */
  getHugeEntry(store: TableStore, table: Uint32Array, index: number, va: number, out: EntryReg, o: number, size: HugeSize): void;
  /** huge_ptep_get_and_clear. */
  getAndClearHugeEntry(ctx: PageTableContext, store: TableStore, table: Uint32Array, index: number, va: number, out: EntryReg, o: number, size: HugeSize): void;
  /** huge_ptep_set_wrprotect. */
  wrprotectHugeEntry(ctx: PageTableContext, store: TableStore, table: Uint32Array, index: number, va: number, size: HugeSize): void;
  /** huge_ptep_set_access_flags. */
  setHugeAccessFlags(ctx: PageTableContext, store: TableStore, table: Uint32Array, index: number, va: number, v: EntryReg, o: number, dirty: boolean, size: HugeSize): boolean;

  // ---- hardware view -------------------------------------------------------

  /**
   * An access by the MMU to the leaf in `table` at `index`: if the leaf permits
   * it, set young (and dirty for a write) in that one slot the way the
   * hardware or its miss handler would, and return true; otherwise change
   * nothing and return false (the access faults). The hot path of simulated
   * loads and stores.
   */
  hwAccess(table: Uint32Array, index: number, level: Level, write: boolean): boolean;

  /** Translate `va` through the tables rooted at `rootPa` as the MMU would, every step explained. Not a hot path. */
  walk(store: TableStore, rootPa: number, va: number, access?: WalkAccess): HardwareWalk;
  /**
   * The same translation without the explanation, into `out` (reused from
   * call to call): true when `va` translates. Agrees with walk() on every
   * address. The hot path of bulk translation (TLB coverage, views, traces).
   */
  translate(store: TableStore, rootPa: number, va: number, access: WalkAccess | undefined, out: Translation): boolean;
  /** Name every set bit of an entry at `level`. Not a hot path. */
  describe(v: EntryReg, o: number, level: Level): DescribedEntry;
  /** The kernel's name for vm_get_page_prot(prot) (PAGE_COPY, PAGE_SHARED_EXEC, ...). */
  protName(prot: ProtIndex): string;
}

/**
 * A huge mapping size: how many slots at which level one logical entry takes.
 * Examples: x86 2M = {level PMD, ncontig 1}; arm64 4K 64K = {PTE, 16, cont};
 * 8xx 512K = {PTE, 128 cells}; 8xx 8M = {PMD, 2, each PMD pointing to a full PTE table}.
 */
export interface HugeSize {
  /** log2 of the size in bytes. */
  readonly shift: number;
  /** The level of the slots holding the logical entry. */
  readonly level: Level;
  /** Slots (logical entries at `level`) covered. */
  readonly ncontig: number;
  /** The arch's contiguous hint is set on the slots (arm64 PTE_CONT / PMD_SECT_CONT). */
  readonly cont: boolean;
  /** 8xx 8M: each of the `ncontig` PMD slots points to a PTE table filled with the page. */
  readonly viaPteTables: boolean;
  /** A THP maps at this size with a single leaf (PMD/PUD THP). mTHP sizes are any order and need no entry here. */
  readonly thp: boolean;
  /** Usable for hugetlb. */
  readonly hugetlb: boolean;
}

/** A factory creates a backend from options or from an id's variant part. */
export type ArchBackendFactory<Options> = (options?: Options | string) => ArchBackend;
