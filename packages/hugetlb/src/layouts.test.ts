import { MAP_ANONYMOUS, MAP_HUGETLB, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { MAP_HUGE_SHIFT } from "./feature";
import { hugetlbKernel } from "./test-helpers";

type Arch = Parameters<typeof hugetlbKernel>[0];

/** The hstates each arch registers (hugetlb.md §1.1), in kB, and the default. */
const EXPECTED: [Arch, string, number[], number][] = [
  ["x86-64", "4G", [2048, 1048576], 2048],
  ["arm64", "4G", [64, 2048, 32768, 1048576], 2048],
  ["arm64-16k", "4G", [2048, 32768, 1048576], 32768],
  ["arm64-64k", "4G", [2048, 524288], 524288],
  ["ppc8xx", "256M", [16, 512, 8192], 512],
  ["ppc8xx-16k", "256M", [512, 8192], 512],
];

describe("hstates and layouts on every arch", () => {
  for (const [arch, memory, sizes, def] of EXPECTED) {
    it(`${arch}: ${sizes.map((s) => `${s}kB`).join(", ")} map, fault, COW, change protection and unmap as one logical entry each`, () => {
      const { k, ht } = hugetlbKernel(arch, memory);
      expect(ht.hstates.map((h) => h.size / 1024).filter((s) => sizes.includes(s))).toEqual(sizes);
      expect(ht.defaultHstate.size / 1024).toBe(def);
      for (const h of ht.hstates) {
        if (!sizes.includes(h.size / 1024)) continue;
        expect(ht.setNrHugepages(h, 3)).toBe(3);
        const mm = k.createMm();
        const flags = MAP_ANONYMOUS | MAP_HUGETLB | (h.entry.shift << MAP_HUGE_SHIFT);
        const r = k.mmap(mm, { len: 2 * h.size, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | flags });
        if (!r.ok) throw new Error(`${h.name}: ${r.reason}`);
        const a = r.value;
        expect(a % h.size).toBe(0);
        expect(k.touch(mm, a, 2 * h.size, true, 5).error).toBe(0);
        // The MMU sees one page of the size at every address of it.
        const hw = k.backend.walk(k.tables, mm.rootPa, a + h.size - k.pageSize);
        expect(hw.ok && hw.pageSize).toBe(h.entry.cont ? 2 ** k.geometry.levels[h.entry.level]!.shift : h.size);
        expect(h.free).toBe(1);
        const child = k.fork(mm)!;
        expect(k.touch(child, a, h.size, true, 6).error).toBe(0);
        expect(h.free).toBe(0);
        expect(k.mprotect(mm, a, 2 * h.size, PROT_READ).ok).toBe(true);
        const ro = k.backend.walk(k.tables, mm.rootPa, a, { write: true });
        expect(ro.ok).toBe(false);
        expect(k.mprotect(mm, a, 2 * h.size, PROT_READ | PROT_WRITE).ok).toBe(true);
        expect(k.touch(mm, a, 2 * h.size, true, 7).error).toBe(0);
        const smaps = ht.hugetlbPages(mm);
        expect(smaps).toBe((2 * h.size) / 1024);
        k.exit(child);
        expect(k.munmap(mm, a, 2 * h.size).ok).toBe(true);
        // A shared mapping of the size: its pages stay in the pseudo-file until the last unmap.
        const s = k.mmap(mm, { len: h.size, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED | flags });
        if (!s.ok) throw new Error(s.reason);
        expect(k.touch(mm, s.value, h.size, true, 8).error).toBe(0);
        expect(k.fork(mm)).not.toBeNull();
        k.exit(mm);
        expect([h.nr, h.free, h.resv, h.surplus]).toEqual([3, 2, 0, 0]);
        for (const p of k.processes()) k.exit(p);
        expect([h.nr, h.free, h.resv, h.surplus]).toEqual([3, 3, 0, 0]);
        expect(ht.setNrHugepages(h, 0)).toBe(0);
      }
    });
  }

  it("refuses a MAP_HUGE size the arch has no hstate for with EINVAL", () => {
    const { k } = hugetlbKernel("x86-64", "64M");
    const mm = k.createMm();
    expect(k.mmap(mm, { len: 1 << 16, prot: PROT_READ, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (16 << MAP_HUGE_SHIFT) })).toMatchObject({ ok: false, errno: "EINVAL" });
  });
});
