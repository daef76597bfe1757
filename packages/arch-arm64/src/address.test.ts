import { ArchInputError, entryOf, entryRegs, PMD, PTE, PUD } from "@hugemm/arch";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ARM64_VARIANTS, createArm64Backend } from "./index";
import { big } from "./test-fixtures";

describe("output-address encoding (__phys_to_pte_val / __pte_to_phys)", () => {
  it("48-bit PA: the address sits in bits 47:PAGE_SHIFT", () => {
    const b = createArm64Backend("4k-48");
    const r = entryRegs(1);
    b.pfnEntry(r, 0, PTE, 0x123456789, 11);
    expect(big(r)).toBe(0x0068123456789fc3n);
    expect(b.pfn(r, 0, PTE)).toBe(0x123456789);
    const b16 = createArm64Backend("16k-47");
    b16.pfnEntry(r, 0, PTE, 0x3, 1);
    expect(big(r)).toBe(0x006000000000cfc3n);
  });

  it("LPA2 (4K, 52-bit): PA[51:50] in bits 9:8", () => {
    const b = createArm64Backend("4k-52");
    const r = entryRegs(1);
    const pfn = (2 ** 51 + 2 ** 50 + 0x1000) / 4096;
    b.pfnEntry(r, 0, PTE, pfn, 1);
    expect(big(r)).toBe(0x0060000000001fc3n);
    expect(b.pfn(r, 0, PTE)).toBe(pfn);
    b.pfnEntry(r, 0, PTE, 2 ** 40 - 1, 1);
    expect(big(r)).toBe(0x0063ffffffffffc3n);
    expect(b.pfn(r, 0, PTE)).toBe(2 ** 40 - 1);
  });

  it("LPA2 (16K, 52-bit): bits 13:12 are below the granule and unused", () => {
    const b = createArm64Backend("16k-52");
    const r = entryRegs(1);
    b.pfnEntry(r, 0, PTE, 2 ** 38 - 1, 0);
    expect(big(r)).toBe(0x0063ffffffffcf82n);
    expect(b.pfn(r, 0, PTE)).toBe(2 ** 38 - 1);
  });

  it("64K with 52-bit PA: PA[51:48] in bits 15:12, PA[49:48] also in place", () => {
    const b = createArm64Backend("64k-52");
    const r = entryRegs(1);
    const pfn = (0xf * 2 ** 48 + 0x10000) / 0x10000;
    b.pfnEntry(r, 0, PTE, pfn, 0);
    expect(big(r)).toBe(0x006300000001ff82n);
    expect(b.pfn(r, 0, PTE)).toBe(pfn);
    // PA[51:50] only: bits 15:14 set, bits 49:48 clear.
    b.pfnEntry(r, 0, PTE, (0xc * 2 ** 48) / 0x10000, 0);
    expect(big(r)).toBe(0x006000000000cf82n);
  });

  it("pmd_pfn() and pud_pfn() mask the address to the block", () => {
    const b = createArm64Backend("4k-48");
    const r = entryOf(0x0060000000201fc3n); // pfn 0x201
    expect(b.pfn(r, 0, PTE)).toBe(0x201);
    expect(b.pfn(r, 0, PMD)).toBe(0x200);
    expect(b.pfn(entryOf(0x0060000040201fc1n), 0, PUD)).toBe(0x40000);
  });

  it("pte_advance_pfn() moves only the address", () => {
    const b = createArm64Backend("64k-52");
    const r = entryRegs(1);
    b.pfnEntry(r, 0, PTE, 2 ** 32 - 1, 14);
    b.mkdirty(r, 0, PTE);
    b.mkspecial(r, 0, PTE);
    b.advancePfn(r, 0, PTE, 1);
    const want = entryRegs(1);
    b.pfnEntry(want, 0, PTE, 2 ** 32, 14);
    b.mkdirty(want, 0, PTE);
    b.mkspecial(want, 0, PTE);
    expect(big(r)).toBe(big(want));
    expect(big(r) & 0xf000n).toBe(0x1000n); // PA bit 48 -> descriptor bit 12
  });

  it("property: pfn_pte/pte_pfn round trip and pte_advance_pfn match pfn_pte(pfn + n) in every variant", () => {
    for (const variant of ARM64_VARIANTS) {
      const b = createArm64Backend(variant);
      const max = b.geometry.maxPfn;
      fc.assert(
        fc.property(fc.integer({ min: 0, max }), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 4096 }), (pfn, prot, n) => {
          const r = entryRegs(2);
          b.pfnEntry(r, 0, PTE, pfn, prot);
          expect(b.pfn(r, 0, PTE)).toBe(pfn);
          if (pfn + n > max) return;
          b.advancePfn(r, 0, PTE, n);
          b.pfnEntry(r, 2, PTE, pfn + n, prot);
          expect(big(r, 0)).toBe(big(r, 2));
        }),
        { seed: 0x5eed, numRuns: 300 },
      );
    }
  });

  it("rejects a pfn above maxPfn, also when advancing past it", () => {
    const b = createArm64Backend("4k-48");
    const r = entryRegs(1);
    expect(() => b.pfnEntry(r, 0, PTE, 2 ** 36, 1)).toThrow(ArchInputError);
    expect(() => b.pfnEntry(r, 0, PTE, 2 ** 36, 1)).toThrow(/pfn 68719476736 \(0x1000000000\): expected an integer in \[0, 0xfffffffff\]/);
    expect(() => b.pfnEntry(r, 0, PTE, -1, 1)).toThrow(ArchInputError);
    expect(() => b.pfnEntry(r, 0, PTE, 1.5, 1)).toThrow(ArchInputError);
    b.pfnEntry(r, 0, PTE, 2 ** 36 - 1, 1);
    expect(() => b.advancePfn(r, 0, PTE, 1)).toThrow(ArchInputError);
  });
});

