/**
 * The reference format: a deliberately plain 64-bit, 4-level layout with one
 * bit per kernel concept. It is not any real machine; it exists to exercise
 * the conformance kit and as the starting point a new backend is generated
 * from. Replace these bits with your arch's.
 *
 *  bit 0  PRESENT     valid for the MMU
 *  bit 1  WRITE
 *  bit 2  USER
 *  bit 3  EXEC
 *  bit 4  YOUNG       accessed
 *  bit 5  DIRTY
 *  bit 6  LEAF        a page or block (clear in table pointers)
 *  bit 7  SPECIAL
 *  bit 8  SOFT_DIRTY
 *  bit 9  UFFD_WP
 *  bit 10 PROTNONE    PROT_NONE / NUMA hint: present to the kernel, invalid to the MMU
 *  bits 12..47        pfn (36 bits: 48-bit physical addresses)
 *
 * Softleaf (non-present) entries keep PRESENT, LEAF and PROTNONE clear:
 *  bit 1 exclusive, bit 2 soft-dirty, bit 3 uffd-wp, bits 11..15 type, bits 16..63 offset.
 */
export const PRESENT = 1 << 0;
export const WRITE = 1 << 1;
export const USER = 1 << 2;
export const EXEC = 1 << 3;
export const YOUNG = 1 << 4;
export const DIRTY = 1 << 5;
export const LEAF = 1 << 6;
export const SPECIAL = 1 << 7;
export const SOFT_DIRTY = 1 << 8;
export const UFFD_WP = 1 << 9;
export const PROTNONE = 1 << 10;

export const PFN_SHIFT = 12;
/** Bits of pfn in an entry: bits 12..47. */
export const PFN_BITS = 36;
/** The pfn's part in the low word (bits 12..31) and in the high word (bits 32..47). */
export const PFN_LO_BITS = 20;
export const PFN_HI_MASK = 0xffff;

export const SWP_EXCLUSIVE = 1 << 1;
export const SWP_SOFT_DIRTY = 1 << 2;
export const SWP_UFFD_WP = 1 << 3;
export const SWP_TYPE_SHIFT = 11;
export const SWP_TYPE_MASK = 0x1f;
export const SWP_OFFSET_SHIFT = 16;
export const SWP_OFFSET_BITS = 48;
