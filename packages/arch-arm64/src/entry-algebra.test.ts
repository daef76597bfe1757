import { entryOf, entryRegs, PGD, PMD, PTE, PUD, P4D, type EntryReg, type Level } from "@hugemm/arch";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createArm64Backend } from "./index";
import { big } from "./test-fixtures";

const b = createArm64Backend("4k-48");
const SHARED_CLEAN = 0x0068000000000fc3n; // PAGE_SHARED: WRITE | RDONLY
const SHARED_HW_DIRTY = 0x0068000000000f43n; // WRITE, RDONLY cleared by the hardware
const apply = (x: bigint, level: Level, ...ops: ((v: EntryReg, o: number, l: Level) => void)[]): bigint => {
  const r = entryOf(x);
  for (const op of ops) op.call(b, r, 0, level);
  return big(r);
};

describe("DBM write/dirty model (pgtable.h)", () => {
  it("a fresh shared writable entry is writable and clean", () => {
    const r = entryOf(SHARED_CLEAN);
    expect([b.write(r, 0, PTE), b.dirty(r, 0, PTE)]).toEqual([true, false]);
  });

  it("pte_hw_dirty = WRITE && !RDONLY", () => {
    expect(b.dirty(entryOf(SHARED_HW_DIRTY), 0, PTE)).toBe(true);
    expect(b.dirty(entryOf(0x0060000000000f43n), 0, PTE)).toBe(false); // !RDONLY without WRITE
  });

  it("pte_mkdirty sets PTE_DIRTY and clears RDONLY when writable", () => {
    expect(apply(SHARED_CLEAN, PTE, b.mkdirty)).toBe(0x00e8000000000f43n);
    expect(apply(0x0060000000000fc3n, PTE, b.mkdirty)).toBe(0x00e0000000000fc3n);
  });

  it("pte_mkclean clears PTE_DIRTY and sets RDONLY", () => {
    expect(apply(0x00e8000000000f43n, PTE, b.mkclean)).toBe(SHARED_CLEAN);
  });

  it("pte_wrprotect moves hardware dirtiness into PTE_DIRTY, clears WRITE, sets RDONLY", () => {
    expect(apply(SHARED_HW_DIRTY, PTE, b.wrprotect)).toBe(0x00e0000000000fc3n);
    expect(apply(SHARED_CLEAN, PTE, b.wrprotect)).toBe(0x0060000000000fc3n);
  });

  it("pte_mkwrite_novma sets WRITE and clears RDONLY only for a software-dirty entry", () => {
    expect(apply(0x0060000000000fc3n, PTE, b.mkwrite)).toBe(SHARED_CLEAN);
    expect(apply(0x00e0000000000fc3n, PTE, b.mkwrite)).toBe(0x00e8000000000f43n);
  });

  it("pte_modify keeps hardware dirtiness across a protection change", () => {
    const ro = apply(SHARED_HW_DIRTY, PTE, (v, o, l) => b.modify(v, o, l, 1));
    expect(ro).toBe(0x00e0000000000fc3n);
    expect(apply(ro, PTE, (v, o, l) => b.modify(v, o, l, 11))).toBe(0x00e8000000000f43n);
  });

  it("pte_modify to PROT_NONE and back keeps pfn, young and dirty", () => {
    const r = entryRegs(1);
    b.pfnEntry(r, 0, PTE, 0x1234, 11);
    b.mkdirty(r, 0, PTE);
    b.modify(r, 0, PTE, 0);
    expect(big(r)).toBe(0x00e0000001234f82n);
    expect([b.protnone(r, 0, PTE), b.present(r, 0, PTE), b.dirty(r, 0, PTE), b.young(r, 0, PTE)]).toEqual([true, true, true, true]);
    b.modify(r, 0, PTE, 11);
    expect(big(r)).toBe(0x00e8000001234f43n);
  });

  it("pte_mkuffd_wp also write-protects; clear_uffd_wp leaves it read-only", () => {
    const wp = apply(SHARED_HW_DIRTY, PTE, b.mkuffdWp);
    expect(wp).toBe(0x04e0000000000fc3n);
    expect(b.uffdWp(entryOf(wp), 0, PTE)).toBe(true);
    expect(apply(wp, PTE, b.clearUffdWp)).toBe(0x00e0000000000fc3n);
  });

  it("soft-dirty helpers are no-ops (no HAVE_ARCH_SOFT_DIRTY)", () => {
    expect(apply(SHARED_CLEAN, PTE, b.mksoftDirty)).toBe(SHARED_CLEAN);
    expect(b.softDirty(entryOf(0xffffffffffffffffn), 0, PTE)).toBe(false);
  });

  it("special, young, cont are single bits", () => {
    expect(apply(SHARED_CLEAN, PTE, b.mkspecial)).toBe(SHARED_CLEAN | (1n << 56n));
    expect(apply(SHARED_CLEAN, PTE, b.mkold)).toBe(SHARED_CLEAN & ~0x400n);
    expect(b.cont(entryOf(1n << 52n), 0, PTE)).toBe(true);
  });
});

