import { describe, expect, it } from "vitest";
import { deriveTables, levelSize, tableFor, tableIndex, type LevelGeometry } from "./geometry";
import { PGD, P4D, PUD, PMD, PTE } from "./level";
import { referenceGeometry } from "./reference/geometry";

const lv = (level: 0 | 1 | 2 | 3 | 4, shift: number, entries: number): LevelGeometry => ({ level, shift, entries, folded: entries === 1 });

describe("deriveTables", () => {
  it("gives a 3-level arm64-like layout a top table holding PUD entries", () => {
    const levels = [lv(PTE, 12, 512), lv(PMD, 21, 512), lv(PUD, 30, 1), lv(P4D, 30, 1), lv(PGD, 30, 512)];
    const t = deriveTables(levels, (_l, n) => n * 8, () => true, () => 1);
    expect(t.map((x) => [x.level, x.shift, x.entries])).toEqual([
      [PUD, 30, 512],
      [PMD, 21, 512],
      [PTE, 12, 512],
    ]);
    expect(t[0]!.folds).toEqual([PGD, P4D, PUD]);
  });
  it("gives a 2-level 8xx-like layout a top table of PMD entries", () => {
    const levels = [lv(PTE, 12, 1024), lv(PMD, 22, 1), lv(PUD, 22, 1), lv(P4D, 22, 1), lv(PGD, 22, 1024)];
    const t = deriveTables(levels, () => 4096, () => false, () => 1);
    expect(t.map((x) => x.level)).toEqual([PMD, PTE]);
    expect(t[0]!.entries).toBe(1024);
  });
});

describe("indexing", () => {
  const g = referenceGeometry();
  it("indexes each table by the va bits above its shift", () => {
    const va = 0x7f12_3456_7000;
    expect(g.tables.map((t) => tableIndex(t, va))).toEqual([(va / 2 ** 39) & 511, Math.floor(va / 2 ** 30) & 511, Math.floor(va / 2 ** 21) & 511, Math.floor(va / 4096) & 511]);
    expect(tableFor(g, P4D)?.folds).toEqual([PGD, P4D]);
    expect(tableFor(g, PGD)).toBeUndefined();
    expect(levelSize(g, PMD)).toBe(2 * 1024 * 1024);
  });
  it("stays exact for page-aligned addresses above 2^53", () => {
    const t = { ...g.tables[0]!, shift: 48, entries: 512 };
    expect(tableIndex(t, 2 ** 56 - 4096)).toBe(255);
  });
});
