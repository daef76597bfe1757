import type { Kernel, Vma } from "@hugemm/core";
import { defaultDemoteTarget } from "./demote";
import { archHstates, type Hstate } from "./hstate";
import type { ResvMap } from "./resv-map";
import type { Subpool } from "./subpool";

/**
 * What hugetlb keeps for one VMA (vm_private_data): private mappings hold
 * their reservation map and the HPAGE_RESV_OWNER / HPAGE_RESV_UNMAPPED
 * flags; every VMA knows its hstate and file.
 */
export interface HugetlbVma {
  readonly h: Hstate;
  readonly file: HugetlbFile;
  /** The private reservation map (shared by the parts of a split owner VMA); null for shared VMAs and fork children. */
  resv: ResvMap | null;
  /** HPAGE_RESV_OWNER: this VMA (or the one it was split from) made the private reservation. */
  owner: boolean;
  /** HPAGE_RESV_UNMAPPED: the owner's COW took a page away from this VMA; faults on it now SIGBUS. */
  unmapped: boolean;
}

/** A hugetlbfs inode: the hstate of its mount, its reservation map, its subpool. */
export interface HugetlbFile {
  /** The address space id (the AddressSpace of k.files). */
  readonly id: number;
  readonly h: Hstate;
  /** The inode's resv_map (regions in huge-page indices). */
  readonly resv: ResvMap;
  readonly subpool: Subpool | null;
  /** The MAP_HUGETLB pseudo-file ("anon_hugepage"): evicted with its last mapping. */
  readonly anon: boolean;
}

/**
 * hugetlb's policy knobs, each defaulting to the kernel's behaviour.
 * `zapRestore`: when __unmap_hugepage_range gives a private owner's zapped
 * anonymous page its reservation back. "kernel" (the default) does it for
 * every such page, even one a fork child still maps: the owner's close
 * then returns that reservation while the folio's restore_reserve has yet
 * to add it back, so HugePages_Rsvd runs one short (below zero when it was
 * zero) until the child lets go. "last-mapping" restores only when the zap
 * drops the folio's last mapping, which keeps Rsvd exact.
 */
export interface HugetlbConfig {
  zapRestore: "kernel" | "last-mapping";
}

/** Everything hugetlb keeps on one kernel. */
export class HugetlbState {
  readonly config: HugetlbConfig = { zapRestore: "kernel" };
  readonly hstates: Hstate[];
  /** default_hstate's index (-1 when the arch has no hugetlb sizes). */
  readonly defaultIndex: number;
  /** Every hugetlb folio, free or in use: head pfn -> hstate. */
  readonly folios = new Map<number, Hstate>();
  /** Folios whose allocation consumed a global reservation to give back when freed (HPG_restore_reserve). */
  readonly restoreReserve = new Set<number>();
  /** The subpool a folio was charged to (hugetlb_folio_subpool). */
  readonly subpoolOf = new Map<number, Subpool>();
  /** mm->hugetlb_usage in base pages, by mm id. */
  readonly usage = new Map<number, number>();
  /** hugetlbfs inodes, by address space id. */
  readonly files = new Map<number, HugetlbFile>();
  readonly vmas = new WeakMap<Vma, HugetlbVma>();
  /** The subpools of every hugetlbfs mount with size= or min_size=. */
  readonly subpools = new Map<Subpool, Hstate>();
  /** Each hstate's demote_size target (hugetlb_init_hstates' demote_order); absent: no demote files. */
  readonly demoteTo = new Map<Hstate, Hstate>();

  constructor(readonly k: Kernel) {
    const { hstates, defaultIndex } = archHstates(k);
    this.hstates = hstates;
    this.defaultIndex = defaultIndex;
    for (const h of hstates) {
      const dst = defaultDemoteTarget(this, h);
      if (dst !== undefined) this.demoteTo.set(h, dst);
    }
  }

  /** hugetlb_count_add / hugetlb_count_sub. */
  countAdd(mmId: number, pages: number): void {
    const v = (this.usage.get(mmId) ?? 0) + pages;
    if (v === 0) this.usage.delete(mmId);
    else this.usage.set(mmId, v);
  }
}
