import { MAP_ANONYMOUS, MAP_FIXED, MAP_HUGETLB, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, ModelInputError, PROT_READ, PROT_WRITE, formatMeminfo, meminfo, smaps, formatSmaps } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { MAP_HUGE_SHIFT, MFD_HUGETLB } from "./feature";
import { counters, hugetlbKernel, mapHuge } from "./test-helpers";

const HP = 2 << 20;

describe("hugetlb views", () => {
  it("shows the pools in meminfo, sysfs and sysctl with the kernel's names and formats", () => {
    const { k, ht } = hugetlbKernel("x86-64", "4G", 2);
    const h2 = ht.hstate("2M");
    const h1 = ht.hstate("hugepages-1048576kB");
    ht.setNrHugepages(h2, 6);
    ht.setOvercommit(h2, 2);
    ht.setNrHugepages(h1, 1);
    ht.applySetting("node1/hugepages/hugepages-2048kB/nr_hugepages", "5");
    expect([h2.nrNode[0], h2.nrNode[1]]).toEqual([3, 5]);
    const mm = k.createMm();
    mapHuge(k, mm, 10 * HP, true);
    const text = formatMeminfo(meminfo(k));
    expect(text).toContain("HugePages_Total:      10\nHugePages_Free:       10\nHugePages_Rsvd:       10\nHugePages_Surp:        2\nHugepagesize:       2048 kB\nHugetlb:         1069056 kB\n");
    const sys = ht.sysfs();
    expect(sys["hugepages/hugepages-2048kB/nr_hugepages"]).toBe(10);
    expect(sys["hugepages/hugepages-2048kB/surplus_hugepages"]).toBe(2);
    expect(sys["hugepages/hugepages-2048kB/resv_hugepages"]).toBe(10);
    expect(sys["hugepages/hugepages-2048kB/nr_overcommit_hugepages"]).toBe(2);
    expect(sys["hugepages/hugepages-1048576kB/free_hugepages"]).toBe(1);
    expect(sys["node1/hugepages/hugepages-2048kB/nr_hugepages"]! + sys["node0/hugepages/hugepages-2048kB/nr_hugepages"]!).toBe(10);
    // vm.nr_hugepages reads max_huge_pages (persistent), sysfs the total with surplus.
    expect(sys["vm/nr_hugepages"]).toBe(8);
    expect(ht.nodeMeminfo(1)).toBe(`Node 1 HugePages_Total:     5\nNode 1 HugePages_Free:      5\nNode 1 HugePages_Surp:      0\n`);
  });

  it("shows hugetlb VMAs in smaps (KernelPageSize, Shared/Private_Hugetlb, not in Rss) and HugetlbPages in status", () => {
    const { k, ht } = hugetlbKernel("x86-64", "4G");
    ht.setNrHugepages(ht.hstate("2M"), 4);
    ht.setNrHugepages(ht.hstate("1G"), 1);
    const mm = k.createMm();
    const a = mapHuge(k, mm, 2 * HP, false, MAP_POPULATE);
    const g = k.mmap(mm, { len: 1 << 30, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | (30 << MAP_HUGE_SHIFT) | MAP_POPULATE });
    if (!g.ok) throw new Error(g.reason);
    const child = k.fork(mm)!;
    k.touch(child, g.value, 1 << 30, false);
    const s = smaps(k, mm).entries;
    const e2 = s.find((e) => e.start === a)!;
    const e1 = s.find((e) => e.start === g.value)!;
    expect([e2.kernelPageSize, e2.mmuPageSize, e2.stats.privateHugetlb, e2.stats.sharedHugetlb]).toEqual([HP, HP, 0, 2 * HP]);
    expect([e1.kernelPageSize, e1.stats.sharedHugetlb, e1.stats.privateHugetlb]).toEqual([1 << 30, 1 << 30, 0]);
    expect(formatSmaps(smaps(k, mm))).toContain("Shared_Hugetlb:  1048576 kB\nPrivate_Hugetlb:       0 kB\n");
    expect(e2.name).toBe("/anon_hugepage (deleted)");
    expect(e2.vmFlags).toContain("ht");
    expect(ht.hugetlbPages(mm)).toBe(4096 + 1048576);
    expect(ht.formatStatus(child)).toBe("HugetlbPages:\t 1052672 kB\n");
    k.exit(child);
    expect(smaps(k, mm).entries.find((e) => e.start === a)!.stats.privateHugetlb).toBe(2 * HP);
  });
});

