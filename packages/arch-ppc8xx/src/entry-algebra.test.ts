import { ArchInputError, type EntryReg, entryRegs, type Level, PMD, PTE, PUD, PGD } from "@hugemm/arch";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createPpc8xxBackend } from "./backend";

const FC = { seed: 0x8e8, numRuns: 300 };
const b4 = createPpc8xxBackend("4k");
const b16 = createPpc8xxBackend("16k");

function reg(w: number): EntryReg {
  const r = entryRegs(1);
  r[0] = w >>> 0;
  return r;
}

function leaf(b = b4, pfn = 0x123, prot = 11, level: Level = PTE): EntryReg {
  const r = entryRegs(1);
  b.pfnEntry(r, 0, level, pfn, prot);
  return r;
}

describe("PTE construction and modifiers: exact kernel bits", () => {
  it("PAGE_SHARED entry and each modifier", () => {
    const p = leaf();
    expect(p[0]).toBe(0x00123021);
    b4.mkdirty(p, 0, PTE);
    expect(p[0]).toBe(0x00123121);
    b4.wrprotect(p, 0, PTE);
    expect(p[0]).toBe(0x00123721); // _PAGE_RO, dirty kept
    expect(b4.write(p, 0, PTE)).toBe(false);
    expect(b4.dirty(p, 0, PTE)).toBe(true);
    b4.mkwrite(p, 0, PTE);
    expect(p[0]).toBe(0x00123121);
    b4.mkold(p, 0, PTE);
    expect(p[0]).toBe(0x00123101);
    b4.mkclean(p, 0, PTE);
    expect(p[0]).toBe(0x00123001);
    b4.mkspecial(p, 0, PTE);
    expect(p[0]).toBe(0x00123081);
    b4.mkyoung(p, 0, PTE);
    expect(p[0]).toBe(0x001230a1);
    expect(p[1]).toBe(0);
  });

  it("PAGE_NONE is a valid entry with NA permissions, not protnone", () => {
    for (const b of [b4, b16]) {
      const p = leaf(b, 0x42, 0);
      expect(p[0]).toBe(b === b4 ? 0x00042221 : 0x00108229);
      expect(b.present(p, 0, PTE)).toBe(true);
      expect(b.leaf(p, 0, PTE)).toBe(true);
      expect(b.protnone(p, 0, PTE)).toBe(false);
      expect(b.write(p, 0, PTE)).toBe(false);
      expect(b.exec(p, 0, PTE)).toBe(false);
      expect(b.young(p, 0, PTE)).toBe(true); // _PAGE_BASE carries ACCESSED
      // pte_mkwrite_novma clears the whole PP field: NA becomes RW.
      b.mkwrite(p, 0, PTE);
      expect(p[0]! & 0x600).toBe(0);
    }
  });

  it("pte_modify keeps RPN, DIRTY, ACCESSED, SPECIAL and takes the rest from the protection", () => {
    const p = reg(0x00123000 | 0x800 | 0x100 | 0x80 | 0x40 | 0x8 | 0x4 | 0x1);
    b4.modify(p, 0, PTE, 1);
    expect(p[0]).toBe(0x001231a1 | 0x600);
    // _PAGE_BASE brings ACCESSED back even if the entry was old.
    const q = leaf(b4, 0x10, 10);
    b4.mkold(q, 0, PTE);
    b4.modify(q, 0, PTE, 15);
    expect(q[0]).toBe(0x00010061);
    // 16K pages: SPS comes from _PAGE_BASE.
    const r = reg(0x00124000 | 0x101);
    b16.modify(r, 0, PTE, 0);
    expect(r[0]).toBe(0x00124329);
  });

  it("pte_advance_pfn adds whole pages", () => {
    const p = leaf(b4, 0x123, 10);
    b4.advancePfn(p, 0, PTE, 3);
    expect(p[0]).toBe(0x00126021);
    const q = leaf(b16, 0x123, 10);
    b16.advancePfn(q, 0, PTE, 1);
    expect(q[0]).toBe(0x00490029);
  });

  it("modifiers touch only their own bits (property)", () => {
    const ops: [string, (b: typeof b4, v: EntryReg) => void, number][] = [
      ["mkdirty", (b, v) => b.mkdirty(v, 0, PTE), 0x100],
      ["mkclean", (b, v) => b.mkclean(v, 0, PTE), 0x100],
      ["mkyoung", (b, v) => b.mkyoung(v, 0, PTE), 0x20],
      ["mkold", (b, v) => b.mkold(v, 0, PTE), 0x20],
      ["mkspecial", (b, v) => b.mkspecial(v, 0, PTE), 0x80],
      ["wrprotect", (b, v) => b.wrprotect(v, 0, PTE), 0x600],
      ["mkwrite", (b, v) => b.mkwrite(v, 0, PTE), 0x600],
      ["mksoftDirty", (b, v) => b.mksoftDirty(v, 0, PTE), 0],
      ["mkuffdWp", (b, v) => b.mkuffdWp(v, 0, PTE), 0],
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: ops.length - 1 }), (w, i) => {
        const [name, op, mask] = ops[i]!;
        const v = reg(w);
        op(b4, v);
        expect((v[0]! ^ w) & ~mask, name).toBe(0);
        const once = v[0];
        op(b4, v);
        expect(v[0], `${name} is idempotent`).toBe(once);
      }),
      FC,
    );
  });

  it("young, dirty, write and special are independent (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x3ffff }), fc.integer({ min: 0, max: 15 }), fc.boolean(), fc.boolean(), fc.boolean(), (pfn, prot, y, d, w) => {
        const v = leaf(b16, pfn, prot);
        if (y) b16.mkyoung(v, 0, PTE);
        else b16.mkold(v, 0, PTE);
        if (d) b16.mkdirty(v, 0, PTE);
        else b16.mkclean(v, 0, PTE);
        if (w) b16.mkwrite(v, 0, PTE);
        else b16.wrprotect(v, 0, PTE);
        expect([b16.young(v, 0, PTE), b16.dirty(v, 0, PTE), b16.write(v, 0, PTE), b16.special(v, 0, PTE)]).toEqual([y, d, w, false]);
        expect(b16.pfn(v, 0, PTE)).toBe(pfn);
        expect(b16.present(v, 0, PTE)).toBe(true);
      }),
      FC,
    );
  });

  it("no soft-dirty, uffd-wp, protnone, THP or cont", () => {
    const p = reg(0xffffffff);
    expect(b4.softDirty(p, 0, PTE)).toBe(false);
    expect(b4.uffdWp(p, 0, PTE)).toBe(false);
    expect(b4.protnone(p, 0, PTE)).toBe(false);
    expect(b4.transHuge(p, 0, PMD)).toBe(false);
    expect(b4.cont(p, 0, PTE)).toBe(false);
    b4.clearSoftDirty(p, 0, PTE);
    b4.clearUffdWp(p, 0, PTE);
    expect(p[0]).toBe(0xffffffff);
    expect(() => b4.mkinvalid(p, 0, PMD)).toThrow(/pmd_mkinvalid/);
    b4.mkhuge(p, 0, PTE); // a no-op at the PTE level
    const q = leaf(b4);
    b4.mkhuge(q, 0, PTE);
    expect(q[0]).toBe(0x00123021);
  });
});

