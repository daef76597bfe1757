import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import type { ArchBackend } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { mixTag } from "../folio/contents";
import { Kernel } from "../kernel/kernel";
import { NS } from "../stats/counters";
import { ModelInputError } from "../util/errors";
import { MM_ANONPAGES, MM_FILEPAGES } from "./counters";
import { sysMunmap } from "./syscalls";
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE } from "./vm-flags";
import { mapOk, layout } from "../testing/vma";

const KiB = 2 ** 10;
const MiB = 2 ** 20;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const FIXED = ANON | MAP_FIXED;
const X = 0x4000_0000;
const P = 4 * KiB;



function kernel(backend: ArchBackend = createX86_64Backend(), memory = "64M"): Kernel {
  return new Kernel({ backend, memory });
}

describe("munmap errors", () => {
  it("refuses an unaligned address, an empty length and ranges beyond TASK_SIZE", () => {
    const k = kernel();
    const mm = k.createMm();
    expect(sysMunmap(k, mm, X + 1, P)).toEqual({ ok: false, errno: "EINVAL", reason: "addr 0x40000001 is not aligned to the page size (4096 bytes)" });
    expect(sysMunmap(k, mm, X, 0)).toEqual({ ok: false, errno: "EINVAL", reason: "len is 0: the range is empty" });
    expect(sysMunmap(k, mm, 2 ** 47 + P, P)).toEqual({ ok: false, errno: "EINVAL", reason: "addr 0x800000001000 is above TASK_SIZE 0x800000000000" });
    expect(sysMunmap(k, mm, 2 ** 47 - P, 2 * P)).toEqual({ ok: false, errno: "EINVAL", reason: "len 0x2000 from addr 0x7ffffffff000 reaches beyond TASK_SIZE 0x800000000000" });
    expect(() => sysMunmap(k, mm, -P, P)).toThrow(ModelInputError);
    expect(() => sysMunmap(k, mm, X, Number.NaN)).toThrow("invalid munmap len NaN: expected an unsigned long (an integer in [0, 2^64))");
  });

  it("succeeds where nothing is mapped", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: P, prot: RW, flags: FIXED });
    expect(sysMunmap(k, mm, X + 16 * P, 16 * P)).toEqual({ ok: true, value: 0 });
    expect(mm.vmas.count).toBe(1);
  });
});

describe("munmap", () => {
  it("rounds the length up to pages and splits VMAs at the range's ends", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 8 * P, prot: RW, flags: FIXED });
    k.touch(mm, X, 8 * P, true, 4);
    expect(sysMunmap(k, mm, X + 2 * P, 1)).toEqual({ ok: true, value: 0 });
    expect(layout(mm)).toEqual([
      [X, X + 2 * P, X / P],
      [X + 3 * P, X + 8 * P, X / P + 3],
    ]);
    expect(mm.rss[MM_ANONPAGES]).toBe(7);
    expect(k.peek(mm, X + 2 * P)).toBe(-1);
    expect(k.peek(mm, X + 3 * P)).toBe(mixTag(4, X / P + 3));
    // Both parts still reach their folios through the one anon_vma.
    const [a, b] = mm.vmas.all();
    expect(a!.anonVma).toBe(b!.anonVma);
    expect(a!.anonVma!.chains.size).toBe(2);
  });

  it("unmaps across several VMAs and holes", () => {
    const k = kernel();
    const mm = k.createMm();
    const file = k.createFile("data", 64 * KiB);
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: FIXED });
    mapOk(k, mm, { addr: X + 8 * P, len: 4 * P, prot: PROT_READ, flags: MAP_PRIVATE | MAP_FIXED, file });
    mapOk(k, mm, { addr: X + 16 * P, len: 4 * P, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED });
    k.touch(mm, X, 4 * P, true);
    k.touch(mm, X + 8 * P, 4 * P, false);
    k.touch(mm, X + 16 * P, 4 * P, true);
    expect(sysMunmap(k, mm, X + 2 * P, 16 * P)).toEqual({ ok: true, value: 0 });
    expect(layout(mm)).toEqual([
      [X, X + 2 * P, X / P],
      [X + 18 * P, X + 20 * P, 2],
    ]);
    expect([mm.rss[MM_ANONPAGES], mm.rss[MM_FILEPAGES]]).toEqual([2, 0]);
    expect(file.iMmap.size).toBe(0);
    // The file's pages stay cached.
    expect(file.nrpages).toBe(16);
  });

  it("frees every page table when everything is unmapped", () => {
    const k = kernel();
    const free0 = k.phys.freePagesWithPcp;
    const mm = k.createMm();
    const tables0 = k.tables.count;
    mapOk(k, mm, { addr: X, len: 4 * MiB, prot: RW, flags: FIXED });
    k.touch(mm, X, 4 * MiB, true, 1);
    // PUD, PMD and two PTE tables below the root.
    expect(k.tables.count).toBe(tables0 + 4);
    expect(mm.pgtablePages).toBe(5);
    expect(sysMunmap(k, mm, X, 4 * MiB)).toEqual({ ok: true, value: 0 });
    expect([k.tables.count, mm.pgtablePages, k.phys.nodeStats(0)[NS.nr_page_table_pages]]).toEqual([tables0, 1, 1]);
    expect([mm.rss[MM_ANONPAGES], k.phys.nodeStats(0)[NS.nr_anon_pages]]).toEqual([0, 0]);
    expect(k.anonVmas.byId.size).toBe(0);
    k.exit(mm);
    expect(k.phys.freePagesWithPcp).toBe(free0);
    expect(k.tables.count).toBe(0);
  });

  it("keeps a page table a neighbouring VMA still uses", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: MiB, prot: RW, flags: FIXED });
    mapOk(k, mm, { addr: X + MiB, len: MiB, prot: RW | PROT_EXEC, flags: FIXED });
    k.touch(mm, X, 2 * MiB, true);
    const tables = k.tables.count;
    expect(sysMunmap(k, mm, X, MiB).ok).toBe(true);
    expect(k.tables.count).toBe(tables);
    expect(k.peek(mm, X + MiB)).toBe(0);
    expect(sysMunmap(k, mm, X + MiB, MiB).ok).toBe(true);
    // The PTE, PMD and PUD tables all went.
    expect(k.tables.count).toBe(tables - 3);
  });

  it("frees tables the same way on arm64 and 8xx", () => {
    for (const backend of [createArm64Backend("4k-48"), createArm64Backend("64k-48"), createPpc8xxBackend("4k")]) {
      const k = kernel(backend, backend.geometry.pageShift === 16 ? "1G" : "64M");
      const ps = k.pageSize;
      const free0 = k.phys.freePagesWithPcp;
      const mm = k.createMm();
      mapOk(k, mm, { addr: X, len: 64 * ps, prot: RW, flags: FIXED });
      k.touch(mm, X, 64 * ps, true, 2);
      expect(sysMunmap(k, mm, X + 16 * ps, 16 * ps).ok).toBe(true);
      expect(mm.rss[MM_ANONPAGES]).toBe(48);
      expect(sysMunmap(k, mm, X, 64 * ps).ok).toBe(true);
      expect([mm.rss[MM_ANONPAGES], k.tables.count]).toEqual([0, 1]);
      k.exit(mm);
      expect(k.phys.freePagesWithPcp).toBe(free0);
    }
  });
});
