/**
 * x86-64 entry bits (arch/x86/include/asm/pgtable_types.h), split into the
 * two 32-bit words of an entry register: `*_LO` masks apply to bits 0..31,
 * `*_HI` masks to bits 32..63 (bit n of the entry is bit n-32 of the word).
 * Every level uses the same layout; bit 7 is PSE in PMD/PUD entries and the
 * PAT bit in a 4K PTE, and bit 8 reads as PROTNONE when PRESENT is clear.
 */

// ---- low word -------------------------------------------------------------
export const _PAGE_PRESENT = 0x001;
export const _PAGE_RW = 0x002;
export const _PAGE_USER = 0x004;
export const _PAGE_PWT = 0x008;
export const _PAGE_PCD = 0x010;
export const _PAGE_ACCESSED = 0x020;
export const _PAGE_DIRTY = 0x040;
/** Huge leaf at PMD/PUD level. */
export const _PAGE_PSE = 0x080;
/** Cache-index bit 2 in a 4K PTE (same position as PSE). */
export const _PAGE_PAT = 0x080;
export const _PAGE_GLOBAL = 0x100;
/** Bit 8 when PRESENT is clear: a PROT_NONE mapping (pte_present still true). */
export const _PAGE_PROTNONE = 0x100;
/** SOFTW1. */
export const _PAGE_SPECIAL = 0x200;
/** SOFTW2. */
export const _PAGE_UFFD_WP = 0x400;
/** SOFTW3. */
export const _PAGE_SOFT_DIRTY = 0x800;
/** Cache-index bit 2 of a PSE (2M/1G) entry. */
export const _PAGE_PAT_LARGE = 0x1000;

// Swap-entry flags reuse low bits that a non-present entry leaves free.
export const _PAGE_SWP_SOFT_DIRTY = _PAGE_RW;
export const _PAGE_SWP_UFFD_WP = _PAGE_USER;
export const _PAGE_SWP_EXCLUSIVE = _PAGE_PWT;

// ---- high word --------------------------------------------------------------
/** Bit 57: free since the devmap bit was removed. */
export const _PAGE_SOFTW4_HI = 1 << 25;
/** Bit 58: Dirty moved aside while Write=0 (a Write=0,Dirty=1 leaf is a shadow-stack page). */
export const _PAGE_SAVED_DIRTY_HI = 1 << 26;
/** Bits 59..62: protection key. */
export const _PAGE_PKEY_MASK_HI = 0x78000000;
export const _PAGE_PKEY_SHIFT_HI = 27;
/** Bit 63. */
export const _PAGE_NX_HI = 0x80000000;

// ---- bit numbers ------------------------------------------------------------
export const _PAGE_BIT_SOFTW4 = 57;
export const _PAGE_BIT_SAVED_DIRTY = 58;
export const _PAGE_BIT_PKEY_BIT0 = 59;
export const _PAGE_BIT_NX = 63;

// ---- address masks (no memory encryption: __PHYSICAL_MASK_SHIFT = 52) -----
/** PTE_PFN_MASK: bits 12..51. */
export const PTE_PFN_MASK_LO = 0xfffff000;
export const PTE_PFN_MASK_HI = 0x000fffff;
/** PHYSICAL_PMD_PAGE_MASK: bits 21..51. */
export const PMD_PAGE_MASK_LO = 0xffe00000;
/** PHYSICAL_PUD_PAGE_MASK: bits 30..51. */
export const PUD_PAGE_MASK_LO = 0xc0000000;
/** The high word of every address mask (bits 32..51). */
export const PFN_MASK_HI = 0x000fffff;
/** Flag bits 52..63 in the high word. */
export const FLAGS_HI = 0xfff00000;

// ---- composite values -------------------------------------------------------
/** Knights Landing may set A and D in non-present entries, so the *_none() helpers ignore them. */
export const _PAGE_KNL_ERRATUM_MASK = _PAGE_DIRTY | _PAGE_ACCESSED;
/** _PAGE_TABLE: user page-table pointer. Page tables need Write=1 for any leaf below to be writable. */
export const _PAGE_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY;
/** _KERNPG_TABLE: kernel page-table pointer. */
export const _KERNPG_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;

/**
 * _PAGE_CHG_MASK / _HPAGE_CHG_MASK (low word): what pte_modify() and
 * pmd_modify() keep. They agree in the low word because bit 7 is PAT in one
 * and PSE in the other, and PAT_LARGE (bit 12) lies inside the pfn mask.
 */
export const PAGE_CHG_MASK_LO = (PTE_PFN_MASK_LO | _PAGE_PCD | _PAGE_PWT | _PAGE_SPECIAL | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_SOFT_DIRTY | _PAGE_UFFD_WP | _PAGE_PAT) >>> 0;
export const PAGE_CHG_MASK_HI = PTE_PFN_MASK_HI | _PAGE_SAVED_DIRTY_HI;

/** SWP_TYPE_BITS: the type sits in bits 59..63. */
export const SWP_TYPE_BITS = 5;
/** SWP_OFFSET_FIRST_BIT = _PAGE_BIT_PROTNONE + 1. */
export const SWP_OFFSET_FIRST_BIT = 9;
/** Bits of offset between bit 9 and the type (9..58). */
export const SWP_OFFSET_BITS = 64 - SWP_TYPE_BITS - SWP_OFFSET_FIRST_BIT;
/** Offset bits that land in the low word (9..31). */
export const SWP_OFFSET_LO_BITS = 32 - SWP_OFFSET_FIRST_BIT;
/** Type shift inside the high word (bit 59 - 32). */
export const SWP_TYPE_SHIFT_HI = 64 - SWP_TYPE_BITS - 32;
