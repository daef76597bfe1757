/*
 * The data an HTML report is rendered from: plain JSON-able values extracted
 * from finished models, so rendering never touches a kernel.
 */

/**
 * How a run of virtual addresses is mapped, as the page tables say:
 * - none: inside a VMA, nothing mapped (no table, or pte_none);
 * - pte: PTEs mapping order-0 folios (base pages);
 * - mthp: PTEs mapping pages of large folios (mTHP, or a PTE-mapped THP);
 * - cont: PTEs carrying the arch's contiguous hint (arm64 contpte);
 * - pmd, pud: one huge leaf per PMD / PUD;
 * - zero, huge-zero: the shared zero page by PTE, the huge zero folio by PMD;
 * - swap, migration, device: swap entries, migration entries, device-private
 *   and device-exclusive entries; softleaf: any other non-present leaf
 *   (hwpoison, PTE markers).
 */
export const MAP_KINDS = ["pte", "mthp", "cont", "pmd", "pud", "zero", "huge-zero", "swap", "migration", "device", "softleaf", "none"] as const;
export type MapKind = (typeof MAP_KINDS)[number];

/** Physical memory by use: free buddy blocks (by order), pcp-cached pages, and allocated memory by kind. */
export const PHYS_KINDS = ["free", "pcp", "anon", "mthp", "thp", "file", "pagetable", "other"] as const;
export type PhysKind = (typeof PHYS_KINDS)[number];

/** A part of a coarsened cell: its key ("kind:order") and size. */
export type MixPart = readonly [key: string, size: number];

/** Consecutive address space mapped the same way (one kind, one folio order). */
export interface MapRun {
  readonly start: number;
  readonly size: number;
  /** For a cell mixing several ways of mapping (coarsened): its largest mapped part's, "none" only if nothing is mapped. */
  readonly kind: MapKind;
  /** Folio order of the mapped folios; -1 where no folio is mapped (none, swap). */
  readonly order: number;
  /** Distinct folios mapped in the run (0 where none are). */
  readonly folios: number;
  /** Present only on coarsened cells: what they hold, largest first. */
  readonly mix?: readonly MixPart[];
}

export interface VmaMap {
  readonly start: number;
  readonly end: number;
  /** "rw-p" as /proc/pid/maps prints it. */
  readonly perms: string;
  /** The /proc/pid/maps name: a file, "[heap]", or "" for anonymous memory. */
  readonly name: string;
  /** VmFlags mnemonics as smaps prints them. */
  readonly vmFlags: string;
  readonly runs: readonly MapRun[];
  /** The bytes each cell covers when the VMA had too many runs to show one by one (0: exact). */
  readonly cellBytes: number;
}

export interface ProcessMap {
  /** The process id the run knows it by. */
  readonly pid: number;
  readonly exited: boolean;
  readonly vmas: readonly VmaMap[];
  /** Page-table pages of this mm, the root included (mm->pgtables_bytes / PAGE_SIZE). */
  readonly pgtablePages: number;
  /** Resident pages (file + anon + shmem rss). */
  readonly rssPages: number;
}

/** A stretch of one zone's pfns used the same way. */
export interface PhysCell {
  readonly start: number;
  readonly pages: number;
  readonly kind: PhysKind;
  /** The buddy order for free and pcp blocks, else -1. */
  readonly order: number;
  /** Present only on coarsened cells: what they hold, largest first. */
  readonly mix?: readonly MixPart[];
}

export interface PhysStrip {
  readonly nid: number;
  readonly zone: string;
  readonly startPfn: number;
  readonly endPfn: number;
  /** Pages in the buddy free lists. */
  readonly freePages: number;
  /** Pages each cell covers when the zone had too many runs to show one by one (0: exact). */
  readonly cellPages: number;
  readonly cells: readonly PhysCell[];
}

export interface CheckpointRow {
  readonly name: string;
  readonly counters: Readonly<Record<string, number>>;
}

export interface ExpectRow {
  readonly clause: string;
  readonly pass: boolean;
  /** Display text of the expected and actual values. */
  readonly expected: string;
  readonly actual: string;
}

/** Sizes a mapping can have on the arch, in bytes. */
export interface MappingSizes {
  readonly page: number;
  /** A contiguous-hint run of PTEs (arm64 contpte); equal to page where the arch has none. */
  readonly cont: number;
  readonly pmd: number;
  readonly pud: number;
}

/** The key numbers compared across arches. */
export interface ArchSummary {
  /** NR_PAGETABLE over every node: tables in use and deposited. */
  readonly pgtablePages: number;
  /** Bytes mapped by present leaves, by how they map (summed over processes). */
  readonly mappedBytes: Readonly<Record<"pte" | "mthp" | "cont" | "pmd" | "pud" | "zero" | "huge-zero", number>>;
  readonly swapBytes: number;
  /** TLB entries covering every present mapping: one per leaf, a contiguous-hint run counting once. */
  readonly tlbEntries: number;
  readonly totalPages: number;
  readonly freePages: number;
}

/** One finished run on one arch: every picture and table of its column. */
export interface ArchColumn {
  readonly archId: string;
  readonly archDescription: string;
  readonly seed: number;
  readonly sizes: MappingSizes;
  /** MAX_PAGE_ORDER: the largest free block. */
  readonly maxOrder: number;
  readonly processes: readonly ProcessMap[];
  readonly phys: readonly PhysStrip[];
  readonly checkpoints: readonly CheckpointRow[];
  readonly expects: readonly ExpectRow[];
  readonly summary: ArchSummary;
}

export interface HtmlReport {
  readonly title: string;
  readonly scenarioName: string;
  /** "run": one column; "compare": one column per arch and the comparison table. */
  readonly mode: "run" | "compare";
  readonly columns: readonly ArchColumn[];
  /** Counters charted when the page opens. */
  readonly defaultCounters: readonly string[];
}
