import { entryOf, entryRegs, entryToBigInt, P4D, PMD, PTE, PUD } from "@hugemm/arch";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { advancePfn, encodePfn, flipProtnoneGuard, mkinvalid, needsInvert, readPfn } from "./pfn";
import { PROT_HI, PROT_LO } from "./prot";

const FC = { seed: 0x86, numRuns: 300 };
const PAGE_NONE = 0;
const PAGE_COPY = 3;
const PAGE_SHARED = 11;

function make(level: 0 | 1 | 2, pfn: number, prot: number): Uint32Array {
  const v = entryRegs(1);
  encodePfn(v, 0, level, pfn, PROT_LO[prot]!, PROT_HI[prot]!);
  return v;
}

describe("L1TF pfn inversion (pgtable-invert.h)", () => {
  it("__pte_needs_invert: non-zero and not present; a cleared entry is never inverted", () => {
    expect(needsInvert(0, 0)).toBe(false);
    expect(needsInvert(0x120, 0)).toBe(true);
    expect(needsInvert(0x121, 0)).toBe(false);
    expect(needsInvert(0, 0x80000000)).toBe(true);
  });
  it("pfn_pte with a present protection stores the pfn as is", () => {
    expect(entryToBigInt(make(PTE, 0x1234, PAGE_COPY), 0)).toBe(0x8000000001234025n);
    expect(entryToBigInt(make(PTE, 0x1234, PAGE_SHARED), 0)).toBe(0x8000000001234027n);
  });
  it("pfn_pte with PAGE_NONE stores the pfn inverted across bits 12..51; pte_pfn undoes it", () => {
    const v = make(PTE, 0x1234, PAGE_NONE);
    expect(entryToBigInt(v, 0)).toBe(0x000ffffffedcb120n);
    expect(readPfn(v, 0, PTE)).toBe(0x1234);
  });
  it("pfn_pmd masks to bits 21..51 and inverts there for PAGE_NONE", () => {
    const v = make(PMD, 0x40000, PAGE_NONE);
    v[0] = v[0]! | 0x80; // pmd_mkhuge
    expect(entryToBigInt(v, 0)).toBe(0x000fffffbfe001a0n);
    expect(readPfn(v, 0, PMD)).toBe(0x40000);
  });
  it("pfn_pmd drops pfn bits below the 2M boundary, as the kernel's mask does", () => {
    const v = make(PMD, 0x40000 + 0x1ff, PAGE_SHARED);
    v[0] = v[0]! | 0x80;
    expect(readPfn(v, 0, PMD)).toBe(0x40000);
  });
  it("p4d_pfn and pgd_pfn never invert", () => {
    const v = entryOf(0x000ffffffedcb120n);
    expect(readPfn(v, 0, P4D)).toBe(0xffffffedcb);
    expect(readPfn(v, 0, PTE)).toBe(0x1234);
  });
  it("round trip (property): any pfn below 2^40 at PTE, PMD and PUD for every protection", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 - 1 }), fc.integer({ min: 0, max: 15 }), fc.constantFrom(PTE, PMD, PUD), (pfn, prot, level) => {
        const aligned = level === PTE ? pfn : level === PMD ? pfn - (pfn % 512) : pfn - (pfn % 262144);
        const v = make(level, aligned, prot);
        if (level !== PTE) v[0] = v[0]! | 0x80;
        expect(readPfn(v, 0, level)).toBe(aligned);
        const inverted = prot === 0 || prot === 8;
        expect(needsInvert(v[0]!, v[1]!)).toBe(inverted);
      }),
      FC,
    );
  });
});

describe("flip_protnone_guard", () => {
  it("inverts the pfn field when an entry crosses the present/non-present boundary", () => {
    const v = entryOf(0x000ffffffedcb120n);
    const old = [v[0]!, v[1]!] as const;
    v[0] = (v[0]! | 1) >>> 0; // becomes present
    flipProtnoneGuard(old[0], old[1], v, 0, 0xfffff000);
    expect(entryToBigInt(v, 0)).toBe(0x0000000001234121n);
  });
  it("leaves the field alone when both sides are present", () => {
    const v = entryOf(0x8000000001234025n);
    flipProtnoneGuard(0x27, 0, v, 0, 0xfffff000);
    expect(entryToBigInt(v, 0)).toBe(0x8000000001234025n);
  });
});

describe("pte_advance_pfn", () => {
  it("adds nr pages to a present entry, carrying into the high word", () => {
    const v = entryOf(0x80000000fffff025n);
    advancePfn(v, 0, 3);
    expect(entryToBigInt(v, 0)).toBe(0x8000000100002025n);
  });
  it("subtracts nr pages from an inverted (PROT_NONE) entry so that the pfn still moves up", () => {
    const v = make(PTE, 0x1234, PAGE_NONE);
    advancePfn(v, 0, 3);
    expect(entryToBigInt(v, 0)).toBe(0x000ffffffedc8120n);
    expect(readPfn(v, 0, PTE)).toBe(0x1237);
  });
  it("agrees with a fresh entry (property), borrowing across the word boundary", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 - 2 ** 21 }), fc.integer({ min: 0, max: 2 ** 20 }), fc.integer({ min: 0, max: 15 }), (pfn, nr, prot) => {
        const v = make(PTE, pfn, prot);
        advancePfn(v, 0, nr);
        expect(entryToBigInt(v, 0)).toBe(entryToBigInt(make(PTE, pfn + nr, prot), 0));
      }),
      FC,
    );
  });
});

describe("pmd_mkinvalid / pud_mkinvalid", () => {
  it("clears PRESENT and re-encodes the pfn inverted (PMD)", () => {
    const v = entryOf(0x80000000400000e7n); // PAGE_SHARED|A|D|PSE, pfn 0x40000
    mkinvalid(v, 0, PMD);
    expect(entryToBigInt(v, 0)).toBe(0x800fffffbfe000e6n);
    expect(readPfn(v, 0, PMD)).toBe(0x40000);
  });
  it("clears PROTNONE of a PROT_NONE huge PMD; the pfn stays inverted", () => {
    const v = entryOf(0x000fffffbfe001a0n);
    mkinvalid(v, 0, PMD);
    expect(entryToBigInt(v, 0)).toBe(0x000fffffbfe000a0n);
    expect(readPfn(v, 0, PMD)).toBe(0x40000);
  });
  it("works on the 1G mask at PUD level", () => {
    const v = entryOf(0x00000000800000a7n); // PAGE_SHARED_EXEC|PSE, pfn 0x80000
    mkinvalid(v, 0, PUD);
    expect(entryToBigInt(v, 0)).toBe(0x000fffff400000a6n);
    expect(readPfn(v, 0, PUD)).toBe(0x80000);
  });
  it("keeps the pfn for any 2M-aligned pfn and protection (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 15 }), (n, prot) => {
        const pfn = n * 512;
        const v = make(PMD, pfn, prot);
        v[0] = v[0]! | 0x80;
        mkinvalid(v, 0, PMD);
        expect(v[0]! & 0x101).toBe(0);
        expect(readPfn(v, 0, PMD)).toBe(pfn);
      }),
      FC,
    );
  });
});