describe("bad input", () => {
  it("names the field and the valid values, and leaves the pools as they were", () => {
    const { k, ht } = hugetlbKernel("x86-64", "64M");
    const h = ht.defaultHstate;
    ht.setNrHugepages(h, 2);
    expect(() => ht.hstate("4M")).toThrow("invalid hugetlb page size \"4M\": expected one of 2048kB, 1048576kB");
    expect(() => ht.setNrHugepages(h, -1)).toThrow("invalid nr_hugepages -1: expected a non-negative integer count of huge pages");
    expect(() => ht.setNrHugepages(h, 1.5)).toThrow(ModelInputError);
    expect(() => ht.applySetting("hugepages/hugepages-2048kB/nr_hugepages", "many")).toThrow("invalid hugepages/hugepages-2048kB/nr_hugepages NaN");
    expect(() => ht.applySetting("hugepages/hugepages-4096kB/nr_hugepages", "1")).toThrow(ModelInputError);
    expect(() => ht.applySetting("vm/nr_hugepagez", "1")).toThrow("invalid hugetlb setting \"vm/nr_hugepagez\"");
    expect(() => ht.setNrHugepages(h, 1, 3)).toThrow("invalid node 3: expected a node id in [0, 0]");
    expect(() => ht.createFile("f", 4096)).toThrow("invalid hugetlbfs file size 4096: expected a multiple of the 2048 kB page size of hugepages-2048kB");
    expect(counters(ht)).toEqual([2, 2, 0, 0]);
    // A pool beyond memory: the kernel allocates what it can and the write still succeeds.
    expect(ht.setNrHugepages(h, 1000)).toBeLessThan(32);
    expect(h.nr).toBeGreaterThan(2);
    expect(ht.setNrHugepages(h, 2)).toBe(2);
    const mm = k.createMm();
    const RW = PROT_READ | PROT_WRITE;
    // Lengths are rounded up to the huge page size; fixed addresses and offsets must be aligned.
    const r = k.mmap(mm, { len: 4096, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB });
    expect(r.ok && h.resv).toBe(1);
    expect(k.mmap(mm, { addr: 0x4000_1000, len: HP, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED })).toMatchObject({ ok: false, errno: "EINVAL" });
    const f = ht.createFile("f", 2 * HP);
    expect(k.mmap(mm, { len: HP, prot: RW, flags: MAP_SHARED, file: f, offset: 4096 })).toMatchObject({ ok: false, errno: "EINVAL" });
    expect(k.mmap(mm, { len: 4 * HP, prot: RW, flags: MAP_SHARED, file: f })).toMatchObject({ ok: false, errno: "ENOMEM" });
    expect(ht.truncate(f, 4096)).toMatchObject({ ok: false, errno: "EINVAL" });
    expect(ht.fallocate(f, 0x8, 0, HP)).toMatchObject({ ok: false, errno: "EOPNOTSUPP" });
    expect(counters(ht)).toEqual([2, 2, 1, 0]);
  });
});

describe("memfd_create(MFD_HUGETLB)", () => {
  it("makes an empty hugetlbfs file of the size the flags name, ENODEV for a size without an hstate (hugepage-mmap.c)", () => {
    const { k, ht } = hugetlbKernel("x86-64", "4G");
    ht.setNrHugepages(ht.hstate("2M"), 4);
    expect(ht.memfdCreate("x", MFD_HUGETLB | (16 << MAP_HUGE_SHIFT))).toMatchObject({ ok: false, errno: "ENODEV" });
    expect(ht.memfdCreate("x", 0)).toMatchObject({ ok: false, errno: "EINVAL" });
    const r = ht.memfdCreate("hugepage-mmap", MFD_HUGETLB | (21 << MAP_HUGE_SHIFT));
    if (!r.ok) throw new Error(r.reason);
    expect(r.value.size).toBe(0);
    expect(ht.truncate(r.value, 4 * HP).ok).toBe(true);
    const mm = k.createMm();
    const m = k.mmap(mm, { len: 4 * HP, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, file: r.value });
    if (!m.ok) throw new Error(m.reason);
    expect(k.touch(mm, m.value, 4 * HP, true, 9).error).toBe(0);
    expect(k.munmap(mm, m.value, 4 * HP).ok).toBe(true);
    expect(counters(ht, "2M")).toEqual([4, 0, 0, 0]);
    expect(ht.truncate(r.value, 0).ok).toBe(true);
    expect(counters(ht, "2M")).toEqual([4, 4, 0, 0]);
  });
});