describe("table entries (pXd_populate)", () => {
  it("user tables: PMD_TYPE_TABLE | PMD_TABLE_AF | PMD_TABLE_PXN; kernel tables get UXNTable", () => {
    const b = createArm64Backend("4k-48");
    const r = entryRegs(1);
    b.tableEntry(r, 0, PMD, 0x1234000, true);
    expect(big(r)).toBe(0x0800000001234403n);
    expect(b.tablePa(r, 0, PMD)).toBe(0x1234000);
    expect(b.table(r, 0, PMD)).toBe(true);
    expect(b.bad(r, 0, PMD)).toBe(false);
    b.tableEntry(r, 0, PUD, 0x1234000, false);
    expect(big(r)).toBe(0x1000000001234403n);
  });

  it("LPA2 and 64K 52-bit PA encode a high table address like a page address", () => {
    const r = entryRegs(1);
    const lpa2 = createArm64Backend("4k-52");
    lpa2.tableEntry(r, 0, PMD, 2 ** 51 + 0x5000, true);
    expect(big(r)).toBe(0x0800000000005603n);
    expect(lpa2.tablePa(r, 0, PMD)).toBe(2 ** 51 + 0x5000);
    const b64 = createArm64Backend("64k-52");
    b64.tableEntry(r, 0, PMD, 2 ** 50 + 0x30000, true);
    expect(big(r)).toBe(0x0800000000034403n);
    expect(b64.tablePa(r, 0, PMD)).toBe(2 ** 50 + 0x30000);
  });

  it("rejects a table address that is unaligned or beyond the PA size, and the PTE level", () => {
    const b = createArm64Backend("4k-48");
    const r = entryRegs(1);
    expect(() => b.tableEntry(r, 0, PMD, 0x1234800, true)).toThrow(/table physical address .*: expected a multiple of 4096/);
    expect(() => b.tableEntry(r, 0, PMD, 2 ** 48, true)).toThrow(ArchInputError);
    expect(() => b.tableEntry(r, 0, PTE, 0x1000, true)).toThrow(/table entry level 0/);
  });
});
