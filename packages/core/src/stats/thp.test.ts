import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { formatSmaps, smaps } from "./smaps";
import { formatThpStats, thpStats } from "./thp";
import { mapOk } from "../testing/vma";

const MiB = 2 ** 20;
const RW = PROT_READ | PROT_WRITE;

describe("per-size THP stats", () => {
  it("reports each anonymous size with its mode and the counts faults and splits left", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", check: true });
    k.thp.set("hugepages-64kB/enabled", "always");
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 4 * MiB, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    k.touch(mm, a, 4 * MiB, true, 1);
    mapOk(k, mm, { addr: 0x4000_0000, len: MiB, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED });
    k.touch(mm, 0x4000_0000, 128 * 1024, true, 1);
    k.splitHugePages(mm, a, a + 2 * MiB, 0);
    const sizes = thpStats(k);
    const pmd = sizes.find((z) => z.dir === "hugepages-2048kB")!;
    const get = (z: typeof pmd, n: string) => z.stats.find(([m]) => m === n)?.[1];
    expect(pmd.enabled).toBe("always [inherit] madvise never");
    expect(get(pmd, "anon_fault_alloc")).toBe(2);
    expect(get(pmd, "split")).toBe(1);
    expect(get(pmd, "nr_anon")).toBe(1);
    const k64 = sizes.find((z) => z.dir === "hugepages-64kB")!;
    expect(k64.enabled).toBe("[always] inherit madvise never");
    expect(get(k64, "anon_fault_alloc")).toBe(2);
    expect(get(k64, "nr_anon")).toBe(2);
    const text = formatThpStats(k);
    expect(text).toContain("/sys/kernel/mm/transparent_hugepage/enabled:[always] madvise never\n");
    expect(text).toContain("/sys/kernel/mm/transparent_hugepage/hugepages-2048kB/stats/anon_fault_alloc:2\n");
    expect(text).toContain("/sys/kernel/mm/transparent_hugepage/hugepages-64kB/stats/nr_anon:2\n");
    k.exit(mm);
  });

  it("has no sizes on an arch without THP", () => {
    const k = new Kernel({ backend: createPpc8xxBackend("4k"), memory: "1G" });
    expect(thpStats(k)).toEqual([]);
    expect(() => formatThpStats(k)).toThrow("expected an arch with transparent hugepages");
  });
});

describe("smaps for huge mappings", () => {
  it("shows AnonHugePages for PMD THPs, THPeligible by the VMA's allowed orders, and the model's PUD line only when used", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "4G", check: true });
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 4 * MiB, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    k.touch(mm, a, 2 * MiB, true, 1);
    let e = smaps(k, mm).entries.find((x) => x.start <= a && a < x.end)!;
    expect(e.stats.anonymousThp).toBe(2 * MiB);
    expect(e.thpEligible).toBe(1);
    expect(formatSmaps(smaps(k, mm))).not.toContain("AnonPud");
    k.madvise(mm, a, 4 * MiB, 15 /* MADV_NOHUGEPAGE */);
    e = smaps(k, mm).entries.find((x) => x.start <= a && a < x.end)!;
    expect(e.thpEligible).toBe(0);
    k.thp.set("hugepages-1048576kB/enabled", "always");
    const b = mapOk(k, mm, { len: 1024 * MiB, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    k.touch(mm, b, 4096, true, 1);
    const text = formatSmaps(smaps(k, mm));
    expect(text).toContain("AnonPudHugePages: 1048576 kB\n");
    k.exit(mm);
  });
});
