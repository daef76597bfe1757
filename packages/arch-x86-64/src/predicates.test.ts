import { P4D, PGD, PMD, PTE, PUD } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { isBad, isLeaf, isNone, isPresent, isProtnone, isTable, isTransHuge, isWrite } from "./predicates";

const lo = (x: bigint) => Number(x & 0xffffffffn);
const hi = (x: bigint) => Number(x >> 32n);

describe("pte_none / pmd_none / pud_none / p4d_none ignore stray A and D (Knights Landing erratum)", () => {
  for (const level of [PTE, PMD, PUD, P4D] as const) {
    it(`level ${level}`, () => {
      for (const stray of [0x20, 0x40, 0x60]) {
        expect(isNone(stray, 0, level, false)).toBe(true);
        expect(isNone(stray, 0, level, true)).toBe(true);
      }
      expect(isNone(0x1, 0, level, false)).toBe(false);
      expect(isNone(0, 0x80000000, level, false)).toBe(false);
      expect(isNone(0x200, 0, level, false)).toBe(false);
    });
  }
  it("PGD: folded into the P4D with 4 levels; with 5 levels pgd_none() is an exact zero test", () => {
    expect(isNone(0x60, 0, PGD, false)).toBe(true);
    expect(isNone(0x60, 0, PGD, true)).toBe(false);
    expect(isNone(0, 0, PGD, true)).toBe(true);
  });
});

describe("present", () => {
  it("pte_present: PRESENT or PROTNONE", () => {
    expect(isPresent(0x1, PTE)).toBe(true);
    expect(isPresent(0x120, PTE)).toBe(true);
    expect(isPresent(0x80, PTE)).toBe(false);
  });
  it("pmd_present: PRESENT, PROTNONE or PSE (a splitting or invalidated huge PMD)", () => {
    expect(isPresent(0x80, PMD)).toBe(true);
    expect(isPresent(0x100, PMD)).toBe(true);
    expect(isPresent(0x1, PMD)).toBe(true);
    expect(isPresent(0x2, PMD)).toBe(false);
  });
  it("pud_present, p4d_present, pgd_present: PRESENT only", () => {
    for (const level of [PUD, P4D, PGD] as const) {
      expect(isPresent(0x1, level)).toBe(true);
      expect(isPresent(0x1a0, level)).toBe(false);
    }
  });
});

describe("protnone, leaf, trans_huge and table", () => {
  it("pte_protnone / pmd_protnone: PROTNONE without PRESENT; never at PUD and above", () => {
    expect(isProtnone(0x120, PTE)).toBe(true);
    expect(isProtnone(0x121, PTE)).toBe(false);
    expect(isProtnone(0x1a0, PMD)).toBe(true);
    expect(isProtnone(0x1a0, PUD)).toBe(false);
  });
  it("bit 7 is PSE at PMD/PUD but PAT in a 4K PTE", () => {
    expect(isLeaf(0x81, PMD)).toBe(true);
    expect(isLeaf(0x81, PUD)).toBe(true);
    expect(isTransHuge(0x81, PMD)).toBe(true);
    expect(isTransHuge(0x81, PTE)).toBe(false);
    expect(isLeaf(0x81, PTE)).toBe(true); // a present PTE, PAT set
    expect(isLeaf(0x80, PTE)).toBe(false); // not present
    expect(isLeaf(0x81, P4D)).toBe(false);
    expect(isTable(0x67, PMD)).toBe(true);
    expect(isTable(0xe7, PMD)).toBe(false);
    expect(isTable(0x67, PTE)).toBe(false);
    expect(isTable(0x66, PUD)).toBe(false);
  });
});

describe("bad", () => {
  it("pmd_bad: flags other than exactly P|RW|D (USER, Accessed aside)", () => {
    expect(isBad(0x1000067, 0, PMD, false)).toBe(false);
    expect(isBad(0x1000063, 0, PMD, false)).toBe(false);
    expect(isBad(0x1000043, 0, PMD, false)).toBe(false);
    expect(isBad(0x1000023, 0, PMD, false)).toBe(true); // no D
    expect(isBad(0x10000e7, 0, PMD, false)).toBe(true); // PSE
    expect(isBad(0x1000067, 0x80000000, PMD, false)).toBe(true); // NX
    expect(isBad(0x1a0, 0, PMD, false)).toBe(true); // PROT_NONE huge
  });
  it("pud_bad: any flag beyond _KERNPG_TABLE|USER; a PROT_NONE huge PUD is bad but a softleaf is not", () => {
    expect(isBad(0x1000067, 0, PUD, false)).toBe(false);
    expect(isBad(0x1000001, 0, PUD, false)).toBe(false);
    expect(isBad(0x10000e7, 0, PUD, false)).toBe(true);
    const swap = 0xb800000000000000n | 0x1234000n;
    expect(isBad(lo(swap), hi(swap), PUD, false)).toBe(false);
    expect(isBad(0x1a0, 0x000fffff, PUD, false)).toBe(true);
  });
  it("p4d_bad and 4-level pgd: only other flags count, NX tolerated (page-table isolation)", () => {
    for (const level of [P4D, PGD] as const) {
      expect(isBad(0x1000067, 0x80000000, level, false)).toBe(false);
      expect(isBad(0x1000003, 0, level, false)).toBe(false);
      expect(isBad(0x1000167, 0, level, false)).toBe(true);
      expect(isBad(0x1000066, 0, level, false)).toBe(true); // not present, not none
    }
  });
  it("5-level pgd_bad: exactly _KERNPG_TABLE (USER and NX aside)", () => {
    expect(isBad(0x1000067, 0x80000000, PGD, true)).toBe(false);
    expect(isBad(0x1000063, 0, PGD, true)).toBe(false);
    expect(isBad(0x1000003, 0, PGD, true)).toBe(true);
  });
  it("PTEs are never bad; none entries are never bad", () => {
    expect(isBad(0xffffffff, 0xffffffff, PTE, false)).toBe(false);
    expect(isBad(0x60, 0, PMD, false)).toBe(false);
  });
});

describe("write and shadow stacks", () => {
  it("pte_write: RW, or Write=0,Dirty=1 when the CPU has shadow stacks", () => {
    expect(isWrite(0x27, PTE, true)).toBe(true);
    expect(isWrite(0x65, PTE, true)).toBe(true);
    expect(isWrite(0x65, PTE, false)).toBe(false);
    expect(isWrite(0x25, PTE, true)).toBe(false);
  });
  it("pmd_write: the shadow-stack form needs PSE; pud_write has none", () => {
    expect(isWrite(0xe5, PMD, true)).toBe(true);
    expect(isWrite(0x65, PMD, true)).toBe(false);
    expect(isWrite(0xe5, PUD, true)).toBe(false);
  });
});