describe("present, huge and table predicates", () => {
  const block = (prot: number): EntryReg => {
    const r = entryRegs(1);
    b.pfnEntry(r, 0, PMD, 0x200, prot);
    b.mkhuge(r, 0, PMD);
    return r;
  };

  it("pmd_mkhuge clears the table bit and keeps VALID", () => {
    expect(big(block(1))).toBe(0x0060000000200fc1n);
    expect(big(block(0))).toBe(0x0060000000200f80n);
    const pte = entryOf(SHARED_CLEAN);
    b.mkhuge(pte, 0, PTE);
    expect(big(pte)).toBe(SHARED_CLEAN);
  });

  it("a PMD block is leaf, trans-huge and bad; a table is none of them", () => {
    const r = block(1);
    expect([b.leaf(r, 0, PMD), b.transHuge(r, 0, PMD), b.bad(r, 0, PMD), b.table(r, 0, PMD)]).toEqual([true, true, true, false]);
    const t = entryRegs(1);
    b.tableEntry(t, 0, PMD, 0x5000, true);
    expect([b.leaf(t, 0, PMD), b.transHuge(t, 0, PMD), b.bad(t, 0, PMD), b.table(t, 0, PMD)]).toEqual([false, false, false, true]);
  });

  it("pmd_mkinvalid keeps a block present, trans-huge and leaf but not valid", () => {
    const r = block(11);
    b.mkinvalid(r, 0, PMD);
    expect(big(r)).toBe(0x0068000000200fc0n);
    expect([b.present(r, 0, PMD), b.transHuge(r, 0, PMD), b.leaf(r, 0, PMD), b.protnone(r, 0, PMD)]).toEqual([true, true, true, false]);
  });

  it("PROT_NONE is present-invalid with !USER and UXN, so protnone", () => {
    for (const level of [PTE, PMD] as const) {
      const r = level === PTE ? entryOf(0x0060000000001f82n) : block(8);
      expect([b.protnone(r, 0, level), b.present(r, 0, level), b.isSoftleaf(r, 0, level)]).toEqual([true, true, false]);
    }
  });

  it("pud_leaf reads the type bits unless pud_table() is constant (64K, or the PMD level folded)", () => {
    const r = entryOf(0x0060000040000fc1n);
    expect(b.leaf(r, 0, PUD)).toBe(true);
    expect(b.transHuge(r, 0, PUD)).toBe(false); // no PUD THP on arm64
    for (const variant of ["16k-47", "16k-48"]) expect(createArm64Backend(variant).leaf(r, 0, PUD), variant).toBe(true);
    for (const variant of ["64k-48", "64k-52"]) expect(createArm64Backend(variant).leaf(r, 0, PUD), variant).toBe(false);
    // 16K: a kernel-side leaf that the MMU rejects; it is never created (pud_sect_supported() is 4K only).
    expect(createArm64Backend("16k-47").capabilities.pudLeaf).toBe(false);
  });

  it("p4d/pgd entries are present when not none (p4d_present = !p4d_none)", () => {
    const junk = entryOf(0x4n);
    expect([b.present(junk, 0, P4D), b.bad(junk, 0, P4D), b.isSoftleaf(junk, 0, P4D)]).toEqual([true, true, false]);
    expect(b.present(junk, 0, PUD)).toBe(false);
    expect(b.bad(entryOf(0n), 0, P4D)).toBe(false);
  });

  it("folded levels act as the level they fold into", () => {
    const two = createArm64Backend("16k-36"); // PGD = P4D = PUD = PMD
    const r = entryRegs(1);
    two.pfnEntry(r, 0, PMD, 0x800, 1);
    two.mkhuge(r, 0, PUD);
    for (const level of [PMD, PUD, P4D, PGD] as const) {
      expect([two.leaf(r, 0, level), two.transHuge(r, 0, level), two.pfn(r, 0, level)], String(level)).toEqual([true, true, 0x800]);
    }
    const three = createArm64Backend("4k-39"); // PGD = P4D = PUD
    expect(three.leaf(entryOf(0x0060000040000fc1n), 0, PGD)).toBe(true);
  });

  it("user and exec read AP[1]/UXN in leaves and APTable/UXNTable in tables", () => {
    expect([b.user(entryOf(SHARED_CLEAN), 0, PTE), b.exec(entryOf(SHARED_CLEAN), 0, PTE)]).toEqual([true, false]);
    expect(b.exec(entryOf(0x0020000000000fc3n), 0, PTE)).toBe(true);
    const t = entryRegs(1);
    b.tableEntry(t, 0, PMD, 0x5000, true);
    expect([b.user(t, 0, PMD), b.exec(t, 0, PMD)]).toEqual([true, true]);
    t[1] = t[1]! | 0x30000000; // APTable[0], UXNTable
    expect([b.user(t, 0, PMD), b.exec(t, 0, PMD)]).toEqual([false, false]);
  });
});

