import { MAP_ANONYMOUS, MAP_HUGETLB, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { MAP_HUGE_SHIFT } from "./feature";
import { hugetlbKernel } from "./test-helpers";

describe("demote", () => {
  it("splits free 1G pages into 2M pages of the 2M pool, never a reserved one", () => {
    const { k, ht } = hugetlbKernel("x86-64", "4G");
    const g = ht.hstate("1G");
    const m = ht.hstate("2M");
    ht.setNrHugepages(g, 2);
    expect(ht.sysfs()["hugepages/hugepages-1048576kB/demote_size"]).toBe(2048);
    expect(ht.sysfs()["hugepages/hugepages-2048kB/demote_size"]).toBeUndefined();
    const mm = k.createMm();
    expect(k.mmap(mm, { len: 1 << 30, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (30 << MAP_HUGE_SHIFT) }).ok).toBe(true);
    ht.applySetting("hugepages/hugepages-1048576kB/demote", "2");
    // One page is reserved: only the other is demoted.
    expect([g.nr, g.free, g.resv, g.maxHugePages]).toEqual([1, 1, 1, 1]);
    expect([m.nr, m.free, m.maxHugePages]).toEqual([512, 512, 512]);
    ht.applySetting("hugepages/hugepages-1048576kB/demote", "1");
    expect(g.nr).toBe(1);
    expect(() => ht.applySetting("hugepages/hugepages-2048kB/demote", "1")).toThrow("invalid hugetlb setting \"hugepages/hugepages-2048kB/demote\"");
    expect(() => ht.applySetting("hugepages/hugepages-1048576kB/demote_size", "4096kB")).toThrow("invalid hugepages/hugepages-1048576kB/demote_size \"4096kB\"");
    // The demoted pages are ordinary 2M pool pages: they map, and shrink away.
    const r = k.mmap(mm, { len: 4 << 20, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB });
    expect(r.ok && k.touch(mm, r.value, 4 << 20, true, 1).error).toBe(0);
    k.exit(mm);
    expect(ht.setNrHugepages(m, 0)).toBe(0);
    expect([g.nr, g.free, g.resv]).toEqual([1, 1, 0]);
  });

  it("demotes arm64 4K's 1G pages to 32M, its 32M pages to 2M, and no further", () => {
    const { ht } = hugetlbKernel("arm64", "4G");
    const sys = ht.sysfs();
    expect([sys["hugepages/hugepages-1048576kB/demote_size"], sys["hugepages/hugepages-32768kB/demote_size"], sys["hugepages/hugepages-2048kB/demote_size"], sys["hugepages/hugepages-64kB/demote_size"]]).toEqual([32768, 2048, undefined, undefined]);
    const h = ht.hstate("32M");
    ht.setNrHugepages(h, 1);
    ht.applySetting("hugepages/hugepages-32768kB/demote", "1");
    expect([h.nr, ht.hstate("2M").free]).toEqual([0, 16]);
  });
});
