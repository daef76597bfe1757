import { VM_UFFD_WP, Vma } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { collapseMaxPtesNone, collapseMaxPtesShared, collapseMaxPtesSwap } from "./limits";
import { machine } from "./test-kernel";

describe("collapse limits per order", () => {
  const { k, kh } = machine();
  const khugepaged = { isKhugepaged: true, s: kh.s, pmdOrder: 9 };
  const madv = { isKhugepaged: false, s: kh.s, pmdOrder: 9 };
  const vma = new Vma(1, 0, 2 << 20, 0, 0);
  const armed = new Vma(1, 0, 2 << 20, VM_UFFD_WP, 0);

  it("the kernel's rule: 511 scales to (1 << order) - 1, 0 stays 0, anything else is 0 for mTHP", () => {
    k.thp.set("khugepaged/max_ptes_none", "511");
    expect([2, 4, 8, 9].map((o) => collapseMaxPtesNone(khugepaged, vma, o))).toEqual([3, 15, 255, 511]);
    k.thp.set("khugepaged/max_ptes_none", "384");
    expect([2, 4, 8, 9].map((o) => collapseMaxPtesNone(khugepaged, vma, o))).toEqual([0, 0, 0, 384]);
    k.thp.set("khugepaged/max_ptes_none", "0");
    expect([2, 9].map((o) => collapseMaxPtesNone(khugepaged, vma, o))).toEqual([0, 0]);
  });

  it("the linear rule scales any value by order", () => {
    kh.s.set("mthp_max_ptes_none_rule", "linear");
    k.thp.set("khugepaged/max_ptes_none", "384");
    expect([2, 3, 4, 8, 9].map((o) => collapseMaxPtesNone(khugepaged, vma, o))).toEqual([3, 6, 12, 192, 384]);
    kh.s.set("mthp_max_ptes_none_rule", "kernel");
  });

  it("MADV_COLLAPSE has no limits; userfaultfd armed allows no none PTE", () => {
    expect(collapseMaxPtesNone(madv, vma, 9)).toBe(512);
    expect(collapseMaxPtesNone(madv, armed, 9)).toBe(0);
    expect(collapseMaxPtesNone(khugepaged, armed, 9)).toBe(0);
    expect(collapseMaxPtesSwap(madv, 9)).toBe(512);
    expect(collapseMaxPtesShared(madv, 9)).toBe(512);
  });

  it("mTHP orders allow no swap and no shared PTE; PMD order uses the knobs", () => {
    expect([collapseMaxPtesSwap(khugepaged, 4), collapseMaxPtesShared(khugepaged, 4)]).toEqual([0, 0]);
    expect([collapseMaxPtesSwap(khugepaged, 9), collapseMaxPtesShared(khugepaged, 9)]).toEqual([64, 256]);
  });
});
