/**
 * Bit values of the 8xx page-table words, as the kernel's C code writes them
 * (arch/powerpc/include/asm/nohash/32/pte-8xx.h and nohash/32/pgtable.h).
 * PowerPC documentation numbers bits MSB-first; these are LSB-0 C masks,
 * so 0x0001 is the architecture's bit 31.
 */

// ---- level 2 (PTE) ---------------------------------------------------------

/** V: the hardware valid bit; pte_present(). */
export const _PAGE_PRESENT = 0x0001;
/** CI: cache-inhibited. */
export const _PAGE_NO_CACHE = 0x0002;
/** SH: no ASID compare; set in kernel (global) mappings only. */
export const _PAGE_SH = 0x0004;
/** SPS: "small page size" 16K, also set in 512K and 8M entries. */
export const _PAGE_SPS = 0x0008;
/** Software: copied into the L1 G (guarded) bit by the TLB miss handlers. */
export const _PAGE_GUARDED = 0x0010;
/** Software: copied into APG bit 1 by the TLB miss handlers. */
export const _PAGE_ACCESSED = 0x0020;
/** Software: copied into PP bit 21 by the ITLB miss handler. */
export const _PAGE_EXEC = 0x0040;
/** Software: pte_special(). */
export const _PAGE_SPECIAL = 0x0080;
/** C: changed. A store through a TLB entry with C clear raises a DTLB error. */
export const _PAGE_DIRTY = 0x0100;
/** PP extended encoding 00: no access for anyone. */
export const _PAGE_NA = 0x0200;
/** PP extended encoding 01: supervisor read-only (includes _PAGE_NA's bit). */
export const _PAGE_RO = 0x0600;
/** Copied by the TLB miss handlers into the low bit of the L1 PS field (512K). */
export const _PAGE_HUGE = 0x0800;
/** The PP field: _PAGE_RW is 0, _PAGE_NA 0x200, _PAGE_RO 0x600. */
export const PP_MASK = 0x0600;

/** Kernel protections carry SH: _PAGE_KERNEL_RW = SH | DIRTY, _PAGE_KERNEL_RO = SH | RO. */
export const _PAGE_KERNEL_RW = _PAGE_SH | _PAGE_DIRTY;
export const _PAGE_KERNEL_RO = _PAGE_SH | _PAGE_RO;

/** pte_mkhuge(): the bits every 512K and 8M entry carries. */
export const HUGE_LEAF = _PAGE_SPS | _PAGE_HUGE;

// ---- swap entries (nohash/32/pgtable.h) --------------------------------------

/** Borrowed from _PAGE_SH: the exclusive marker of a swap PTE. */
export const _PAGE_SWP_EXCLUSIVE = 0x0004;
/** __swp_entry_to_pte() shifts the arch swap value left by 3. */
export const SWP_PTE_SHIFT = 3;
/** The type occupies the 5 bits above the exclusive marker. */
export const SWP_TYPE_SHIFT = 3;
export const SWP_TYPE_MASK = 0x1f;
/** __swp_offset(): val >> 5, so the offset starts at PTE bit 8. */
export const SWP_OFFSET_SHIFT = 8;
export const SWP_OFFSET_BITS = 24;

// ---- level 1 (PMD, folded with PUD/P4D/PGD) ------------------------------------

export const _PMD_PRESENT = 0x0001;
export const _PMD_PRESENT_MASK = _PMD_PRESENT;
/** Bits that must be clear in a table pointer: pmd_bad(). */
export const _PMD_BAD = 0x0f90;
/** The L1 page-size (PS) field: 00 small (4K/16K), 01 512K, 11 8M. */
export const _PMD_PAGE_MASK = 0x000c;
export const _PMD_PAGE_8M = 0x000c;
export const _PMD_PAGE_512K = 0x0004;
/** APG bit 1 ("APG 1"): only ever set in MD_TWC, from the PTE's _PAGE_ACCESSED. */
export const _PMD_ACCESSED = 0x0020;
/** APG bit 2: the segment is user memory; written by pmd_populate(). */
export const _PMD_USER = 0x0040;
/** MD_TWC WT: writethrough; the kernel never sets it in a PMD. */
export const MD_WT = 0x0002;
/** pmd_page_vaddr(): a PTE table (or 16K-mode fragment) is 4K aligned. */
export const PMD_TABLE_MASK = 0xfffff000;

// ---- sizes -------------------------------------------------------------------

export const SZ_4K = 0x1000;
export const SZ_16K = 0x4000;
export const SZ_512K = 0x80000;
export const SZ_4M = 0x400000;
export const SZ_8M = 0x800000;
/** PGDIR_SHIFT: one L1 entry maps 4M in both page sizes. */
export const PGDIR_SHIFT = 22;
/** The hardware indexes 1024 four-byte cells per L2 table in both page sizes. */
export const HW_CELLS_PER_TABLE = 1024;
/** Bytes of a PTE table (a whole page with 4K pages, a PTE_FRAG with 16K pages) and of the PGD. */
export const TABLE_BYTES = 4096;
/** CONFIG_TASK_SIZE default for PPC_8xx. */
export const TASK_SIZE = 0x80000000;
