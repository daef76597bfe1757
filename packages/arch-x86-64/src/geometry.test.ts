import { describeGeometry, P4D, PGD, PMD, PTE, PUD, tableFor } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { x86Geometry } from "./geometry";

describe("x86-64 geometry", () => {
  it("4-level: PGD shift 39 with 512 entries, P4D folded into it, 48-bit VA, TASK_SIZE 2^47, 46 physical bits", () => {
    const g = x86Geometry(4);
    expect(g.levels.map((l) => [l.shift, l.entries, l.folded])).toEqual([
      [12, 512, false],
      [21, 512, false],
      [30, 512, false],
      [39, 1, true],
      [39, 512, false],
    ]);
    expect(g.tables.map((t) => t.level)).toEqual([P4D, PUD, PMD, PTE]);
    expect(g.tables[0]!.folds).toEqual([PGD, P4D]);
    expect(g.vaBits).toBe(48);
    expect(g.userVaBits).toBe(47);
    expect(g.physBits).toBe(46);
    expect(g.maxPfn).toBe(2 ** 34 - 1);
    expect(describeGeometry(g)).toBe("pgd/p4d: 512 x 8B entries, shift 39; pud: 512 x 8B entries, shift 30; pmd: 512 x 8B entries, shift 21; pte: 512 x 8B entries, shift 12");
  });
  it("5-level (LA57): PGD shift 48 and a real 512-entry P4D, 57-bit VA, TASK_SIZE 2^56, 52 physical bits", () => {
    const g = x86Geometry(5);
    expect(g.levels[PGD]).toEqual({ level: PGD, shift: 48, entries: 512, folded: false });
    expect(g.levels[P4D]).toEqual({ level: P4D, shift: 39, entries: 512, folded: false });
    expect(g.tables.map((t) => t.level)).toEqual([PGD, P4D, PUD, PMD, PTE]);
    expect(g.vaBits).toBe(57);
    expect(g.userVaBits).toBe(56);
    expect(g.mapWindowBits).toBe(47);
    expect(g.physBits).toBe(52);
    expect(g.maxPfn).toBe(2 ** 40 - 1);
  });
  it("every table is one 4K page; leaves at PTE, PMD and PUD only; no contiguous runs", () => {
    for (const levels of [4, 5] as const) {
      const g = x86Geometry(levels);
      for (const t of g.tables) {
        expect(t.tableBytes).toBe(4096);
        expect(t.tableWords).toBe(1024);
        expect(t.contEntries).toBe(1);
        expect(t.leafAllowed).toBe(t.level <= PUD);
      }
      expect(tableFor(g, P4D)?.leafAllowed).toBe(false);
      expect(g.entryBytes).toBe(8);
      expect(g.pageSize).toBe(4096);
    }
  });
});
