import {
  type Capabilities,
  type Geometry,
  type HugeSize,
  type LevelGeometry,
  PGD,
  P4D,
  PMD,
  PTE,
  PUD,
  deriveTables,
} from "@hugemm/arch";
import { PGDIR_SHIFT, SWP_OFFSET_BITS, TABLE_BYTES, TASK_SIZE } from "./bits";
import type { Ppc8xxConfig } from "./config";

/**
 * Two hardware levels. asm-generic/pgtable-nopmd.h folds PMD into PUD into
 * P4D into PGD, so the one top table (1024 x 4M) holds what the kernel calls
 * PMD entries. A PTE table is 4K in both configurations: a whole page with
 * 4K pages, a quarter-page fragment (PTE_FRAG) of 256 16-byte pte_t with 16K.
 */
export function ppc8xxGeometry(cfg: Ppc8xxConfig): Geometry {
  const folded = (level: typeof PMD | typeof PUD | typeof P4D): LevelGeometry => ({ level, shift: PGDIR_SHIFT, entries: 1, folded: true });
  const levels: LevelGeometry[] = [
    { level: PTE, shift: cfg.pageShift, entries: cfg.ptrsPerPte, folded: false },
    folded(PMD),
    folded(PUD),
    folded(P4D),
    { level: PGD, shift: PGDIR_SHIFT, entries: 2 ** (32 - PGDIR_SHIFT), folded: false },
  ];
  const tables = deriveTables(
    levels,
    () => TABLE_BYTES,
    (level) => level === PTE,
    () => 1,
  );
  return {
    pageShift: cfg.pageShift,
    pageSize: cfg.pageSize,
    vaBits: 32,
    userVaBits: Math.log2(TASK_SIZE),
    physBits: 32,
    maxPfn: cfg.maxPfn,
    // ARCH_FORCE_MAX_ORDER for PPC32: 8 with 16K pages, the generic 10 with 4K (arch/powerpc/Kconfig).
    maxPageOrder: cfg.pageShift === 14 ? 8 : 10,
    entryBytes: 4,
    levels,
    tables,
  };
}

function hugetlbSize(shift: number, level: typeof PTE | typeof PMD, ncontig: number, viaPteTables: boolean): HugeSize {
  return { shift, level, ncontig, cont: false, viaPteTables, thp: false, hugetlb: true };
}

/**
 * mmu_psize_defs[] sizes above PAGE_SIZE (arch_hugetlb_valid_size): 16K
 * (4K pages only), 512K and 8M. 16K and 512K are runs of PTE slots in an
 * ordinary table; 8M takes two PMD slots, each pointing to a full PTE table.
 */
export function ppc8xxHugeSizes(cfg: Ppc8xxConfig): HugeSize[] {
  const sizes: HugeSize[] = [];
  if (cfg.pageShift === 12) sizes.push(hugetlbSize(14, PTE, 4, false));
  sizes.push(hugetlbSize(19, PTE, 2 ** (19 - cfg.pageShift), false));
  sizes.push(hugetlbSize(23, PMD, 2, true));
  return sizes;
}

/** No THP, no soft-dirty, no uffd-wp, no NUMA protnone on 8xx. */
export function ppc8xxCapabilities(cfg: Ppc8xxConfig): Capabilities {
  return {
    softDirty: false,
    uffdWp: false,
    special: true,
    protnone: false,
    pmdThp: false,
    pudThp: false,
    pudLeaf: false,
    pmdSoftleaf: false,
    contPte: false,
    // The 24 offset bits hold SWP_PFN_BITS (20 or 18) plus the young and dirty bits.
    migrationYoungDirty: SWP_OFFSET_BITS >= cfg.swpPfnBits + 2,
  };
}
