import { MADV, MAP_ANONYMOUS, MAP_FIXED, MAP_HUGETLB, MAP_PRIVATE, PROT_READ, PROT_WRITE, logicalCensus, walkLogical } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { MAP_HUGE_SHIFT } from "./feature";
import { hugetlbKernel } from "./test-helpers";

/** The census client: present logical entries by size, as "<kB>K: n". */
function census(k: ReturnType<typeof hugetlbKernel>["k"], mm: Parameters<typeof logicalCensus>[1], start: number, len: number): string[] {
  return [...logicalCensus(k, mm, start, start + len)].sort((a, b) => a[0] - b[0]).map(([size, n]) => `${size / 1024}K: ${n}`);
}

/**
 * Seed 004's point: one walk client, given one logical entry per mapping,
 * handles a PMD THP, an arm64 64K cont-PTE hugetlb page and an 8xx 8M page
 * (two PMDs, two tables of 1024 cells) alike.
 */
describe("the generic walk over logical entries", () => {
  it("counts a PMD THP on x86-64 as one 2M entry next to base pages", () => {
    const { k } = hugetlbKernel("x86-64", "64M");
    k.thp.set("enabled", "always");
    const mm = k.createMm();
    const r = k.mmap(mm, { addr: 0x4000_0000, len: 4 << 20, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED });
    if (!r.ok) throw new Error(r.reason);
    k.touch(mm, r.value, 2 << 20, true, 1);
    k.madvise(mm, r.value + (2 << 20), 2 << 20, MADV.NOHUGEPAGE);
    k.touch(mm, r.value + (2 << 20), 8192, true, 2);
    expect(census(k, mm, r.value, 4 << 20)).toEqual(["4K: 2", "2048K: 1"]);
  });

  for (const [arch, kb, slots] of [
    ["arm64", 64, 16],
    ["ppc8xx", 8192, 2],
    ["ppc8xx", 512, 128],
  ] as const) {
    it(`counts ${arch} ${kb}K hugetlb pages as one entry each (${slots} physical slots)`, () => {
      const { k, ht } = hugetlbKernel(arch, "128M");
      const h = ht.hstate(kb * 1024);
      ht.setNrHugepages(h, 2);
      const mm = k.createMm();
      const r = k.mmap(mm, { len: 2 * h.size, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (h.entry.shift << MAP_HUGE_SHIFT) });
      if (!r.ok) throw new Error(r.reason);
      k.touch(mm, r.value, h.size, true, 3);
      expect(census(k, mm, r.value, 2 * h.size)).toEqual([`${kb}K: 1`]);
      const seen: [number, number, number][] = [];
      walkLogical(k, mm, r.value, r.value + 2 * h.size, (e) => seen.push([e.addr - r.value, e.size, e.ncontig]));
      expect(seen).toEqual([[0, h.size, h.entry.ncontig]]);
      expect(h.entry.viaPteTables ? 2 : h.entry.ncontig).toBe(slots);
      // The same client reads the fork child's copy.
      const child = k.fork(mm)!;
      expect(census(k, child, r.value, 2 * h.size)).toEqual([`${kb}K: 1`]);
    });
  }
});