describe("user(): decided by the PMD", () => {
  it("a PTE answers 'ASID-tagged mapping': present without _PAGE_SH", () => {
    expect(b4.user(leaf(), 0, PTE)).toBe(true);
    expect(b4.user(reg(0x00123000 | 0x21 | 0x104), 0, PTE)).toBe(false); // PAGE_KERNEL = BASE | SH | DIRTY
    expect(b4.user(reg(0), 0, PTE)).toBe(false);
    expect(b4.user(reg(0x100), 0, PTE)).toBe(false); // a swap entry
  });

  it("a table pointer answers with _PMD_USER", () => {
    const t = entryRegs(1);
    b4.tableEntry(t, 0, PMD, 0x00345000, true);
    expect(t[0]).toBe(0x00345041);
    expect(b4.user(t, 0, PMD)).toBe(true);
    expect(b4.exec(t, 0, PMD)).toBe(false); // 0x40 is _PMD_USER here
    b4.tableEntry(t, 0, PGD, 0x00345000, false);
    expect(t[0]).toBe(0x00345001);
    expect(b4.user(t, 0, PUD)).toBe(false);
  });
});

describe("level-1 entries", () => {
  it("pmd_populate gives a present, non-bad, non-leaf table pointer at every folded level", () => {
    for (const level of [1, 2, 3, 4] as const) {
      const t = entryRegs(1);
      b16.tableEntry(t, 0, level, 0xfffff000, true);
      expect(t[0]).toBe(0xfffff041);
      expect([b16.present(t, 0, level), b16.table(t, 0, level), b16.bad(t, 0, level), b16.leaf(t, 0, level)]).toEqual([true, true, false, false]);
      expect(b16.tablePa(t, 0, level)).toBe(0xfffff000);
      expect(b16.none(t, 0, level)).toBe(false);
    }
  });

  it("the 8M flag keeps a PMD a table pointer", () => {
    const t = reg(0x00345000 | 0xc | 0x41);
    expect([b4.table(t, 0, PMD), b4.bad(t, 0, PMD), b4.leaf(t, 0, PMD)]).toEqual([true, false, false]);
  });

  it("the 8M huge pte read through the pmdp is a leaf (and pmd_bad)", () => {
    const h = leaf(b4, 0x800, 11, PMD);
    expect(h[0]).toBe(0x00800021);
    b4.mkhuge(h, 0, PMD);
    expect(h[0]).toBe(0x00800829);
    expect([b4.leaf(h, 0, PMD), b4.bad(h, 0, PMD), b4.table(h, 0, PMD), b4.transHuge(h, 0, PMD)]).toEqual([true, true, false, false]);
    expect(b4.pfn(h, 0, PMD)).toBe(0x800);
    expect(b4.user(h, 0, PMD)).toBe(true);
    b4.mkdirty(h, 0, PMD);
    b4.wrprotect(h, 0, PMD);
    expect([b4.dirty(h, 0, PMD), b4.write(h, 0, PMD)]).toEqual([true, false]);
  });

  it("pmd_bad needs a present word", () => {
    expect(b4.bad(reg(0xf90), 0, PMD)).toBe(false);
    expect(b4.bad(reg(0xf91), 0, PMD)).toBe(true);
    expect(b4.bad(reg(0xf91), 0, PTE)).toBe(false);
    expect(b4.table(reg(0x1000), 0, PTE)).toBe(false);
  });
});

