import { entryOf, entryRegs, entryToBigInt, PMD, PTE, PUD } from "@hugemm/arch";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { modifyEntry } from "./modify";
import { encodePfn, readPfn } from "./pfn";
import { PROT_HI, PROT_LO } from "./prot";

const PAGE_NONE = 0;
const PAGE_COPY = 3;
const PAGE_SHARED = 11;
const PAGE_SHARED_EXEC = 15;
const SAVED = 1n << 58n;

function modified(x: bigint, level: 0 | 1 | 2, prot: number, pmdKeepsDirty = true): bigint {
  const v = entryOf(x);
  modifyEntry(v, 0, level, prot, pmdKeepsDirty);
  return entryToBigInt(v, 0);
}

describe("pte_modify", () => {
  it("to PROT_NONE: the pfn becomes inverted and a writable entry's Dirty moves to SavedDirty", () => {
    expect(modified(0x8000000001234067n, PTE, PAGE_NONE)).toBe(0x040ffffffedcb120n);
  });
  it("back from PROT_NONE to PAGE_SHARED: pfn restored, SavedDirty returns to Dirty", () => {
    expect(modified(0x040ffffffedcb120n, PTE, PAGE_SHARED)).toBe(0x8000000001234067n);
  });
  it("writable dirty to PAGE_COPY: Write=0, Dirty kept as SavedDirty", () => {
    expect(modified(0x8000000001234067n, PTE, PAGE_COPY)).toBe(0x8400000001234025n);
  });
  it("keeps special, soft-dirty, uffd-wp, cache bits and Accessed; replaces P, RW, USER, G and NX", () => {
    const x = 0x0000000001234e3fn; // P RW U PWT PCD A + special, uffd-wp, soft-dirty
    expect(modified(x, PTE, PAGE_COPY)).toBe(0x8000000001234e3dn);
  });
  it("round trips across PROT_NONE for any pfn and pair of protections (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 - 1 }), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 15 }), fc.boolean(), (pfn, from, to, dirty) => {
        const v = entryRegs(1);
        encodePfn(v, 0, PTE, pfn, PROT_LO[from]!, PROT_HI[from]!);
        if (dirty) v[0] = v[0]! | 0x40;
        modifyEntry(v, 0, PTE, PAGE_NONE, true);
        expect(readPfn(v, 0, PTE)).toBe(pfn);
        modifyEntry(v, 0, PTE, to, true);
        expect(readPfn(v, 0, PTE)).toBe(pfn);
        const fresh = entryRegs(1);
        encodePfn(fresh, 0, PTE, pfn, PROT_LO[to]!, PROT_HI[to]!);
        // Same bits as a fresh entry apart from the dirty state carried along.
        const strip = (x: bigint) => x & ~(SAVED | 0x40n);
        expect(strip(entryToBigInt(v, 0))).toBe(strip(entryToBigInt(fresh, 0)));
      }),
      { seed: 0x86, numRuns: 300 },
    );
  });
});

describe("pmd_modify and pud_modify", () => {
  it("PMD to PROT_NONE inverts bits 21..51 only and keeps PSE", () => {
    expect(modified(0x80000000400000a7n, PMD, PAGE_NONE)).toBe(0x000fffffbfe001a0n);
  });
  it("PMD keeps the hardware Dirty bit (fixed in f7491d7c81db)", () => {
    expect(modified(0x80000000400000e7n, PMD, PAGE_COPY)).toBe(0x84000000400000a5n);
    expect(modified(0x80000000400000e7n, PMD, PAGE_SHARED_EXEC)).toBe(0x00000000400000e7n);
  });
  it("with pmdModifyKeepsDirty = false, Dirty is lost as in v6.6..v7.3-rc3", () => {
    expect(modified(0x80000000400000e7n, PMD, PAGE_COPY, false)).toBe(0x80000000400000a5n);
    expect(modified(0x80000000400000e7n, PMD, PAGE_SHARED_EXEC, false)).toBe(0x00000000400000a7n);
    // pte_modify and pud_modify were never affected.
    expect(modified(0x80000000400000e7n, PUD, PAGE_SHARED_EXEC, false)).toBe(0x00000000400000e7n);
  });
  it("PUD to PROT_NONE and back", () => {
    const none = modified(0x80000000800000e7n, PUD, PAGE_NONE);
    expect(none).toBe(0x040fffff400001a0n);
    expect(modified(none, PUD, PAGE_SHARED)).toBe(0x80000000800000e7n);
  });
});
