import { PMD, type ArchBackend, type HugeSize } from "@hugemm/arch";
import type { Kernel } from "@hugemm/core";

/**
 * One hugetlb page size (struct hstate): its arch layout and the pool's
 * counters, globally and per node. Free folios sit on per-node free lists
 * used as stacks, as enqueue (list_move to the head) and dequeue (the first
 * entry) use hugepage_freelists[nid].
 */
export class Hstate {
  /** log2 of the page size in base pages (huge_page_order). */
  readonly order: number;
  /** huge_page_size in bytes. */
  readonly size: number;
  /** The sysfs directory name: hugepages-<size in kB>kB. */
  readonly name: string;
  /** order > MAX_PAGE_ORDER: not allocatable from the buddy allocator (hstate_is_gigantic). */
  readonly gigantic: boolean;
  /** nr_huge_pages. */
  nr = 0;
  /** free_huge_pages. */
  free = 0;
  /** resv_huge_pages. */
  resv = 0;
  /** surplus_huge_pages. */
  surplus = 0;
  /** nr_overcommit_huge_pages. */
  nrOvercommit = 0;
  /** max_huge_pages: the persistent pool size after the last resize. */
  maxHugePages = 0;
  readonly nrNode: Float64Array;
  readonly freeNode: Float64Array;
  readonly surplusNode: Float64Array;
  /** hugepage_freelists[nid]: head pfns, the most recently freed last. */
  readonly freelists: number[][];
  nextNidToAlloc = 0;
  nextNidToFree = 0;

  constructor(
    /** Position in the kernel's hstates[] (registration order). */
    readonly index: number,
    /** The arch's layout of one entry of this size. */
    readonly entry: HugeSize,
    pageShift: number,
    maxOrder: number,
    nodes: number,
  ) {
    this.order = entry.shift - pageShift;
    this.size = 2 ** entry.shift;
    this.name = `hugepages-${this.size / 1024}kB`;
    this.gigantic = this.order > maxOrder;
    this.nrNode = new Float64Array(nodes);
    this.freeNode = new Float64Array(nodes);
    this.surplusNode = new Float64Array(nodes);
    this.freelists = Array.from({ length: nodes }, () => []);
  }

  /** Base pages per huge page (pages_per_huge_page). */
  get pages(): number {
    return 2 ** this.order;
  }

  /** persistent_huge_pages: the pool without surplus pages. */
  get persistent(): number {
    return this.nr - this.surplus;
  }

  /** Free pages not promised to a reservation. */
  get available(): number {
    return this.free - this.resv;
  }
}

/**
 * The arch's default hstate (HPAGE_SHIFT): the PMD size on x86-64 and arm64,
 * 512K on the 8xx (hugetlbpage_init's choice for it); otherwise the first.
 */
function defaultShift(b: ArchBackend, sizes: readonly HugeSize[]): number {
  const pmd = sizes.find((s) => s.level === PMD && s.ncontig === 1 && !s.viaPteTables);
  if (pmd !== undefined) return pmd.shift;
  const k512 = sizes.find((s) => s.shift === 19);
  return (k512 ?? sizes[0]!).shift;
}

/** The hstates of `k`'s arch (hugetlb_add_hstate for each size the arch registers), and the default's index. */
export function archHstates(k: Kernel): { hstates: Hstate[]; defaultIndex: number } {
  const b = k.backend;
  const sizes = b.hugeSizes.filter((s) => s.hugetlb);
  const nodes = k.phys.nodes.length;
  const hstates = sizes.map((s, i) => new Hstate(i, s, k.pageShift, k.config.maxOrder, nodes));
  const def = sizes.length === 0 ? -1 : hstates.findIndex((h) => h.entry.shift === defaultShift(b, sizes));
  return { hstates, defaultIndex: def };
}
