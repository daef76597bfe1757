import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { Kernel, MAP_ANONYMOUS, MAP_PRIVATE, MODEL_EVENTS, NODE_STATS, PROT_READ, PROT_WRITE, VM_EVENTS } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { counters } from "./counters";

describe("counters", () => {
  it.each([
    ["x86-64", () => createX86_64Backend(), "1G"],
    ["arm64:4k-48", () => createArm64Backend("4k-48"), "1G"],
    ["ppc8xx:4k", () => createPpc8xxBackend("4k"), "256M"],
  ])("name every vm event, node stat and model event on %s", (_arch, make, memory) => {
    const k = new Kernel({ backend: make(), memory, check: true });
    const c = counters(k, new Map());
    // The model's kcompactd_wake is the kernel's compact_daemon_wake.
    for (const n of VM_EVENTS) expect(c, n).toHaveProperty([n === "kcompactd_wake" ? "compact_daemon_wake" : n]);
    expect(c).not.toHaveProperty(["kcompactd_wake"]);
    for (const n of NODE_STATS) expect(c, n).toHaveProperty([n]);
    for (const n of MODEL_EVENTS) expect(c, n).toHaveProperty([`model.${n}`]);
    expect(c["meminfo.MemTotal"]).toBe(k.phys.totalPages * (k.pageSize / 1024));
    expect(c["meminfo.MemFree"]! + c["meminfo.FreePcp"]! + c["meminfo.Allocated"]!).toBe(c["meminfo.MemTotal"]);
    expect(c["tlb.flushes"]).toBe(0);
    expect(c["tlb.pages"]).toBe(0);
  });

  it("use the kernel's units: vmstat's THP counts in PMD-size THPs, meminfo in kB, rss in pages", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", check: true });
    const mm = k.createMm();
    const r = k.mmap(mm, { len: 4 << 20, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    if (!r.ok) throw new Error(r.reason);
    k.touch(mm, r.value, 4 << 20, true, 1);
    const c = counters(k, new Map([[4, mm]]));
    expect(c.nr_anon_transparent_hugepages).toBe(2);
    expect(c.nr_anon_pages).toBe(1024);
    expect(c["meminfo.AnonHugePages"]).toBe(4096);
    expect(c["hugepages-2048kB.anon_fault_alloc"]).toBe(2);
    expect(c["hugepages-2048kB.nr_anon"]).toBe(2);
    expect(c.thp_fault_alloc).toBe(2);
    expect(c["pid4.rss_anon"]).toBe(1024);
    expect(c["pid4.swapents"]).toBe(0);
    expect(Object.keys(c).filter((n) => n.startsWith("hugepages-")).length).toBe(9 * 22);
  });

  it("name only the lines the arch's build has", () => {
    const x86 = counters(new Kernel({ backend: createX86_64Backend(), memory: "1G" }), new Map());
    const ppc = counters(new Kernel({ backend: createPpc8xxBackend("4k"), memory: "256M" }), new Map());
    expect(x86).toHaveProperty(["meminfo.DirectMap2M"]);
    expect(ppc).not.toHaveProperty(["meminfo.DirectMap2M"]);
    expect(x86).toHaveProperty(["meminfo.AnonHugePages"]);
    expect(ppc).not.toHaveProperty(["meminfo.AnonHugePages"]);
    expect(Object.keys(ppc).filter((n) => n.startsWith("hugepages-"))).toEqual([]);
  });
});