describe("bad input", () => {
  it("a pfn above maxPfn", () => {
    expect(() => leaf(b4, 0x100000)).toThrow(ArchInputError);
    expect(() => leaf(b4, 0x100000)).toThrow(/pfn 1048576 \(0x100000\).*0xfffff/);
    expect(() => leaf(b16, 0x40000)).toThrow(/0x3ffff/);
    expect(() => leaf(b4, -1)).toThrow(ArchInputError);
    expect(() => leaf(b4, 1.5)).toThrow(ArchInputError);
    expect(leaf(b4, 0xfffff)[0]).toBe(0xfffff021);
  });

  it("a level outside 0..4", () => {
    for (const level of [5, -1, 0.5]) {
      expect(() => b4.present(reg(1), 0, level as Level)).toThrow(/page-table level/);
      expect(() => b4.readEntry(new Uint32Array(1024), 0, level as Level, entryRegs(1), 0)).toThrow(ArchInputError);
    }
  });

  it("table entries need a table level and a 4K-aligned address below 4G", () => {
    const t = entryRegs(1);
    expect(() => b4.tableEntry(t, 0, PTE, 0x1000, true)).toThrow(/table entry level 0/);
    expect(() => b4.tableEntry(t, 0, PMD, 0x1800, true)).toThrow(/4K-aligned/);
    expect(() => b4.tableEntry(t, 0, PMD, 0x100000000, true)).toThrow(ArchInputError);
    expect(() => b4.tablePa(t, 0, PTE)).toThrow(/tablePa level 0/);
  });
});
