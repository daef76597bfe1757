import { type ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES } from "../mm/counters";
import { VM_ACCOUNT, VM_READ, VM_SHARED, VM_WRITE } from "../mm/vm-flags";
import { insertAnonVma, insertFileVma } from "../testing/vma";
import { ModelInputError } from "../util/errors";
import { field, formatMeminfo, lowmemReserve, meminfo, registerHugetlbReporter, siMemAvailable, totalreservePages, vmCommitLimit, type Meminfo } from "./meminfo";

const KiB = 1024;


/** Distinct pages holding page tables (fragments share a page). */
function tablePages(k: Kernel): number {
  const pfns = new Set<number>();
  for (const i of k.tables.info.values()) pfns.add(i.pfn);
  return pfns.size;
}

const get = (m: Meminfo, name: string) => field(m.fields, name);
const model = (m: Meminfo, name: string) => field(m.model, name);

describe("meminfo text", () => {
  it("prints a small known state exactly, in the kernel's order and layout (the newest mm tree's)", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", swap: "1M", kernelVersion: "mm-new" });
    const mm = k.createMm();
    insertAnonVma(k, mm, 0x4000_0000, 64 * KiB, VM_READ | VM_WRITE | VM_ACCOUNT);
    k.touch(mm, 0x4000_0000, 32 * KiB, true, 1);
    k.touch(mm, 0x4000_8000, 16 * KiB, false);
    const as = k.createFile("/data/file", "32K");
    insertFileVma(mm, as, 0x5000_0000, 32 * KiB, VM_READ);
    k.touch(mm, 0x5000_0000, 32 * KiB, false);
    // 22 pages allocated: the zero page, 5 page tables, 8 anon and 8 file pages; 2 more sit on the pcp list.
    // MemAvailable = 16360 free - 384 reserve (the high watermark) + 8 file - min(4, low) = 15980 pages.
    // CommitLimit = 16384 * 50% + 255 swap slots (the header is not swap) = 8447 pages.
    expect(formatMeminfo(meminfo(k))).toBe(`MemTotal:          65536 kB
MemFree:           65440 kB
MemAvailable:      63920 kB
Buffers:               0 kB
Cached:               32 kB
SwapCached:            0 kB
Active:                0 kB
Inactive:             64 kB
Active(anon):          0 kB
Inactive(anon):       32 kB
Active(file):          0 kB
Inactive(file):       32 kB
Unevictable:           0 kB
Mlocked:               0 kB
SwapTotal:          1020 kB
SwapFree:           1020 kB
Zswap:                 0 kB
Zswapped:              0 kB
Dirty:                 0 kB
Writeback:             0 kB
AnonPages:            32 kB
Mapped:               32 kB
Shmem:                 0 kB
KReclaimable:          0 kB
Slab:                  0 kB
SReclaimable:          0 kB
SUnreclaim:            0 kB
Ftrace:                0 kB
KernelStack:           0 kB
PageTables:           20 kB
SecPageTables:         0 kB
NFS_Unstable:          0 kB
Bounce:                0 kB
WritebackTmp:          0 kB
CommitLimit:       33788 kB
Committed_AS:         64 kB
VmallocTotal:          0 kB
VmallocUsed:           0 kB
VmallocChunk:          0 kB
Percpu:                0 kB
HardwareCorrupted:     0 kB
AnonHugePages:         0 kB
ShmemHugePages:        0 kB
ShmemPmdMapped:        0 kB
FileHugePages:         0 kB
FilePmdMapped:         0 kB
CmaTotal:              0 kB
CmaFree:               0 kB
Unaccepted:            0 kB
Balloon:               0 kB
GPUActive:             0 kB
GPUReclaim:            0 kB
HugePages_Total:       0
HugePages_Free:        0
HugePages_Rsvd:        0
HugePages_Surp:        0
Hugepagesize:       2048 kB
Hugetlb:               0 kB
DirectMap4k:           0 kB
DirectMap2M:       65536 kB
DirectMap1G:           0 kB
`);
    expect(meminfo(k).model).toEqual([
      ["AnonPudHugePages", 0],
      ["FreePcp", 8],
      ["Allocated", 88],
    ]);
  });

  it("maps x86's direct map with 1G, 2M and 4K pages by alignment", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1028M" });
    const m = meminfo(k);
    expect([get(m, "DirectMap4k"), get(m, "DirectMap2M"), get(m, "DirectMap1G")]).toEqual([0, 4096, 1048576]);
  });

  it("shows the lines each arch's build has: no DirectMap off x86, no THP lines on 8xx", () => {
    const names = (b: ArchBackend, memory: string) => meminfo(new Kernel({ backend: b, memory })).fields.map(([n]) => n);
    const x86 = names(createX86_64Backend(), "64M");
    const arm = names(createArm64Backend("4k-48"), "64M");
    const ppc = names(createPpc8xxBackend("4k"), "64M");
    expect(x86.slice(-3)).toEqual(["DirectMap4k", "DirectMap2M", "DirectMap1G"]);
    expect(arm).toEqual(x86.slice(0, -3));
    expect(ppc).toEqual(arm.filter((n) => !["AnonHugePages", "ShmemHugePages", "ShmemPmdMapped", "FileHugePages", "FilePmdMapped"].includes(n)));
    const k64 = new Kernel({ backend: createArm64Backend("64k-48"), memory: "512M" });
    const m = meminfo(k64);
    expect([get(m, "MemTotal"), get(m, "Hugepagesize")]).toEqual([524288, 524288]);
    expect(formatMeminfo(m)).toContain("Hugepagesize:     524288 kB\n");
    expect(get(meminfo(new Kernel({ backend: createPpc8xxBackend("4k"), memory: "64M" })), "Hugepagesize")).toBe(4096);
  });
});

