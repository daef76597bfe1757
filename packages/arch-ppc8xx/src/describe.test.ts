import { entryRegs, type Level, migrationOffset, PMD, PTE, SWP_MIGRATION_WRITE, unnamedBits } from "@hugemm/arch";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createPpc8xxBackend } from "./backend";

const b4 = createPpc8xxBackend("4k");
const b16 = createPpc8xxBackend("16k");

function d(b: typeof b4, lo: number, level: Level, hi = 0) {
  const r = entryRegs(1);
  r[0] = lo >>> 0;
  r[1] = hi >>> 0;
  return b.describe(r, 0, level);
}

describe("describe", () => {
  it("names every set bit of any value at every level (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 4 }), fc.boolean(), (lo, hi, level, sixteen) => {
        const desc = d(sixteen ? b16 : b4, lo, level as Level, hi);
        expect(unnamedBits(desc, lo, hi), desc.hex).toEqual([]);
        expect(["none", "table", "leaf", "softleaf", "bad"]).toContain(desc.kind);
      }),
      { seed: 0xde5c, numRuns: 2000 },
    );
  });

  it("a user PTE", () => {
    const desc = d(b4, 0x00123121, PTE);
    expect(desc).toMatchObject({ level: PTE, kind: "leaf", hex: "0x00123121", summary: "pte 4K leaf pfn 0x123 rw- young dirty" });
    expect(desc.fields.map((f) => f.name)).toEqual(["_PAGE_PRESENT", "_PAGE_ACCESSED", "_PAGE_DIRTY", "PP", "RPN"]);
    expect(desc.fields.find((f) => f.name === "RPN")).toMatchObject({ lo: 12, hi: 31, value: 0x123 });
  });

  it("PAGE_NONE, a kernel page, a 512K cell and a 16K-mode large-page cell", () => {
    expect(d(b4, 0x00042221, PTE).summary).toBe("pte 4K leaf pfn 0x42 --- young no-access");
    expect(d(b4, 0x00042221, PTE).fields.find((f) => f.name === "PP")).toMatchObject({ lo: 9, hi: 10, value: 1, meaning: /_PAGE_NA/ });
    expect(d(b4, 0x00042125, PTE).summary).toBe("pte 4K leaf pfn 0x42 rw- young dirty kernel");
    expect(d(b4, 0x00800e69, PTE).summary).toBe("pte 512K leaf pfn 0x800 r-x young");
    const cell = d(b16, 0x00803829, PTE);
    expect(cell.summary).toBe("pte 512K leaf pfn 0x200 rw- young");
    expect(cell.fields.find((f) => f.name === "RPN bits 12..13")).toMatchObject({ lo: 12, hi: 13, value: 3 });
  });

  it("softleaves: swap and migration", () => {
    expect(d(b4, 0x12345618, PTE)).toMatchObject({ kind: "softleaf", summary: "pte softleaf swap offset 0x123456" });
    const off = migrationOffset(b4.softleaf, 0xabc, true, false);
    const r = entryRegs(1);
    b4.softleafEntry(r, 0, PTE, SWP_MIGRATION_WRITE, off);
    b4.swpMkExclusive(r, 0, PTE);
    const desc = b4.describe(r, 0, PTE);
    expect(desc.summary).toBe("pte softleaf migration-write pfn 0xabc young exclusive");
    expect(desc.fields.map((f) => [f.name, f.lo, f.hi])).toEqual([
      ["_PAGE_SWP_EXCLUSIVE", 2, 2],
      ["swap type", 3, 7],
      ["swap offset", 8, 31],
    ]);
  });

  it("level-1 words: table pointers, 8M flags, bad words and the 8M huge pte", () => {
    expect(d(b4, 0, PMD)).toMatchObject({ kind: "none", summary: "pmd none", fields: [] });
    expect(d(b4, 0x00101041, PMD)).toMatchObject({ kind: "table", summary: "pmd table 0x101000 user" });
    expect(d(b4, 0x00101001, 4)).toMatchObject({ kind: "table", summary: "pgd table 0x101000 kernel" });
    const eight = d(b4, 0x0010104d, PMD);
    expect(eight.summary).toBe("pmd table 0x101000 user 8M");
    expect(eight.fields.find((f) => f.name === "PS")).toMatchObject({ lo: 2, hi: 3, value: 3, meaning: /_PMD_PAGE_8M/ });
    expect(d(b4, 0x00101f91, PMD)).toMatchObject({ kind: "bad", summary: "pmd bad 0x101f91 (_PMD_BAD bits 0xf90)" });
    expect(d(b4, 0x01000929, PMD)).toMatchObject({ kind: "leaf", summary: "pmd 8M huge pte pfn 0x1000 rw- young dirty" });
    expect(d(b4, 0x000800d8, PMD).summary).toBe("pmd softleaf migration-write pfn 0x800 (8M hugetlb entry)");
  });

  it("a non-zero high word is named, never part of the entry", () => {
    const desc = d(b4, 0x00123121, PTE, 0x1);
    expect(desc.hex).toBe("0x0000000100123121");
    expect(desc.fields.at(-1)).toMatchObject({ name: "high word", lo: 32, hi: 63, value: "0x1" });
  });
});
