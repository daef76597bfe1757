import { expect } from "vitest";
import { tableFor } from "../geometry";
import { LEVELS, PMD, PTE, PUD } from "../level";
import type { Kit } from "./kit";

/** The declared geometry, capabilities and formats are self-consistent. */
export function geometryChecks(k: Kit): void {
  const b = k.b;
  const g = k.g;
  k.check("geometry: identity and contract version", [], () => {
    expect(b.specificationVersion).toBe("v1");
    expect(b.id).toBe(`${b.arch}:${b.variant}`);
    expect(b.description.length).toBeGreaterThan(0);
  });
  k.check("geometry: levels, tables, shifts and sizes fit together", [], () => {
    expect(g.levels.map((l) => l.level)).toEqual([...LEVELS]);
    expect(g.pageSize).toBe(2 ** g.pageShift);
    expect(g.levels[PTE]!.shift).toBe(g.pageShift);
    expect(g.levels[PTE]!.folded).toBe(false);
    const last = g.tables[g.tables.length - 1]!;
    expect(last.level).toBe(PTE);
    expect(last.shift).toBe(g.pageShift);
    const top = g.tables[0]!;
    expect(top.shift + Math.log2(top.entries)).toBe(g.vaBits);
    expect(g.userVaBits).toBeLessThanOrEqual(g.vaBits);
    if (g.mapWindowBits !== undefined) expect(g.mapWindowBits).toBeLessThanOrEqual(g.userVaBits);
    for (let i = 0; i < g.tables.length; i++) {
      const t = g.tables[i]!;
      expect(Number.isInteger(Math.log2(t.entries)), `${t.level} entries ${t.entries}`).toBe(true);
      expect(t.tableBytes).toBeGreaterThanOrEqual(t.entries * g.entryBytes);
      expect(t.tableWords * 4).toBe(t.tableBytes);
      expect(Number.isInteger(Math.log2(t.contEntries))).toBe(true);
      expect(t.folds[t.folds.length - 1]).toBe(t.level);
      // The first level of a table owns it; the ones after it are folded into it.
      expect(g.levels[t.folds[0]!]!.folded, `level ${t.folds[0]} owns its table`).toBe(false);
      for (const f of t.folds.slice(1)) expect(g.levels[f]!.folded, `level ${f} folded into ${t.folds[0]}`).toBe(true);
      if (i + 1 < g.tables.length) {
        const below = g.tables[i + 1]!;
        expect(t.shift, `table ${t.level} shift`).toBe(below.shift + Math.log2(below.entries));
      }
    }
    expect(g.maxPfn).toBe(2 ** (g.physBits - g.pageShift) - 1);
    expect(Number.isInteger(g.maxPageOrder) && g.maxPageOrder >= 1 && g.maxPageOrder + g.pageShift <= g.physBits).toBe(true);
  });
  k.check("geometry: softleaf format and capabilities agree", [], () => {
    const c = b.capabilities;
    expect(b.softleaf.pfnBits).toBe(g.physBits - g.pageShift);
    expect(b.softleaf.maxOffset).toBe(2 ** b.swapOffsetBits - 1);
    expect(b.softleaf.migrationYoungDirty).toBe(c.migrationYoungDirty);
    if (c.pmdThp) expect(tableFor(g, PMD)?.leafAllowed, "PMD THP needs PMD leaves").toBe(true);
    if (c.pudThp) expect(c.pudLeaf, "PUD THP needs PUD leaves").toBe(true);
    if (c.pudLeaf) expect(tableFor(g, PUD)?.leafAllowed, "PUD leaves need a PUD table that holds leaves").toBe(true);
    if (c.contPte) expect(tableFor(g, PTE)!.contEntries).toBeGreaterThan(1);
  });
  k.check("geometry: huge sizes are ascending and cover whole slots", [], () => {
    let prev = 0;
    for (const s of b.hugeSizes) {
      expect(s.shift).toBeGreaterThan(prev);
      prev = s.shift;
      expect(s.ncontig * 2 ** g.levels[s.level]!.shift, `huge size 2^${s.shift}`).toBe(2 ** s.shift);
      if (s.cont) expect(s.ncontig).toBeGreaterThan(1);
      if (s.viaPteTables) expect(s.level).toBeGreaterThan(PTE);
      expect(s.thp || s.hugetlb).toBe(true);
    }
  });
}
