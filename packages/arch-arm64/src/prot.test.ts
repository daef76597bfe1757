import { ArchInputError, entryRegs, PTE } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { createArm64Backend } from "./index";
import { big } from "./test-fixtures";

/** vm_get_page_prot(idx) for idx 0..15 with 48-bit PA (pgtable-prot.h, mm/mmap.c). */
const PROTS_48 = [
  0x0060000000000f82n, // PAGE_NONE: !VALID, PRESENT_INVALID(=nG), RDONLY, AF, SH, PXN, UXN
  0x0060000000000fc3n, // PAGE_READONLY
  0x0060000000000fc3n,
  0x0060000000000fc3n,
  0x0020000000000fc3n, // PAGE_READONLY_EXEC
  0x0020000000000fc3n,
  0x0020000000000fc3n,
  0x0020000000000fc3n,
  0x0060000000000f82n, // VM_SHARED: PAGE_NONE
  0x0060000000000fc3n,
  0x0068000000000fc3n, // PAGE_SHARED: WRITE and RDONLY (clean)
  0x0068000000000fc3n,
  0x0020000000000fc3n,
  0x0020000000000fc3n,
  0x0028000000000fc3n, // PAGE_SHARED_EXEC
  0x0028000000000fc3n,
];

const NAMES = [
  "PAGE_NONE",
  "PAGE_READONLY",
  "PAGE_READONLY",
  "PAGE_READONLY",
  "PAGE_READONLY_EXEC",
  "PAGE_READONLY_EXEC",
  "PAGE_READONLY_EXEC",
  "PAGE_READONLY_EXEC",
  "PAGE_NONE",
  "PAGE_READONLY",
  "PAGE_SHARED",
  "PAGE_SHARED",
  "PAGE_READONLY_EXEC",
  "PAGE_READONLY_EXEC",
  "PAGE_SHARED_EXEC",
  "PAGE_SHARED_EXEC",
];

describe("protection_map / vm_get_page_prot", () => {
  it.each(["4k-48", "16k-47", "64k-42", "64k-52"])("%s: pfn_pte(0, prot) is the kernel's pgprot value", (variant) => {
    const b = createArm64Backend(variant);
    const r = entryRegs(1);
    for (let prot = 0; prot < 16; prot++) {
      b.pfnEntry(r, 0, PTE, 0, prot);
      expect(big(r), NAMES[prot]).toBe(PROTS_48[prot]);
    }
  });

  it.each(["4k-52", "16k-52"])("%s (LPA2): PTE_SHARED is cleared from every protection", (variant) => {
    const b = createArm64Backend(variant);
    const r = entryRegs(1);
    for (let prot = 0; prot < 16; prot++) {
      b.pfnEntry(r, 0, PTE, 0, prot);
      expect(big(r), NAMES[prot]).toBe(PROTS_48[prot]! & ~0x300n);
    }
  });

  it("names each index as protection_map does", () => {
    const b = createArm64Backend();
    expect(Array.from({ length: 16 }, (_, i) => b.protName(i))).toEqual(NAMES);
  });

  it("rejects a protection index outside 0..15", () => {
    const b = createArm64Backend();
    const r = entryRegs(1);
    for (const bad of [-1, 16, 1.5]) {
      expect(() => b.protName(bad)).toThrow(ArchInputError);
      expect(() => b.pfnEntry(r, 0, PTE, 1, bad)).toThrow(/protection index/);
      expect(() => b.modify(r, 0, PTE, bad)).toThrow(/protection index/);
    }
  });
});