describe("meminfo figures", () => {
  it("keeps the kernel's relations while processes fault anon, file and shmem pages (property)", () => {
    const backends: (() => ArchBackend)[] = [() => createX86_64Backend(), () => createArm64Backend("4k-48"), () => createPpc8xxBackend("4k")];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: backends.length - 1 }),
        fc.array(fc.record({ mm: fc.integer({ min: 0, max: 1 }), vma: fc.integer({ min: 0, max: 2 }), page: fc.integer({ min: 0, max: 31 }), n: fc.integer({ min: 1, max: 8 }), write: fc.boolean() }), { maxLength: 20 }),
        fc.boolean(),
        (arch, ops, exitAll) => {
          const k = new Kernel({ backend: backends[arch]!(), memory: "64M" });
          const kb = k.pageSize / KiB;
          const before = meminfo(k);
          const file = k.createFile("file", 32 * k.pageSize);
          const shm = k.createFile("shm", 32 * k.pageSize, { shmem: true });
          const mms = [k.createMm(), k.createMm()];
          const bases = [0x1000_0000, 0x2000_0000, 0x3000_0000];
          for (const mm of mms) {
            insertAnonVma(k, mm, bases[0]!, 32 * k.pageSize);
            insertFileVma(mm, file, bases[1]!, 32 * k.pageSize, VM_READ | VM_WRITE);
            insertFileVma(mm, shm, bases[2]!, 32 * k.pageSize, VM_READ | VM_WRITE | VM_SHARED);
          }
          for (const op of ops) {
            const n = Math.min(op.n, 32 - op.page);
            expect(k.touch(mms[op.mm]!, bases[op.vma]! + op.page * k.pageSize, n * k.pageSize, op.write).error).toBe(0);
          }
          if (exitAll) for (const mm of mms) k.exit(mm);
          const m = meminfo(k);
          expect(get(m, "MemFree") + model(m, "FreePcp") + model(m, "Allocated")).toBe(get(m, "MemTotal"));
          const rssAnon = exitAll ? 0 : mms.reduce((s, mm) => s + mm.rss[MM_ANONPAGES]!, 0);
          expect(get(m, "AnonPages")).toBe(rssAnon * kb);
          expect(get(m, "PageTables")).toBe(tablePages(k) * kb);
          expect(get(m, "Cached")).toBe((file.nrpages + shm.nrpages) * kb);
          expect(get(m, "Shmem")).toBe(shm.nrpages * kb);
          expect(get(m, "Active") + get(m, "Inactive")).toBe(get(m, "AnonPages") + get(m, "Cached"));
          expect(get(m, "Active(file)") + get(m, "Inactive(file)")).toBe(file.nrpages * kb);
          expect(get(m, "Mapped")).toBeLessThanOrEqual(get(m, "Cached"));
          expect(get(m, "MemAvailable")).toBeLessThanOrEqual(get(m, "MemFree") + get(m, "Active(file)") + get(m, "Inactive(file)"));
          if (exitAll) {
            expect(get(m, "PageTables")).toBe(0);
            expect(get(m, "MemFree") + model(m, "FreePcp")).toBe(get(before, "MemFree") + model(before, "FreePcp") - (file.nrpages + shm.nrpages) * kb);
          }
        },
      ),
      { seed: 7, numRuns: 40 },
    );
  });

  it("reserves the high watermark and the lowmem reserve that protects Normal from Movable allocations", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "128M", nodes: 2, movable: "16M" });
    // Per node: Normal 12288 pages (min 156, high 234) and Movable 4096 pages (min 32, high 48);
    // Normal keeps back 4096 / 32 = 128 pages from Movable allocations.
    expect(k.phys.zones.map((z) => [z.name, z.wmarkHigh])).toEqual([
      ["Normal", 234],
      ["Movable", 48],
      ["Normal", 234],
      ["Movable", 48],
    ]);
    expect(lowmemReserve(k)).toEqual([
      [0, 128],
      [0, 0],
      [0, 128],
      [0, 0],
    ]);
    expect(totalreservePages(k)).toBe(2 * (128 + 234 + 48));
    let free = 0;
    for (const z of k.phys.zones) free += z.freePages;
    expect(siMemAvailable(k)).toBe(free - 820);
    const m = meminfo(k);
    expect(get(m, "MemAvailable")).toBe((free - 820) * 4);
    expect(get(m, "MemTotal")).toBe(131072);
  });

  it("reports the registered hugetlb pools and leaves them out of CommitLimit", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M" });
    expect(vmCommitLimit(k)).toBe(8192);
    registerHugetlbReporter(k, () => ({
      hstates: [
        { pageSize: 2 ** 30, total: 0, free: 0, reserved: 0, surplus: 0 },
        { pageSize: 2 ** 21, total: 6, free: 4, reserved: 1, surplus: 2 },
      ],
      defaultIndex: 1,
    }));
    const text = formatMeminfo(meminfo(k));
    expect(text).toContain(`HugePages_Total:       6
HugePages_Free:        4
HugePages_Rsvd:        1
HugePages_Surp:        2
Hugepagesize:       2048 kB
Hugetlb:           12288 kB
`);
    // (16384 - 6 x 512) x 50%.
    expect(get(meminfo(k), "CommitLimit")).toBe(6656 * 4);
    registerHugetlbReporter(k, () => ({ hstates: [], defaultIndex: 0 }));
    expect(() => meminfo(k)).toThrow("invalid hugetlb report default index 0: expected an index into its 0 hstates");
    expect(() => registerHugetlbReporter(k, 5 as unknown as () => never)).toThrow(ModelInputError);
  });

  it("counts Committed_AS from VM_ACCOUNT mappings and SwapTotal without the header slot", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", swap: "64K" });
    const mm = k.createMm();
    insertAnonVma(k, mm, 0x1000_0000, 64 * KiB, VM_READ | VM_WRITE | VM_ACCOUNT);
    insertAnonVma(k, mm, 0x2000_0000, 64 * KiB, VM_READ | VM_WRITE);
    const m = meminfo(k);
    expect([get(m, "Committed_AS"), get(m, "SwapTotal"), get(m, "SwapFree")]).toEqual([64, 60, 60]);
  });

  it("rejects unknown field names and values a report cannot print", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M" });
    expect(() => field(meminfo(k).fields, "MemFoo")).toThrow(/invalid report field "MemFoo": expected one of MemTotal, MemFree, /);
    expect(() => formatMeminfo({ fields: [["MemTotal", -1]], model: [] })).toThrow("invalid value of MemTotal -1: expected a whole number of kB or pages, not negative");
    expect(() => formatMeminfo({ fields: [["MemTotal", 1.5]], model: [] })).toThrow(ModelInputError);
  });
});
