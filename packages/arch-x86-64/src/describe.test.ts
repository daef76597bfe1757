import { entryOf, P4D, PGD, PMD, PTE, PUD, SWP_MIGRATION_WRITE, SWP_PTE_MARKER, unnamedBits } from "@hugemm/arch";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createX86_64Backend } from "./backend";

const b4 = createX86_64Backend();
const b5 = createX86_64Backend("5level");

function fieldsOf(x: bigint, level: 0 | 1 | 2 | 3 | 4, b = b4) {
  const d = b.describe(entryOf(x), 0, level);
  return { d, names: d.fields.map((f) => f.name), byName: (n: string) => d.fields.find((f) => f.name === n) };
}

describe("describe", () => {
  it("PAGE_COPY 4K PTE for pfn 0x1234: every bit by its kernel name", () => {
    const { d, names, byName } = fieldsOf(0x8000000001234025n, PTE);
    expect(d.kind).toBe("leaf");
    expect(d.hex).toBe("0x8000000001234025");
    expect(names).toEqual(["_PAGE_PRESENT", "_PAGE_USER", "_PAGE_ACCESSED", "pfn", "_PAGE_NX"]);
    expect(byName("pfn")).toMatchObject({ lo: 12, hi: 51, value: 0x1234 });
    expect(d.summary).toBe("PTE leaf pfn 0x1234 r-- user young");
  });
  it("a dirty, special, soft-dirty, uffd-wp, global, pkey 5 PTE", () => {
    const { d, names, byName } = fieldsOf(0x2800000001234fe7n | (1n << 58n) | 0x100n, PTE);
    expect(names).toEqual(expect.arrayContaining(["_PAGE_DIRTY", "_PAGE_PAT", "_PAGE_GLOBAL", "_PAGE_SPECIAL", "_PAGE_UFFD_WP", "_PAGE_SOFT_DIRTY", "_PAGE_SAVED_DIRTY", "_PAGE_PKEY"]));
    expect(byName("_PAGE_PKEY")).toMatchObject({ lo: 59, hi: 62, value: 5 });
    expect(d.summary).toContain("pkey 5");
    expect(d.summary).toContain("global");
  });
  it("a PROT_NONE PTE names PROTNONE (bit 8) and decodes the inverted pfn", () => {
    const { d, byName } = fieldsOf(0x000ffffffedcb120n, PTE);
    expect(d.kind).toBe("protnone");
    expect(byName("_PAGE_PROTNONE")).toMatchObject({ lo: 8, hi: 8 });
    expect(byName("pfn")?.value).toBe(0x1234);
    expect(d.summary).toBe("PTE PROT_NONE pfn 0x1234 r-x kernel young");
  });
  it("a 2M leaf: PSE, PAT_LARGE at bit 12, reserved bits 13..20, pfn from bit 21", () => {
    const { d, byName } = fieldsOf(0x8000000040003ea7n, PMD);
    expect(d.kind).toBe("leaf");
    expect(byName("_PAGE_PSE")?.lo).toBe(7);
    expect(byName("_PAGE_PAT_LARGE")?.lo).toBe(12);
    expect(byName("reserved")).toMatchObject({ lo: 13, hi: 20, value: 1 });
    expect(byName("pfn")).toMatchObject({ lo: 21, hi: 51, value: 0x40000 });
  });
  it("a 1G leaf takes its pfn from bit 30", () => {
    const { d, byName } = fieldsOf(0x00000000800000e7n, PUD);
    expect(d.summary).toBe("PUD 1G leaf pfn 0x80000 rwx user young dirty");
    expect(byName("pfn")).toMatchObject({ lo: 30, hi: 51, value: 0x80000 });
  });
  it("an invalidated 2M leaf", () => {
    const { d } = fieldsOf(0x800fffffbfe008e6n, PMD);
    expect(d.kind).toBe("invalid-leaf");
    expect(d.summary).toMatch(/^PMD 2M invalidated leaf pfn 0x40000/);
  });
  it("table entries: address, and the root's bit 58 is _PAGE_NOPTISHADOW", () => {
    const t = fieldsOf(0x0000000123456067n, PMD);
    expect(t.d.kind).toBe("table");
    expect(t.byName("table address")?.value).toBe(0x123456000);
    expect(t.d.summary).toBe("PMD table -> 0x123456000 user");
    expect(fieldsOf(0x0400000000101067n, P4D).names).toContain("_PAGE_NOPTISHADOW");
    expect(fieldsOf(0x0400000000101067n, P4D, b5).names).toContain("_PAGE_SOFTW5");
    expect(fieldsOf(0x0400000000101067n, PGD, b5).names).toContain("_PAGE_NOPTISHADOW");
  });
  it("bad entries: a present PMD without Dirty, a non-present P4D", () => {
    expect(fieldsOf(0x0000000000101023n, PMD).d.kind).toBe("bad");
    expect(fieldsOf(0x0000000000101066n, P4D).d.kind).toBe("bad");
  });
  it("softleaves: type with its softleaf meaning, inverted offset, swap flags", () => {
    const { d, byName } = fieldsOf(0xdfffffffffdb960en, PTE);
    expect(d.kind).toBe("softleaf");
    expect(byName("swap type")).toMatchObject({ lo: 59, hi: 63, value: SWP_MIGRATION_WRITE });
    expect(byName("swap offset")).toMatchObject({ lo: 9, hi: 58, value: 0x1234 });
    expect(d.fields.map((f) => f.name)).toEqual(expect.arrayContaining(["_PAGE_SWP_SOFT_DIRTY", "_PAGE_SWP_UFFD_WP", "_PAGE_SWP_EXCLUSIVE"]));
    expect(d.summary).toBe("PTE softleaf type 27 (migration-write pfn 0x1234) offset 0x1234 soft-dirty uffd-wp exclusive");
    const marker = fieldsOf(0xfffffffffffff600n, PTE);
    expect(marker.byName("swap type")?.value).toBe(SWP_PTE_MARKER);
    expect(marker.d.summary).toContain("marker 0x4");
  });
  it("none entries, with stray A/D named", () => {
    expect(fieldsOf(0n, PTE).d.kind).toBe("none");
    expect(fieldsOf(0x60n, PMD).names).toEqual(["_PAGE_ACCESSED", "_PAGE_DIRTY"]);
    expect(fieldsOf(0x60n, PGD, b5).d.kind).toBe("bad");
  });
  it("names every set bit of any 64-bit value at any level (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(PTE, PMD, PUD, P4D, PGD), fc.boolean(), (lo, hi, level, l5) => {
        const b = l5 ? b5 : b4;
        const v = new Uint32Array([lo, hi]);
        const d = b.describe(v, 0, level);
        expect(unnamedBits(d, lo, hi)).toEqual([]);
        for (const f of d.fields) expect(f.lo <= f.hi && f.hi <= 63).toBe(true);
      }),
      { seed: 0x86, numRuns: 2000 },
    );
  });
});
