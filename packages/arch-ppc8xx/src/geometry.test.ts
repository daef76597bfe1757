import { PGD, PMD, PTE, tableIndex } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { createPpc8xxBackend } from "./backend";

describe("geometry", () => {
  it("4K pages: PGD/P4D/PUD/PMD share one 1024 x 4M table over 1024-entry PTE tables", () => {
    const g = createPpc8xxBackend("4k").geometry;
    expect(g.pageShift).toBe(12);
    expect(g.pageSize).toBe(0x1000);
    expect(g.vaBits).toBe(32);
    expect(g.userVaBits).toBe(31); // CONFIG_TASK_SIZE 0x80000000
    expect(g.physBits).toBe(32);
    expect(g.maxPfn).toBe(0xfffff);
    expect(g.entryBytes).toBe(4);
    expect(g.levels.map((l) => [l.shift, l.entries, l.folded])).toEqual([
      [12, 1024, false],
      [22, 1, true],
      [22, 1, true],
      [22, 1, true],
      [22, 1024, false],
    ]);
    expect(g.tables).toEqual([
      { level: PMD, folds: [4, 3, 2, 1], shift: 22, entries: 1024, tableBytes: 4096, tableWords: 1024, leafAllowed: false, contEntries: 1 },
      { level: PTE, folds: [0], shift: 12, entries: 1024, tableBytes: 4096, tableWords: 1024, leafAllowed: true, contEntries: 1 },
    ]);
  });

  it("16K pages: 256 logical 16-byte pte_t in a 4K fragment", () => {
    const g = createPpc8xxBackend("16k").geometry;
    expect(g.pageShift).toBe(14);
    expect(g.maxPfn).toBe(0x3ffff);
    expect(g.levels[PTE]).toEqual({ level: PTE, shift: 14, entries: 256, folded: false });
    expect(g.levels[PGD]!.entries).toBe(1024);
    const pte = g.tables[1]!;
    expect([pte.entries, pte.tableBytes, pte.tableWords]).toEqual([256, 4096, 1024]);
    expect(tableIndex(g.tables[0]!, 0x7fc00000)).toBe(0x1ff);
    expect(tableIndex(pte, 0x0003c000)).toBe(0xf);
  });

  it("huge sizes: 16K/512K as PTE runs, 8M as two PMD slots via PTE tables, hugetlb only", () => {
    const four = createPpc8xxBackend("4k").hugeSizes;
    expect(four.map((s) => [s.shift, s.level, s.ncontig, s.viaPteTables, s.cont, s.thp, s.hugetlb])).toEqual([
      [14, PTE, 4, false, false, false, true],
      [19, PTE, 128, false, false, false, true],
      [23, PMD, 2, true, false, false, true],
    ]);
    const sixteen = createPpc8xxBackend("16k").hugeSizes;
    expect(sixteen.map((s) => [s.shift, s.level, s.ncontig, s.viaPteTables])).toEqual([
      [19, PTE, 32, false],
      [23, PMD, 2, true],
    ]);
  });

  it("capabilities and swap format", () => {
    for (const v of ["4k", "16k"]) {
      const b = createPpc8xxBackend(v);
      expect(b.capabilities).toEqual({
        softDirty: false,
        uffdWp: false,
        special: true,
        protnone: false,
        pmdThp: false,
        pudThp: false,
        pudLeaf: false,
        pmdSoftleaf: false,
        contPte: false,
        migrationYoungDirty: true,
      });
      expect(b.swapOffsetBits).toBe(24);
      expect(b.softleaf).toEqual({ pfnBits: v === "4k" ? 20 : 18, maxOffset: 0xffffff, migrationYoungDirty: true });
    }
  });
});
