/**
 * Stage-1 descriptor bits (64-bit descriptors, arch/arm64/include/asm/
 * pgtable-hwdef.h and pgtable-prot.h), split into the register's two words:
 * `LO_*` masks apply to v[o] (bits 0..31), `HI_*` masks to v[o+1]
 * (bits 32..63, so bit n is `1 << (n - 32)`).
 */

// ---- low word -------------------------------------------------------------

/** Bit 0: the descriptor is valid for the MMU. */
export const LO_VALID = 0x1;
/** Bit 1: with VALID, 1 = table (levels 0..2) or page (level 3); 0 = block. */
export const LO_TABLE = 0x2;
/** Bits 1:0: PMD_TYPE_MASK / PTE_TYPE_MASK. */
export const LO_TYPE_MASK = 0x3;
/** PTE_TYPE_PAGE = PMD_TYPE_TABLE = 0b11. */
export const LO_TYPE_PAGE = 0x3;
/** PMD_TYPE_SECT = PUD_TYPE_SECT = 0b01. */
export const LO_TYPE_SECT = 0x1;
/** Bits 4:2: PTE_ATTRINDX, the MAIR index. */
export const LO_ATTRINDX_MASK = 0x1c;
export const ATTRINDX_SHIFT = 2;
/** Bit 5: NS (ignored for the non-secure EL1&0 regime the model runs in). */
export const LO_NS = 0x20;
/** Bit 6: PTE_USER (AP[1]): EL0 may access. */
export const LO_USER = 0x40;
/** Bit 7: PTE_RDONLY (AP[2]): read-only for the MMU; with DBM, "clean". */
export const LO_RDONLY = 0x80;
/** Bits 9:8: PTE_SHARED (inner shareable); PA[51:50] under LPA2. */
export const LO_SHARED = 0x300;
/** Bit 10: PTE_AF, the access flag ("young"); PMD_TABLE_AF in a table (FEAT_HAFT). */
export const LO_AF = 0x400;
/** Bit 11: PTE_NG when VALID; PTE_PRESENT_INVALID when not VALID. */
export const LO_NG = 0x800;
export const LO_PRESENT_INVALID = LO_NG;

/** Swap entries: PTE_SWP_EXCLUSIVE (bit 2). */
export const LO_SWP_EXCLUSIVE = 0x4;
/** Swap entries: PTE_SWP_UFFD_WP (bit 3). */
export const LO_SWP_UFFD_WP = 0x8;
/** Swap entries: bits 4..5 are unused and stay zero. */
export const LO_SWP_UNUSED = 0x30;
export const SWP_TYPE_SHIFT = 6;
export const SWP_TYPE_MASK = 0x1f;
export const SWP_OFFSET_SHIFT = 12;
/** __SWP_OFFSET_BITS: bits 12..61. */
export const SWP_OFFSET_BITS = 50;
/** The offset bits held in the low word (12..31). */
export const SWP_OFFSET_LO_BITS = 20;
/** Offset bits 20..49 sit in bits 32..61: the high word's low 30 bits. */
export const HI_SWP_OFFSET_MASK = 0x3fffffff;

// ---- high word ------------------------------------------------------------

/** Bits 49:32 of the output address (PTE_ADDR_LOW's upper part). */
export const HI_ADDR_MASK = 0x3ffff;
/** Bit 50: PTE_GP, BTI guarded page. */
export const HI_GP = 0x40000;
/** Bit 51: PTE_DBM, which the kernel uses as PTE_WRITE. */
export const HI_WRITE = 0x80000;
/** Bit 52: PTE_CONT / PMD_SECT_CONT, the contiguous hint. */
export const HI_CONT = 0x100000;
/** Bit 53: PTE_PXN, privileged execute-never. */
export const HI_PXN = 0x200000;
/** Bit 54: PTE_UXN, user execute-never. */
export const HI_UXN = 0x400000;
/** Bit 55: PTE_DIRTY, software dirty. */
export const HI_DIRTY = 0x800000;
/** Bit 56: PTE_SPECIAL. */
export const HI_SPECIAL = 0x1000000;
/** Bit 57: software bit, free since PTE_DEVMAP went away. */
export const HI_SW57 = 0x2000000;
/** Bit 58: PTE_UFFD_WP. */
export const HI_UFFD_WP = 0x4000000;
/** Bit 59: PXNTable in a table descriptor; PBHA[0] in a leaf. */
export const HI_PXN_TABLE = 0x8000000;
/** Bit 60: UXNTable in a table descriptor; PTE_PO_IDX_0 in a leaf. */
export const HI_UXN_TABLE = 0x10000000;
/** Bit 61: APTable[0]: no EL0 access below this table. */
export const HI_AP_TABLE_NO_EL0 = 0x20000000;
/** Bit 62: APTable[1]: no write access below this table. */
export const HI_AP_TABLE_RDONLY = 0x40000000;
/** Bits 62:60: PTE_PO_IDX_MASK (Permission Overlay index) in a leaf. */
export const HI_PO_IDX_MASK = 0x70000000;
/** Bit 63: NSTable in a table descriptor; a software bit in a leaf. */
export const HI_BIT63 = 0x80000000;

// ---- composite masks --------------------------------------------------------

/**
 * pte_modify()'s mask: the bits a new protection replaces. It includes
 * ATTRINDX (Normal vs Normal-Tagged) and PRESENT_INVALID/VALID, so that
 * PROT_NONE <-> accessible transitions go through it.
 */
export const LO_MODIFY_MASK = LO_USER | LO_RDONLY | LO_PRESENT_INVALID | LO_VALID | LO_ATTRINDX_MASK;
export const HI_MODIFY_MASK = (HI_PXN | HI_UXN | HI_WRITE | HI_GP | HI_PO_IDX_MASK) >>> 0;

/** The bits __ptep_set_access_flags() takes from the new entry. */
export const LO_ACCESS_FLAGS = LO_RDONLY | LO_AF;
export const HI_ACCESS_FLAGS = HI_WRITE | HI_DIRTY;

/** Table attribute bits written by pXd_populate(). */
export const LO_TABLE_AF = LO_AF;

/** Memory types indexed by AttrIndx (arch/arm64/include/asm/memory.h). */
export const MT_NAMES: readonly string[] = [
  "MT_NORMAL",
  "MT_NORMAL_TAGGED",
  "MT_NORMAL_NC",
  "MT_DEVICE_nGnRnE",
  "MT_DEVICE_nGnRE",
  "AttrIndx 5 (unused)",
  "AttrIndx 6 (unused)",
  "AttrIndx 7 (unused)",
];
