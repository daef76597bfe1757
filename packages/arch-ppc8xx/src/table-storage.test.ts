import { ArchInputError, entryRegs, PMD, PTE, simpleContext } from "@hugemm/arch";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createPpc8xxBackend } from "./backend";
import { ppc8xxConfig } from "./config";
import { numberOfCellsPerPte, ptePartialUpdate, setHugeCells } from "./table-storage";

const FC = { seed: 0x16c, numRuns: 200 };

describe("16K pages: every pte_t is four replicated cells", () => {
  const b = createPpc8xxBackend("16k");

  it("__set_pte_at writes four identical cells, ptep_get reads the first", () => {
    const table = new Uint32Array(1024);
    const r = entryRegs(1);
    b.pfnEntry(r, 0, PTE, 0x123, 11);
    b.writeEntry(table, 5, PTE, r, 0);
    expect(Array.from(table.subarray(20, 24))).toEqual([0x0048c029, 0x0048c029, 0x0048c029, 0x0048c029]);
    expect(table[19]).toBe(0);
    expect(table[24]).toBe(0);
    table[21] = 0xdead; // the hardware-only copies are never read back
    const back = entryRegs(1);
    b.readEntry(table, 5, PTE, back, 0);
    expect([back[0], back[1]]).toEqual([0x0048c029, 0]);
  });

  it("swap entries are replicated too", () => {
    const table = new Uint32Array(1024);
    const r = entryRegs(1);
    b.softleafEntry(r, 0, PTE, 3, 0xabcde);
    b.swpMkExclusive(r, 0, PTE);
    b.writeEntry(table, 255, PTE, r, 0);
    expect(Array.from(table.subarray(1020))).toEqual([0x0abcde1c, 0x0abcde1c, 0x0abcde1c, 0x0abcde1c]);
  });

  it("set_ptes writes nr pte_t, each replicated, pfn advancing", () => {
    const table = new Uint32Array(1024);
    const r = entryRegs(1);
    b.pfnEntry(r, 0, PTE, 0x10, 10);
    b.setEntries(simpleContext(), table, 2, PTE, 0x8000, r, 0, 3);
    expect(Array.from(table.subarray(8, 20), (x) => x.toString(16))).toEqual([
      "40029", "40029", "40029", "40029", "44029", "44029", "44029", "44029", "48029", "48029", "48029", "48029",
    ]);
  });

  it("storage round trip (property)", () => {
    const table = new Uint32Array(1024);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffffffff }), (i, w) => {
        const r = entryRegs(1);
        r[0] = w;
        b.writeEntry(table, i, PTE, r, 0);
        for (let c = 0; c < 4; c++) expect(table[4 * i + c]).toBe(w);
        const back = entryRegs(1);
        b.readEntry(table, i, PTE, back, 0);
        expect(back[0]).toBe(w);
      }),
      FC,
    );
  });

  it("indices outside the table are rejected", () => {
    const table = new Uint32Array(1024);
    const r = entryRegs(1);
    expect(() => b.readEntry(table, 256, PTE, r, 0)).toThrow(ArchInputError);
    expect(() => b.writeEntry(table, -1, PTE, r, 0)).toThrow(/table index -1.*\[0, 255\]/);
    expect(() => b.readEntry(table, 1024, PMD, r, 0)).toThrow(/\[0, 1023\]/);
    b.readEntry(table, 1023, PMD, r, 0);
  });
});

describe("4K pages: one cell per pte_t", () => {
  it("writes exactly one word", () => {
    const b = createPpc8xxBackend("4k");
    const table = new Uint32Array(1024);
    const r = entryRegs(1);
    b.pfnEntry(r, 0, PTE, 0x123, 11);
    b.writeEntry(table, 1023, PTE, r, 0);
    expect(table[1023]).toBe(0x00123021);
    expect(table.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0)).toBe(1);
  });
});

describe("number_of_cells_per_pte and __pte_update", () => {
  const c4 = ppc8xxConfig("4k");
  const c16 = ppc8xxConfig("16k");

  it("cell counts", () => {
    expect(numberOfCellsPerPte(c4, false, 0x21, false)).toBe(1);
    expect(numberOfCellsPerPte(c16, false, 0x29, false)).toBe(4);
    expect(numberOfCellsPerPte(c4, false, 0x29, true)).toBe(4); // 16K hugepage: SPS only
    expect(numberOfCellsPerPte(c4, false, 0x829, true)).toBe(128);
    expect(numberOfCellsPerPte(c16, false, 0x29, true)).toBe(128);
    expect(numberOfCellsPerPte(c4, true, 0, true)).toBe(1024);
    expect(numberOfCellsPerPte(c4, false, 0, true)).toBe(4); // a cleared value has no _PAGE_HUGE
  });

  it("16K pages: PAGE_SIZE per pte_t, replicated four times", () => {
    const t = new Uint32Array(1024);
    setHugeCells(c16, t, 0, 0x00800829, false);
    const old = ptePartialUpdate(c16, t, 0, 0, 0x600, true, false);
    expect(old).toBe(0x00800829);
    expect(Array.from(t.subarray(0, 8), (x) => x.toString(16))).toEqual(["800e29", "800e29", "800e29", "800e29", "804e29", "804e29", "804e29", "804e29"]);
    expect(t[127]!.toString(16)).toBe("87ce29");
    expect(t[128]).toBe(0);
  });

  it("refuses to run past the end of the table", () => {
    const t = new Uint32Array(1024);
    expect(() => setHugeCells(c4, t, 1000, 0x829, false)).toThrow(/huge page cell range "1000..1127"/);
  });
});
