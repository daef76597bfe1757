import { ArchInputError, entryRegs } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { createPpc8xxBackend } from "./backend";
import { pageBase, protectionValues, PROTECTION_MAP_NAMES } from "./prot";

describe("protection_map", () => {
  it("names the kernel's PAGE_* for each of the 16 indices", () => {
    const b = createPpc8xxBackend();
    expect(Array.from({ length: 16 }, (_, i) => b.protName(i))).toEqual([
      "PAGE_NONE",
      "PAGE_READONLY",
      "PAGE_COPY",
      "PAGE_COPY",
      "PAGE_EXECONLY_X",
      "PAGE_READONLY_X",
      "PAGE_COPY_X",
      "PAGE_COPY_X",
      "PAGE_NONE",
      "PAGE_READONLY",
      "PAGE_SHARED",
      "PAGE_SHARED",
      "PAGE_EXECONLY_X",
      "PAGE_READONLY_X",
      "PAGE_SHARED_X",
      "PAGE_SHARED_X",
    ]);
    expect(PROTECTION_MAP_NAMES).toHaveLength(16);
  });

  it("_PAGE_BASE is PRESENT|ACCESSED, plus SPS with 16K pages", () => {
    expect(pageBase(12)).toBe(0x21);
    expect(pageBase(14)).toBe(0x29);
  });

  it("exact pgprot values (4K pages)", () => {
    expect(Array.from(protectionValues(12), (v) => v.toString(16))).toEqual([
      "221", "621", "621", "621", "261", "661", "661", "661",
      "221", "621", "21", "21", "261", "661", "61", "61",
    ]);
  });

  it("exact pgprot values (16K pages)", () => {
    expect(Array.from(protectionValues(14), (v) => v.toString(16))).toEqual([
      "229", "629", "629", "629", "269", "669", "669", "669",
      "229", "629", "29", "29", "269", "669", "69", "69",
    ]);
  });

  it("pfn_pte() places the pfn at PAGE_SHIFT", () => {
    const r = entryRegs(1);
    createPpc8xxBackend("4k").pfnEntry(r, 0, 0, 0xabcde, 10);
    expect([r[0], r[1]]).toEqual([0xabcde021, 0]);
    createPpc8xxBackend("16k").pfnEntry(r, 0, 0, 0x3ffff, 15);
    expect([r[0], r[1]]).toEqual([0xffffc069, 0]);
  });

  it("rejects a protection index outside 0..15", () => {
    const b = createPpc8xxBackend();
    expect(() => b.protName(16)).toThrow(ArchInputError);
    expect(() => b.protName(-1)).toThrow(/protection index -1/);
    expect(() => b.pfnEntry(entryRegs(1), 0, 0, 1, 1.5)).toThrow(/protection index 1.5/);
  });
});
