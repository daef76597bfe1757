import {
  ArchInputError,
  entryOf,
  entryRegs,
  entryToBigInt,
  P4D,
  PGD,
  PMD,
  PTE,
  PUD,
  simpleContext,
  SWP_MIGRATION_WRITE,
  VM_EXEC,
  VM_NONE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { createX86_64Backend, type X86_64Backend } from "./backend";

const b4 = createX86_64Backend();
const b5 = createX86_64Backend("5level");
const PAGE_COPY = VM_READ | VM_WRITE;
const PAGE_SHARED = VM_SHARED | VM_READ | VM_WRITE;
const SAVED = 1n << 58n;
const raw = (v: Uint32Array) => entryToBigInt(v, 0);

function pte(b: X86_64Backend, pfn: number, prot: number, level: 0 | 1 | 2 = PTE): Uint32Array {
  const v = entryRegs(1);
  b.pfnEntry(v, 0, level, pfn, prot);
  b.mkhuge(v, 0, level);
  return v;
}

describe("factory and identity", () => {
  it("creates the 4-level backend by default and the 5-level one by variant or option", () => {
    expect(b4.id).toBe("x86-64:4level");
    expect(b5.id).toBe("x86-64:5level");
    expect(createX86_64Backend({ levels: 5 }).id).toBe("x86-64:5level");
    expect(createX86_64Backend("x86-64:5level+no-shstk").variant).toBe("5level+no-shstk");
    expect(b4.description).toBe("x86-64, 4-level paging, 48-bit VA");
    expect(b5.description).toBe("x86-64, 5-level paging (LA57), 57-bit VA");
    expect(b4.specificationVersion).toBe("v1");
  });
  it("declares every capability but contPte, 2M and 1G huge sizes, and a 50-bit swap offset", () => {
    expect(b4.capabilities).toEqual({
      softDirty: true,
      uffdWp: true,
      special: true,
      protnone: true,
      pmdThp: true,
      pudThp: true,
      pudLeaf: true,
      pmdSoftleaf: true,
      contPte: false,
      migrationYoungDirty: true,
    });
    expect(b4.hugeSizes.map((s) => [s.shift, s.level, s.ncontig, s.thp, s.hugetlb])).toEqual([
      [21, PMD, 1, true, true],
      [30, PUD, 1, true, true],
    ]);
    expect(b4.swapOffsetBits).toBe(50);
    expect(b4.softleaf).toEqual({ pfnBits: 34, maxOffset: 2 ** 50 - 1, migrationYoungDirty: true });
    expect(b5.softleaf.pfnBits).toBe(40);
  });
  it("names the protections", () => {
    expect(b4.protName(PAGE_COPY)).toBe("PAGE_COPY");
    expect(b4.protName(VM_SHARED | VM_EXEC | VM_READ)).toBe("PAGE_READONLY_EXEC");
  });
});

describe("bad input", () => {
  it("a pfn above MAX_PHYSMEM_BITS for each variant", () => {
    const v = entryRegs(1);
    expect(() => b4.pfnEntry(v, 0, PTE, 2 ** 34, VM_READ)).toThrow(/invalid pfn 17179869184 \(0x400000000\): expected an integer in \[0, 0x3ffffffff\]/);
    b5.pfnEntry(v, 0, PTE, 2 ** 34, VM_READ);
    expect(b5.pfn(v, 0, PTE)).toBe(2 ** 34);
    expect(() => b5.pfnEntry(v, 0, PTE, 2 ** 40, VM_READ)).toThrow(ArchInputError);
    expect(() => b4.pfnEntry(v, 0, PTE, -1, VM_READ)).toThrow(ArchInputError);
  });
  it("a protection index of 16, -1 or 1.5", () => {
    const v = entryRegs(1);
    for (const prot of [16, -1, 1.5]) {
      expect(() => b4.pfnEntry(v, 0, PTE, 1, prot)).toThrow(/protection index/);
      expect(() => b4.modify(v, 0, PTE, prot)).toThrow(ArchInputError);
      expect(() => b4.protName(prot)).toThrow(ArchInputError);
    }
  });
  it("a swap type of 32, an offset of 2^50, or a level that holds no softleaves", () => {
    const v = entryRegs(1);
    expect(() => b4.softleafEntry(v, 0, PTE, 32, 1)).toThrow(/invalid swap type 32/);
    expect(() => b4.softleafEntry(v, 0, PTE, 1, 2 ** 50)).toThrow(/invalid swap offset 1125899906842624 \(0x4000000000000\)/);
    expect(() => b4.softleafEntry(v, 0, P4D, 1, 1)).toThrow(/softleaf level/);
  });
  it("levels outside 0..4, huge levels above the PUD, PTE-level table entries and unaligned table addresses", () => {
    const v = entryRegs(1);
    // @ts-expect-error deliberately outside the Level type
    expect(() => b4.pfnEntry(v, 0, 6, 1, VM_READ)).toThrow(/page-table level 6/);
    // @ts-expect-error deliberately outside the Level type
    expect(() => b4.describe(v, 0, 5)).toThrow(ArchInputError);
    expect(() => b4.mkhuge(v, 0, P4D)).toThrow(/huge level 3/);
    expect(() => b4.tableEntry(v, 0, PTE, 0x1000, true)).toThrow(/table-entry level 0/);
    expect(() => b4.tableEntry(v, 0, PMD, 0x1800, true)).toThrow(/table physical address/);
    expect(() => b4.tableEntry(v, 0, PMD, 2 ** 46, true)).toThrow(/below 2\^46/);
    expect(() => createX86_64Backend({ levels: 6 as 4 })).toThrow(/expected 4 or 5/);
    expect(() => createX86_64Backend("6level")).toThrow(ArchInputError);
  });
});

describe("entry construction", () => {
  it("PAGE_COPY 4K PTE for pfn 0x1234 is 0x8000000001234025 (P|USER|A|NX)", () => {
    expect(raw(pte(b4, 0x1234, PAGE_COPY))).toBe(0x8000000001234025n);
  });
  it("table entries: _PAGE_TABLE for user tables, _KERNPG_TABLE for kernel ones, above 4G too", () => {
    const v = entryRegs(1);
    b4.tableEntry(v, 0, PMD, 0x123456000, true);
    expect(raw(v)).toBe(0x0000000123456067n);
    expect(b4.tablePa(v, 0, PMD)).toBe(0x123456000);
    b5.tableEntry(v, 0, PGD, 0x3456000, false);
    expect(raw(v)).toBe(0x0000000003456063n);
    expect(b5.bad(v, 0, PGD)).toBe(false);
  });
  it("bit 7: pmd_mkhuge/pud_mkhuge set PSE; at PTE level mkhuge does nothing and bit 7 is PAT", () => {
    const p = pte(b4, 0x1234, PAGE_SHARED);
    expect(p[0]! & 0x80).toBe(0);
    const m = pte(b4, 0x40000, PAGE_SHARED, PMD);
    expect(raw(m)).toBe(0x80000000400000a7n);
    const pat = entryOf(0x80000000012340a7n);
    expect(b4.leaf(pat, 0, PTE) && !b4.transHuge(pat, 0, PTE)).toBe(true);
    expect(b4.describe(pat, 0, PTE).fields.find((f) => f.lo === 7)?.name).toBe("_PAGE_PAT");
    expect(b4.describe(m, 0, PMD).fields.find((f) => f.lo === 7)?.name).toBe("_PAGE_PSE");
  });
});

describe("L1TF inversion through the backend", () => {
  it("a PROT_NONE PTE stores the pfn inverted and is present and protnone", () => {
    const p = pte(b4, 0x1234, VM_NONE);
    expect(raw(p)).toBe(0x000ffffffedcb120n);
    expect(b4.pfn(p, 0, PTE)).toBe(0x1234);
    expect(b4.present(p, 0, PTE) && b4.protnone(p, 0, PTE)).toBe(true);
    expect(b4.describe(p, 0, PTE).fields.find((f) => f.name === "pfn")?.meaning).toMatch(/inverted/);
  });
  it("pmd_mkinvalid re-encodes the pfn inverted and stays present, huge and a leaf", () => {
    const m = pte(b4, 0x40000, PAGE_SHARED, PMD);
    b4.mkyoung(m, 0, PMD);
    b4.mkdirty(m, 0, PMD);
    expect(raw(m)).toBe(0x80000000400008e7n);
    b4.mkinvalid(m, 0, PMD);
    expect(raw(m)).toBe(0x800fffffbfe008e6n);
    expect(b4.pfn(m, 0, PMD)).toBe(0x40000);
    expect(b4.present(m, 0, PMD) && b4.transHuge(m, 0, PMD) && b4.leaf(m, 0, PMD)).toBe(true);
    expect(b4.isSoftleaf(m, 0, PMD)).toBe(false);
    expect(b4.describe(m, 0, PMD).kind).toBe("invalid-leaf");
  });
  it("modify round trips across PROT_NONE at PTE, PMD and PUD", () => {
    for (const [level, pfn] of [
      [PTE, 0x1234],
      [PMD, 0x40000],
      [PUD, 0x80000],
    ] as const) {
      const p = pte(b4, pfn, PAGE_SHARED, level);
      b4.mkdirty(p, 0, level);
      const before = raw(p);
      b4.modify(p, 0, level, VM_NONE);
      expect(b4.pfn(p, 0, level)).toBe(pfn);
      expect(raw(p) & 0x000ffffffffff000n).not.toBe(before & 0x000ffffffffff000n);
      expect(b4.dirty(p, 0, level)).toBe(true);
      b4.modify(p, 0, level, PAGE_SHARED);
      expect(raw(p)).toBe(before);
    }
  });
  it("advancePfn counts down in the raw bits of an inverted entry", () => {
    const p = pte(b4, 0x1234, VM_NONE);
    b4.advancePfn(p, 0, PTE, 3);
    expect(raw(p)).toBe(0x000ffffffedc8120n);
    expect(b4.pfn(p, 0, PTE)).toBe(0x1237);
    expect(() => b4.advancePfn(p, 0, PTE, -1)).toThrow(ArchInputError);
  });
  it("a swap entry's offset is visible inverted in the raw bits, whatever the level", () => {
    for (const level of [PTE, PMD, PUD] as const) {
      const s = entryRegs(1);
      b4.softleafEntry(s, 0, level, SWP_MIGRATION_WRITE, 0x1234);
      expect(raw(s)).toBe(0xdfffffffffdb9600n);
      expect((raw(s) >> 9n) & ((1n << 50n) - 1n)).toBe(((1n << 50n) - 1n) ^ 0x1234n);
      expect(b4.isSoftleaf(s, 0, level) && !b4.present(s, 0, level)).toBe(true);
      expect(b4.swpOffset(s, 0, level)).toBe(0x1234);
      expect(b4.swpType(s, 0, level)).toBe(SWP_MIGRATION_WRITE);
    }
  });
  it("every other extreme type/offset pair round trips at PTE and PMD", () => {
    const max = 2 ** 50 - 1;
    for (const level of [PTE, PMD] as const) {
      for (const type of [0, 1, 23, 31]) {
        for (const offset of [0, 1, 2 ** 20 - 1, Math.floor(max / 2), max - 1, max]) {
          if (type === 0 && offset === max) continue;
          const s = entryRegs(1);
          b4.softleafEntry(s, 0, level, type, offset);
          expect(b4.isSoftleaf(s, 0, level) && !b4.none(s, 0, level)).toBe(true);
          expect([b4.swpType(s, 0, level), b4.swpOffset(s, 0, level)]).toEqual([type, offset]);
        }
      }
    }
  });
  it("type 0 with the largest offset collides with pte_none, as in the kernel", () => {
    const s = entryRegs(1);
    b4.softleafEntry(s, 0, PTE, 0, 2 ** 50 - 1);
    expect(raw(s)).toBe(0n);
    expect(b4.none(s, 0, PTE) && !b4.isSoftleaf(s, 0, PTE)).toBe(true);
  });
});

describe("pte_none with stray Accessed/Dirty", () => {
  it("is still none at PTE, PMD, PUD and P4D; none() is the kernel's, not a zero test", () => {
    for (const level of [PTE, PMD, PUD, P4D] as const) {
      const v = entryOf(0x60n);
      expect(b4.none(v, 0, level)).toBe(true);
      expect(b4.present(v, 0, level) || b4.isSoftleaf(v, 0, level)).toBe(false);
      expect(b4.describe(v, 0, level).kind).toBe("none");
    }
  });
});

describe("saved-dirty transitions", () => {
  it("wrprotect moves Dirty into SavedDirty; dirty() still reports it", () => {
    const p = pte(b4, 0x1234, PAGE_SHARED);
    b4.mkdirty(p, 0, PTE);
    expect(raw(p)).toBe(0x8000000001234867n); // mkdirty also sets soft-dirty
    b4.wrprotect(p, 0, PTE);
    expect(raw(p)).toBe(0x8000000001234825n | SAVED);
    expect(b4.dirty(p, 0, PTE) && !b4.write(p, 0, PTE)).toBe(true);
  });
  it("mkdirty on a read-only entry sets SavedDirty, never Write=0,Dirty=1", () => {
    const p = pte(b4, 0x1234, PAGE_COPY);
    b4.mkdirty(p, 0, PTE);
    expect(raw(p)).toBe(0x8000000001234825n | SAVED);
  });
  it("mkwrite moves SavedDirty back to Dirty (pte_mkwrite for an ordinary VMA)", () => {
    const p = entryOf(0x8000000001234825n | SAVED);
    b4.mkwrite(p, 0, PTE);
    expect(raw(p)).toBe(0x8000000001234867n);
  });
  it("mkclean clears both dirties; mkwrite of a clean entry does not make it dirty", () => {
    const p = entryOf(0x8000000001234825n | SAVED);
    b4.mkclean(p, 0, PTE);
    expect(raw(p)).toBe(0x8000000001234825n);
    b4.mkwrite(p, 0, PTE);
    expect(b4.dirty(p, 0, PTE)).toBe(false);
  });
  it("modify from writable to read-only moves Dirty aside", () => {
    const p = pte(b4, 0x1234, PAGE_SHARED);
    b4.mkdirty(p, 0, PTE);
    b4.modify(p, 0, PTE, PAGE_COPY);
    expect(raw(p)).toBe(0x8000000001234825n | SAVED);
  });
  it("a Write=0,Dirty=1 leaf is a shadow-stack page: writable with X86_FEATURE_SHSTK, not without", () => {
    const shstk = entryOf(0x8000000001234065n);
    expect(b4.write(shstk, 0, PTE)).toBe(true);
    expect(createX86_64Backend("4level+no-shstk").write(shstk, 0, PTE)).toBe(false);
    expect(b4.describe(shstk, 0, PTE).summary).toMatch(/shadow-stack/);
  });
});

describe("uffd-wp", () => {
  it("pte_mkuffd_wp also write-protects (moving Dirty aside); clear_uffd_wp leaves it read-only", () => {
    const p = pte(b4, 0x1234, PAGE_SHARED);
    b4.mkdirty(p, 0, PTE);
    b4.mkuffdWp(p, 0, PTE);
    expect(raw(p)).toBe(0x8000000001234c25n | SAVED);
    expect(b4.uffdWp(p, 0, PTE) && !b4.write(p, 0, PTE) && b4.dirty(p, 0, PTE)).toBe(true);
    b4.clearUffdWp(p, 0, PTE);
    expect(raw(p)).toBe(0x8000000001234825n | SAVED);
  });
  it("pmd_mkuffd_wp write-protects a huge PMD the same way", () => {
    const m = pte(b4, 0x40000, PAGE_SHARED, PMD);
    b4.mkuffdWp(m, 0, PMD);
    expect(raw(m)).toBe(0x80000000400004a5n);
  });
});

describe("PUD leaves", () => {
  it("a PROT_NONE or invalidated PUD is not pud_present() (PRESENT only), but is a huge leaf, bad, and not a softleaf", () => {
    const p = pte(b4, 0x80000, VM_NONE, PUD);
    expect(raw(p)).toBe(0x000fffff400001a0n);
    expect(b4.present(p, 0, PUD)).toBe(false);
    expect(b4.protnone(p, 0, PUD)).toBe(false);
    expect(b4.leaf(p, 0, PUD) && b4.transHuge(p, 0, PUD) && b4.bad(p, 0, PUD)).toBe(true);
    expect(b4.isSoftleaf(p, 0, PUD)).toBe(false);
    expect(b4.describe(p, 0, PUD).kind).toBe("protnone");
    const inv = pte(b4, 0x80000, PAGE_SHARED, PUD);
    b4.mkinvalid(inv, 0, PUD);
    expect(b4.present(inv, 0, PUD) || b4.isSoftleaf(inv, 0, PUD)).toBe(false);
    expect(b4.pfn(inv, 0, PUD)).toBe(0x80000);
  });
});

describe("page-table operations", () => {
  it("setAccessFlags writes only for a write fault, and reports whether the entries differ", () => {
    const table = new Uint32Array(1024);
    const ctx = simpleContext();
    const old = pte(b4, 0x1234, PAGE_SHARED);
    b4.mkold(old, 0, PTE);
    b4.writeEntry(table, 3, PTE, old, 0);
    const young = Uint32Array.from(old);
    b4.mkyoung(young, 0, PTE);
    expect(b4.setAccessFlags(ctx, table, 3, PTE, 0x3000, young, 0, false)).toBe(true);
    const cur = entryRegs(1);
    b4.readEntry(table, 3, PTE, cur, 0);
    expect(raw(cur)).toBe(raw(old));
    b4.mkdirty(young, 0, PTE);
    expect(b4.setAccessFlags(ctx, table, 3, PTE, 0x3000, young, 0, true)).toBe(true);
    b4.readEntry(table, 3, PTE, cur, 0);
    expect(raw(cur)).toBe(raw(young));
    expect(b4.setAccessFlags(ctx, table, 3, PTE, 0x3000, young, 0, true)).toBe(false);
    expect(ctx.flushes).toEqual([]);
  });
});
