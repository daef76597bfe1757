import { describe, expect, it } from "vitest";
import * as bits from "./bits";

/** The constants against the kernel's values (pgtable_types.h, pgtable_64.h, pgtable_64_types.h). */
describe("x86-64 entry bits", () => {
  it("low-word flags sit at the kernel's bit numbers", () => {
    expect([bits._PAGE_PRESENT, bits._PAGE_RW, bits._PAGE_USER, bits._PAGE_PWT, bits._PAGE_PCD]).toEqual([0x1, 0x2, 0x4, 0x8, 0x10]);
    expect([bits._PAGE_ACCESSED, bits._PAGE_DIRTY, bits._PAGE_PSE, bits._PAGE_GLOBAL]).toEqual([0x20, 0x40, 0x80, 0x100]);
    expect([bits._PAGE_SPECIAL, bits._PAGE_UFFD_WP, bits._PAGE_SOFT_DIRTY, bits._PAGE_PAT_LARGE]).toEqual([0x200, 0x400, 0x800, 0x1000]);
  });
  it("PSE and PAT share bit 7; PROTNONE and GLOBAL share bit 8", () => {
    expect(bits._PAGE_PAT).toBe(bits._PAGE_PSE);
    expect(bits._PAGE_PROTNONE).toBe(bits._PAGE_GLOBAL);
  });
  it("high-word flags: SOFTW4 = bit 57, SAVED_DIRTY = bit 58, PKEY = 59..62, NX = 63", () => {
    const hi = (b: number) => 2 ** (b - 32);
    expect(bits._PAGE_SOFTW4_HI).toBe(hi(57));
    expect(bits._PAGE_SAVED_DIRTY_HI).toBe(hi(58));
    expect(bits._PAGE_PKEY_MASK_HI).toBe(hi(59) + hi(60) + hi(61) + hi(62));
    expect(bits._PAGE_NX_HI).toBe(hi(63));
  });
  it("swap flags borrow RW, USER and PWT", () => {
    expect(bits._PAGE_SWP_SOFT_DIRTY).toBe(0x2);
    expect(bits._PAGE_SWP_UFFD_WP).toBe(0x4);
    expect(bits._PAGE_SWP_EXCLUSIVE).toBe(0x8);
  });
  it("table-entry protections: _PAGE_TABLE = 0x67, _KERNPG_TABLE = 0x63", () => {
    expect(bits._PAGE_TABLE).toBe(0x67);
    expect(bits._KERNPG_TABLE).toBe(0x63);
    expect(bits._PAGE_KNL_ERRATUM_MASK).toBe(0x60);
  });
  it("address masks: bits 12..51, 21..51 and 30..51", () => {
    const mask = (lo: number) => (BigInt(bits.PFN_MASK_HI) << 32n) | BigInt(lo);
    expect(mask(bits.PTE_PFN_MASK_LO)).toBe(0x000ffffffffff000n);
    expect(mask(bits.PMD_PAGE_MASK_LO)).toBe(0x000fffffffe00000n);
    expect(mask(bits.PUD_PAGE_MASK_LO)).toBe(0x000fffffc0000000n);
  });
  it("_PAGE_CHG_MASK keeps pfn, PCD, PWT, SPECIAL, A, D, SAVED_DIRTY, SOFT_DIRTY, UFFD_WP and PAT/PSE", () => {
    const chg = (BigInt(bits.PAGE_CHG_MASK_HI) << 32n) | BigInt(bits.PAGE_CHG_MASK_LO);
    expect(chg).toBe(0x040ffffffffffef8n);
  });
  it("swap layout: offset in 9..58 (50 bits), type in 59..63", () => {
    expect(bits.SWP_OFFSET_FIRST_BIT).toBe(9);
    expect(bits.SWP_OFFSET_BITS).toBe(50);
    expect(bits.SWP_TYPE_BITS).toBe(5);
    expect(bits.SWP_TYPE_SHIFT_HI + 32).toBe(59);
  });
});
