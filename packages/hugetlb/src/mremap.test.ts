import { MREMAP_FIXED, MREMAP_MAYMOVE } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { counters, hugetlbKernel, mapHuge } from "./test-helpers";

const HP = 2 << 20;

/** tools/testing/selftests/mm/hugepage-mremap.c and the mremap rules of hugetlb (align_hugetlb). */
describe("mremap of hugetlb mappings", () => {
  it("moves the pages and the private reservation to the new address", () => {
    const { k, ht } = hugetlbKernel("x86-64", "128M");
    ht.setNrHugepages(ht.defaultHstate, 4);
    const mm = k.createMm();
    const a = mapHuge(k, mm, 4 * HP);
    k.touch(mm, a, 2 * HP, true, 9);
    const tag = k.peek(mm, a + HP);
    expect(counters(ht)).toEqual([4, 2, 2, 0]);
    const to = a + 16 * HP;
    const r = k.mremap(mm, a, 4 * HP, 4 * HP, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    expect(r).toEqual({ ok: true, value: to });
    expect(k.peek(mm, to + HP)).toBe(tag);
    expect(k.peek(mm, a)).toBe(-1);
    // The old VMA gave its reservations to the new one: unmapping it returned nothing.
    expect(counters(ht)).toEqual([4, 2, 2, 0]);
    k.touch(mm, to + 2 * HP, 2 * HP, true, 10);
    expect(counters(ht)).toEqual([4, 0, 0, 0]);
    k.exit(mm);
    expect(counters(ht)).toEqual([4, 4, 0, 0]);
  });

  it("shrinks in place, and refuses unaligned addresses and growth with EINVAL", () => {
    const { k, ht } = hugetlbKernel("x86-64", "128M");
    ht.setNrHugepages(ht.defaultHstate, 4);
    const mm = k.createMm();
    const a = mapHuge(k, mm, 4 * HP);
    expect(k.mremap(mm, a, 4 * HP, 5 * HP, MREMAP_MAYMOVE)).toMatchObject({ ok: false, errno: "EINVAL" });
    expect(k.mremap(mm, a + k.pageSize, HP, HP, MREMAP_MAYMOVE | MREMAP_FIXED, a + 16 * HP)).toMatchObject({ ok: false, errno: "EINVAL" });
    expect(k.mremap(mm, a, HP, HP, MREMAP_MAYMOVE | MREMAP_FIXED, a + 16 * HP + k.pageSize)).toMatchObject({ ok: false, errno: "EINVAL" });
    // The new length rounds up to whole huge pages: the mapping keeps two.
    expect(k.mremap(mm, a, 4 * HP, 2 * HP - k.pageSize, 0)).toEqual({ ok: true, value: a });
    expect(counters(ht)).toEqual([4, 4, 2, 0]);
  });
});
