import fc from "fast-check";
import { expect } from "vitest";
import type { EntryKind } from "../describe";
import { unnamedBits } from "../describe";
import { entryHex, entryRegs, type EntryReg } from "../entry";
import { type Level, PTE, PMD } from "../level";
import { VM_NONE, VM_READ, VM_SHARED, VM_WRITE } from "../prot";
import { MAX_SWAPFILES } from "../softleaf";
import type { Kit } from "./kit";

const KINDS: readonly EntryKind[] = ["none", "table", "leaf", "protnone", "invalid-leaf", "softleaf", "bad"];

/** describe() names every set bit and classifies entries as the kernel's predicates do. */
export function describeChecks(k: Kit): void {
  const b = k.b;
  const g = k.g;

  const expectDescribed = (v: EntryReg, level: Level, kind: EntryKind | null, what: string) => {
    const d = b.describe(v, 0, level);
    const missing = unnamedBits(d, v[0]!, v[1]!);
    expect(missing, `${what} ${entryHex(v, 0)}: unnamed set bits`).toEqual([]);
    expect(d.level).toBe(level);
    expect(KINDS).toContain(d.kind);
    if (kind !== null) expect(d.kind, `${what} ${entryHex(v, 0)}: ${d.summary}`).toBe(kind);
    expect(d.summary.length).toBeGreaterThan(0);
    for (const f of d.fields) {
      expect(f.name.length, `${what}: field name`).toBeGreaterThan(0);
      expect(f.lo <= f.hi && f.lo >= 0 && f.hi < g.entryBytes * 8, `${what}: field ${f.name} bits ${f.lo}..${f.hi}`).toBe(true);
    }
  };

  k.check("describe: none, table, leaf and softleaf entries at every level, every set bit named", [], () => {
    for (const t of g.tables) {
      const L = k.levelLabel(t.level);
      expectDescribed(entryRegs(1), t.level, "none", `${L} none`);
      if (t.level !== PTE) {
        const next = g.tables[g.tables.indexOf(t) + 1]!;
        const v = entryRegs(1);
        b.tableEntry(v, 0, t.level, next.tableBytes * 5, true);
        expectDescribed(v, t.level, "table", `${L} table`);
      }
    }
    for (const { level } of k.leafLevels) {
      const caps = b.capabilities;
      if ((level === PMD && !caps.pmdThp) || (level > PMD && !caps.pudLeaf)) continue;
      const L = k.levelLabel(level);
      const p = k.leaf(level, k.pfnAt(level), VM_READ | VM_WRITE | VM_SHARED);
      b.mkyoung(p, 0, level);
      b.mkdirty(p, 0, level);
      expectDescribed(p, level, "leaf", `${L} leaf`);
      if (caps.special) expectDescribed(k.with(p, level, b.mkspecial), level, "leaf", `${L} special leaf`);
      if (caps.softDirty) expectDescribed(k.with(p, level, b.mksoftDirty), level, "leaf", `${L} soft-dirty leaf`);
      if (caps.uffdWp) expectDescribed(k.with(p, level, b.mkuffdWp), level, "leaf", `${L} uffd-wp leaf`);
      if (caps.protnone) expectDescribed(k.leaf(level, k.pfnAt(level), VM_NONE), level, "protnone", `${L} PROT_NONE`);
      if (level === PMD) expectDescribed(k.with(p, level, b.mkinvalid), level, "invalid-leaf", "PMD invalidated leaf");
    }
    for (const { level } of k.softleafLevels) {
      if (level === PMD && !b.capabilities.pmdSoftleaf) continue;
      const s = entryRegs(1);
      b.softleafEntry(s, 0, level, MAX_SWAPFILES - 1, b.softleaf.maxOffset);
      b.swpMkExclusive(s, 0, level);
      expectDescribed(s, level, "softleaf", `${k.levelLabel(level)} softleaf`);
    }
  });
  k.check("describe (property): any raw value at any table level names every set bit", [], () => {
    const word = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: g.tables.length - 1 }), word, g.entryBytes === 8 ? word : fc.constant(0), (ti, lo, hi) => {
        const v = entryRegs(1);
        v[0] = lo;
        v[1] = hi;
        expectDescribed(v, g.tables[ti]!.level, null, `raw at ${k.levelLabel(g.tables[ti]!.level)}`);
      }),
      k.fc,
    );
  });
}