describe("debug_vm_pgtable basic rows, every protection, PTE and PMD (property)", () => {
  it("young/dirty/write algebra holds and leaves the pfn alone", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 27 - 1 }), fc.integer({ min: 0, max: 15 }), fc.constantFrom(PTE, PMD), (n, prot, level) => {
        const pfn = level === PMD ? n * 512 : n;
        const p = entryRegs(1);
        b.pfnEntry(p, 0, level, pfn, prot);
        b.mkhuge(p, 0, level);
        const x = big(p);
        const t = (...ops: ((v: EntryReg, o: number, l: Level) => void)[]) => entryOf(apply(x, level, ...ops));
        expect(b.dirty(t(b.wrprotect), 0, level)).toBe(false);
        expect(b.young(t(b.mkold, b.mkyoung), 0, level)).toBe(true);
        expect(b.young(t(b.mkyoung, b.mkold), 0, level)).toBe(false);
        expect(b.dirty(t(b.mkclean, b.mkdirty), 0, level)).toBe(true);
        expect(b.dirty(t(b.mkdirty, b.mkclean), 0, level)).toBe(false);
        expect(b.write(t(b.wrprotect, b.mkwrite), 0, level)).toBe(true);
        expect(b.write(t(b.mkwrite, b.wrprotect), 0, level)).toBe(false);
        expect(b.dirty(t(b.mkclean, b.wrprotect), 0, level)).toBe(false);
        expect(b.dirty(t(b.mkdirty, b.wrprotect), 0, level)).toBe(true);
        expect(b.dirty(t(b.mkdirty, b.mkwrite), 0, level)).toBe(true);
        expect(b.dirty(t(b.mkclean, b.mkwrite), 0, level)).toBe(false);
        expect(b.write(t(b.mkwrite, b.mkdirty), 0, level)).toBe(true);
        expect(b.pfn(t(b.mkdirty, b.wrprotect, b.mkwrite, b.mkold, b.mkspecial), 0, level)).toBe(pfn);
      }),
      { seed: 42, numRuns: 400 },
    );
  });

  it("young, special and uffd-wp are independent of each other and of the pfn", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (x) => {
        const young = b.young(entryOf(x), 0, PTE);
        expect(b.young(entryOf(apply(x, PTE, b.mkspecial, b.mkuffdWp, b.clearUffdWp)), 0, PTE)).toBe(young);
        expect(b.special(entryOf(apply(x, PTE, b.mkold, b.mkyoung)), 0, PTE)).toBe(b.special(entryOf(x), 0, PTE));
        expect(b.tablePa(entryOf(apply(x, PTE, b.mkold, b.mkdirty, b.wrprotect, b.mkspecial)), 0, PTE)).toBe(b.tablePa(entryOf(x), 0, PTE));
        // every modifier is idempotent
        for (const op of [b.mkold, b.mkyoung, b.mkdirty, b.mkclean, b.mkwrite, b.wrprotect, b.mkspecial, b.mkinvalid]) {
          const once = apply(x, PTE, op);
          expect(apply(once, PTE, op)).toBe(once);
        }
      }),
      { seed: 7, numRuns: 500 },
    );
  });
});
