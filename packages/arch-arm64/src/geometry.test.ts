import { PGD, PMD, PTE, PUD, P4D } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { hwLevelShift } from "./geometry";
import { createArm64Backend } from "./index";

/** [table level, folded levels, entries, shift] top-down. */
type Table = [number, number[], number, number];

const EXPECTED: Record<string, { tables: Table[]; maxPfn: number }> = {
  "4k-39": { tables: [[PUD, [PGD, P4D, PUD], 512, 30], [PMD, [PMD], 512, 21], [PTE, [PTE], 512, 12]], maxPfn: 2 ** 36 - 1 },
  "4k-48": { tables: [[P4D, [PGD, P4D], 512, 39], [PUD, [PUD], 512, 30], [PMD, [PMD], 512, 21], [PTE, [PTE], 512, 12]], maxPfn: 2 ** 36 - 1 },
  "4k-52": {
    tables: [[PGD, [PGD], 16, 48], [P4D, [P4D], 512, 39], [PUD, [PUD], 512, 30], [PMD, [PMD], 512, 21], [PTE, [PTE], 512, 12]],
    maxPfn: 2 ** 40 - 1,
  },
  "16k-36": { tables: [[PMD, [PGD, P4D, PUD, PMD], 2048, 25], [PTE, [PTE], 2048, 14]], maxPfn: 2 ** 34 - 1 },
  "16k-47": { tables: [[PUD, [PGD, P4D, PUD], 2048, 36], [PMD, [PMD], 2048, 25], [PTE, [PTE], 2048, 14]], maxPfn: 2 ** 34 - 1 },
  "16k-48": { tables: [[P4D, [PGD, P4D], 2, 47], [PUD, [PUD], 2048, 36], [PMD, [PMD], 2048, 25], [PTE, [PTE], 2048, 14]], maxPfn: 2 ** 34 - 1 },
  "16k-52": { tables: [[P4D, [PGD, P4D], 32, 47], [PUD, [PUD], 2048, 36], [PMD, [PMD], 2048, 25], [PTE, [PTE], 2048, 14]], maxPfn: 2 ** 38 - 1 },
  "64k-42": { tables: [[PMD, [PGD, P4D, PUD, PMD], 8192, 29], [PTE, [PTE], 8192, 16]], maxPfn: 2 ** 32 - 1 },
  "64k-48": { tables: [[PUD, [PGD, P4D, PUD], 64, 42], [PMD, [PMD], 8192, 29], [PTE, [PTE], 8192, 16]], maxPfn: 2 ** 32 - 1 },
  "64k-52": { tables: [[PUD, [PGD, P4D, PUD], 1024, 42], [PMD, [PMD], 8192, 29], [PTE, [PTE], 8192, 16]], maxPfn: 2 ** 36 - 1 },
};

describe("arm64 geometry (pgtable-hwdef.h)", () => {
  it("ARM64_HW_PGTABLE_LEVEL_SHIFT", () => {
    expect([0, 1, 2, 3].map((n) => hwLevelShift(12, n))).toEqual([39, 30, 21, 12]);
    expect(hwLevelShift(12, -1)).toBe(48);
    expect([0, 1, 2, 3].map((n) => hwLevelShift(14, n))).toEqual([47, 36, 25, 14]);
    expect([1, 2, 3].map((n) => hwLevelShift(16, n))).toEqual([42, 29, 16]);
  });

  for (const [variant, want] of Object.entries(EXPECTED)) {
    it(`${variant}: tables, PTRS_PER_PGD and folding`, () => {
      const g = createArm64Backend(variant).geometry;
      expect(g.tables.map((t) => [t.level, t.folds, t.entries, t.shift])).toEqual(want.tables);
      for (const t of g.tables) expect(t.tableBytes).toBe(t.entries * 8);
      expect(g.maxPfn).toBe(want.maxPfn);
      expect(g.vaBits).toBe(Number(variant.split("-")[1]));
      expect(g.userVaBits).toBe(g.vaBits);
      // DEFAULT_MAP_WINDOW: VA_BITS_MIN (48) under a 52-bit VA.
      expect(g.mapWindowBits).toBe(Math.min(g.vaBits, 48));
      expect(g.entryBytes).toBe(8);
      const top = g.tables[0]!;
      expect(top.shift + Math.log2(top.entries)).toBe(g.vaBits);
    });
  }

  it("folded levels have one entry and the PGDIR shift", () => {
    const g = createArm64Backend("64k-48").geometry;
    expect(g.levels[P4D]).toEqual({ level: P4D, shift: 42, entries: 1, folded: true });
    expect(g.levels[PUD]).toEqual({ level: PUD, shift: 42, entries: 1, folded: true });
    expect(g.levels[PGD]).toEqual({ level: PGD, shift: 42, entries: 64, folded: false });
  });

  it.each([
    ["4k-48", 16, 16],
    ["16k-47", 128, 32],
    ["64k-48", 32, 32],
  ])("%s: CONT_PTES %i and CONT_PMDS %i", (variant, ptes, pmds) => {
    const g = createArm64Backend(variant).geometry;
    expect(g.tables.find((t) => t.level === PTE)!.contEntries).toBe(ptes);
    expect(g.tables.find((t) => t.level === PMD)!.contEntries).toBe(pmds);
    for (const t of g.tables) if (t.level > PMD) expect(t.contEntries).toBe(1);
  });

  it("blocks at the PMD level everywhere, at the PUD level with the 4K granule only", () => {
    for (const variant of ["4k-39", "4k-48", "4k-52"]) {
      const g = createArm64Backend(variant).geometry;
      expect(g.tables.filter((t) => t.leafAllowed).map((t) => t.level), variant).toEqual([PUD, PMD, PTE]);
    }
    for (const variant of ["16k-36", "16k-47", "16k-48", "16k-52", "64k-42", "64k-48", "64k-52"]) {
      const g = createArm64Backend(variant).geometry;
      expect(g.tables.filter((t) => t.leafAllowed).map((t) => t.level), variant).toEqual([PMD, PTE]);
    }
  });
});
