import { type Level, PTE, PMD, PUD, P4D, PGD, levelName } from "./level";

/** One logical level of the page-table tree. */
export interface LevelGeometry {
  readonly level: Level;
  /** log2 of the virtual range one entry at this level maps (PAGE_SHIFT, PMD_SHIFT, ...). */
  readonly shift: number;
  /** PTRS_PER_* for this level; 1 when the level is folded. */
  readonly entries: number;
  /** The level is folded into the one above: it has no table of its own. */
  readonly folded: boolean;
}

/** A level that owns a table in memory (not folded), top-down in `Geometry.tables`. */
export interface TableGeometry {
  /**
   * The lowest logical level whose entries live in this table. With folding,
   * the top table of arm64 4K/39-bit holds PUD entries and the top table of
   * 8xx holds PMD entries.
   */
  readonly level: Level;
  /** The logical levels that share this table, top-down (e.g. [PGD, P4D, PUD]). */
  readonly folds: readonly Level[];
  readonly shift: number;
  readonly entries: number;
  /** Bytes of memory one table of this level occupies. */
  readonly tableBytes: number;
  /** 32-bit words of storage in a table of this level (tableBytes / 4). */
  readonly tableWords: number;
  /** The hardware may hold a leaf (page or block) at this level. */
  readonly leafAllowed: boolean;
  /** Entries in a contiguous-hint run at this level (arm64 CONT_PTES/CONT_PMDS); 1 if none. */
  readonly contEntries: number;
}

export interface Geometry {
  /** PAGE_SHIFT. */
  readonly pageShift: number;
  readonly pageSize: number;
  /** Bits of virtual address the tables translate (the top table's shift + log2 entries). */
  readonly vaBits: number;
  /** TASK_SIZE = 2^userVaBits: the user half (x86 4-level: 47; arm64 TTBR0: VA_BITS). */
  readonly userVaBits: number;
  /**
   * DEFAULT_MAP_WINDOW = 2^mapWindowBits: mmap without a hint above it stays
   * below, so large address spaces are opt-in (x86 5-level: 47; arm64 52-bit
   * VA: 48). Absent: the whole user space.
   */
  readonly mapWindowBits?: number;
  /** MAX_PHYSMEM_BITS: the physical address bits the arch can address. */
  readonly physBits: number;
  /** Highest pfn an entry can hold: 2^(physBits - pageShift) - 1. */
  readonly maxPfn: number;
  /**
   * MAX_PAGE_ORDER (CONFIG_ARCH_FORCE_MAX_ORDER, or the generic 10): the
   * largest block the page allocator hands out. An arch configuration fact
   * the core's physical memory needs.
   */
  readonly maxPageOrder: number;
  /** Width of one hardware entry in bytes (8, or 4 on 8xx). */
  readonly entryBytes: 4 | 8;
  /** The five logical levels indexed by Level. */
  readonly levels: readonly LevelGeometry[];
  /** The tables a walk passes through, top-down. */
  readonly tables: readonly TableGeometry[];
}

/** Build the table list from the five logical levels. */
export function deriveTables(
  levels: readonly LevelGeometry[],
  tableBytes: (level: Level, entries: number) => number,
  leafAllowed: (level: Level) => boolean,
  contEntries: (level: Level) => number,
): TableGeometry[] {
  const tables: TableGeometry[] = [];
  let folds: Level[] = [];
  for (const level of [PGD, P4D, PUD, PMD, PTE] as const) {
    const g = levels[level]!;
    folds.push(level);
    const below = level === PTE ? undefined : levels[level - 1];
    // A level owns a table unless the level below is folded into it.
    if (below !== undefined && below.folded) continue;
    const top = folds[0]!;
    const entries = levels[top]!.entries;
    const bytes = tableBytes(level, entries);
    tables.push({
      level,
      folds,
      shift: g.shift,
      entries,
      tableBytes: bytes,
      tableWords: bytes / 4,
      leafAllowed: leafAllowed(level),
      contEntries: contEntries(level),
    });
    folds = [];
  }
  return tables;
}

/** The table geometry holding entries of `level`, or undefined if the level is folded away. */
export function tableFor(geometry: Geometry, level: Level): TableGeometry | undefined {
  for (const t of geometry.tables) if (t.level === level) return t;
  return undefined;
}

/** Index of `va` within a table of the given geometry. Exact for va below 2^53 and for page-aligned va above. */
export function tableIndex(t: TableGeometry, va: number): number {
  return Math.floor(va / 2 ** t.shift) & (t.entries - 1);
}

/** Size in bytes of the range one entry at `level` maps. */
export function levelSize(geometry: Geometry, level: Level): number {
  return 2 ** geometry.levels[level]!.shift;
}

export function describeGeometry(g: Geometry): string {
  return g.tables
    .map((t) => `${t.folds.map(levelName).join("/")}: ${t.entries} x ${g.entryBytes}B entries, shift ${t.shift}`)
    .join("; ");
}

export { PTE, PMD, PUD, P4D, PGD };
