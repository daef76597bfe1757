import {
  ArchInputError,
  entryRegs,
  migrationDirty,
  migrationOffset,
  migrationYoung,
  PMD,
  PTE,
  SWP_MIGRATION_WRITE,
  softleafPfn,
} from "@hugemm/arch";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createPpc8xxBackend } from "./backend";

const FC = { seed: 0x5a9, numRuns: 300 };

describe("swap entries: type in bits 3..7, offset in bits 8..31, exclusive at bit 2", () => {
  const b = createPpc8xxBackend("4k");

  it("exact encodings", () => {
    const r = entryRegs(1);
    b.softleafEntry(r, 0, PTE, 1, 1);
    expect([r[0], r[1]]).toEqual([0x00000108, 0]);
    b.softleafEntry(r, 0, PTE, 31, 0xffffff);
    expect(r[0]).toBe(0xfffffff8);
    b.swpMkExclusive(r, 0, PTE);
    expect(r[0]).toBe(0xfffffffc);
    expect(b.swpExclusive(r, 0, PTE)).toBe(true);
    b.swpClearExclusive(r, 0, PTE);
    expect(r[0]).toBe(0xfffffff8);
    b.softleafEntry(r, 0, PTE, 0x1a, 0x123456);
    expect(r[0]).toBe(0x123456d0);
    expect([b.swpType(r, 0, PTE), b.swpOffset(r, 0, PTE)]).toEqual([0x1a, 0x123456]);
    expect([b.isSoftleaf(r, 0, PTE), b.present(r, 0, PTE), b.none(r, 0, PTE)]).toEqual([true, false, false]);
  });

  it("round trips any type and offset, exclusive independent (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 0xffffff }), fc.boolean(), (type, offset, excl) => {
        const r = entryRegs(1);
        b.softleafEntry(r, 0, PTE, type, offset);
        expect(r[0]! & 3).toBe(0);
        if (excl) b.swpMkExclusive(r, 0, PTE);
        expect([b.swpType(r, 0, PTE), b.swpOffset(r, 0, PTE), b.swpExclusive(r, 0, PTE)]).toEqual([type, offset, excl]);
        expect(b.swpSoftDirty(r, 0, PTE) || b.swpUffdWp(r, 0, PTE)).toBe(false);
        const before = r[0];
        b.swpMkSoftDirty(r, 0, PTE);
        b.swpMkUffdWp(r, 0, PTE);
        b.swpClearSoftDirty(r, 0, PTE);
        b.swpClearUffdWp(r, 0, PTE);
        expect(r[0]).toBe(before);
      }),
      FC,
    );
  });

  it("migration entries keep pfn, young and dirty in 24 bits", () => {
    for (const v of ["4k", "16k"] as const) {
      const bb = createPpc8xxBackend(v);
      const f = bb.softleaf;
      const pfn = bb.geometry.maxPfn;
      const off = migrationOffset(f, pfn, true, true);
      expect(off).toBe(v === "4k" ? 0x3fffff : 0xfffff);
      const r = entryRegs(1);
      bb.softleafEntry(r, 0, PTE, SWP_MIGRATION_WRITE, off);
      const got = bb.swpOffset(r, 0, PTE);
      expect([softleafPfn(f, got), migrationYoung(f, got), migrationDirty(f, got)]).toEqual([pfn, true, true]);
    }
  });

  it("the same format serves the 8M hugetlb entry at level 1", () => {
    const r = entryRegs(1);
    b.softleafEntry(r, 0, PMD, 27, 0x800);
    expect(r[0]).toBe(0x000800d8);
    expect([b.isSoftleaf(r, 0, PMD), b.swpType(r, 0, PMD), b.swpOffset(r, 0, PMD)]).toEqual([true, 27, 0x800]);
  });

  it("bad input: type outside 0..31, offset above 2^24-1", () => {
    const r = entryRegs(1);
    expect(() => b.softleafEntry(r, 0, PTE, 32, 0)).toThrow(ArchInputError);
    expect(() => b.softleafEntry(r, 0, PTE, 32, 0)).toThrow(/swap type 32.*\[0, 31\]/);
    expect(() => b.softleafEntry(r, 0, PTE, -1, 0)).toThrow(/swap type/);
    expect(() => b.softleafEntry(r, 0, PTE, 0, 0x1000000)).toThrow(/swap offset 16777216 \(0x1000000\).*0xffffff/);
    expect(() => b.softleafEntry(r, 0, PTE, 0, 0.5)).toThrow(/swap offset/);
  });
});
