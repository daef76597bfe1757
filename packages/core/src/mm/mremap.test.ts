import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { PTE, type ArchBackend } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { fileTag } from "../file/filemap";
import { mixTag } from "../folio/contents";
import { Kernel } from "../kernel/kernel";
import { Slot, WALK_OK } from "../pgtable/walker";
import { NS } from "../stats/counters";
import { MM_ANONPAGES, MM_FILEPAGES } from "./counters";
import type { Mm } from "./mm";
import { sysMremap } from "./syscalls";
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_EXEC, PROT_READ, PROT_WRITE } from "./vm-flags";
import { mapOk, layout } from "../testing/vma";

const KiB = 2 ** 10;
const MiB = 2 ** 20;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const FIXED = ANON | MAP_FIXED;
const MOVE = MREMAP_MAYMOVE | MREMAP_FIXED;
const X = 0x4000_0000;
const Y = 0x8000_0000;
const P = 4 * KiB;

function kernel(backend: ArchBackend = createX86_64Backend(), memory = "64M"): Kernel {
  return new Kernel({ backend, memory });
}



/** The physical address of the PTE table mapping `va`, or -1. */
function pteTable(mm: Mm, va: number): number {
  const s = new Slot();
  return mm.walker.find(va, PTE, false, s) === WALK_OK ? s.tablePa : -1;
}

/** The contents of `n` pages from `va`. */
function contents(k: Kernel, mm: Mm, va: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => k.peek(mm, va + i * k.pageSize));
}

function pattern(k: Kernel, seed: number, va: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => mixTag(seed, va / k.pageSize + i));
}

describe("mremap errors", () => {
  it("refuses bad arguments with the kernel's errno", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 2 * P, prot: RW, flags: FIXED });
    mapOk(k, mm, { addr: X + 2 * P, len: P, prot: PROT_READ, flags: FIXED });
    expect(sysMremap(k, mm, X, P, P, 8)).toEqual({ ok: false, errno: "EINVAL", reason: "flags 0x8 has bits other than MREMAP_MAYMOVE, MREMAP_FIXED and MREMAP_DONTUNMAP" });
    expect(sysMremap(k, mm, X + 1, P, P, 0)).toEqual({ ok: false, errno: "EINVAL", reason: "old_address 0x40000001 is not aligned to the page size (4096 bytes)" });
    expect(sysMremap(k, mm, X, P, 0, 0)).toEqual({ ok: false, errno: "EINVAL", reason: "new_size is 0" });
    expect(sysMremap(k, mm, X, P, 2 ** 47 + P, MREMAP_MAYMOVE)).toEqual({ ok: false, errno: "EINVAL", reason: "new_size 0x800000001000 exceeds TASK_SIZE 0x800000000000" });
    expect(sysMremap(k, mm, X, P, 2 * P, MOVE, 2 ** 47 - P)).toEqual({ ok: false, errno: "EINVAL", reason: "new_address 0x7ffffffff000 + new_size 0x2000 ends above TASK_SIZE 0x800000000000" });
    expect(sysMremap(k, mm, X, P, P, MOVE, Y + 0x800)).toEqual({ ok: false, errno: "EINVAL", reason: "new_address 0x80000800 is not aligned to the page size (4096 bytes)" });
    expect(sysMremap(k, mm, X, P, P, MREMAP_FIXED, Y)).toEqual({ ok: false, errno: "EINVAL", reason: "MREMAP_FIXED and MREMAP_DONTUNMAP need MREMAP_MAYMOVE" });
    expect(sysMremap(k, mm, X, P, 2 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP)).toEqual({ ok: false, errno: "EINVAL", reason: "MREMAP_DONTUNMAP cannot resize (old_size 0x1000, new_size 0x2000)" });
    expect(sysMremap(k, mm, X, 2 * P, 2 * P, MOVE, X + P)).toEqual({ ok: false, errno: "EINVAL", reason: "new range [0x40001000, 0x40003000) overlaps old range [0x40000000, 0x40002000)" });
    expect(sysMremap(k, mm, X + 8 * P, P, 2 * P, MREMAP_MAYMOVE)).toEqual({ ok: false, errno: "EFAULT", reason: "old_address 0x40008000 is not mapped" });
    expect(sysMremap(k, mm, X, 4 * P, 8 * P, MREMAP_MAYMOVE)).toEqual({ ok: false, errno: "EFAULT", reason: "old_address 0x40000000 + old_size 0x4000 runs past the end of its mapping at 0x40002000" });
    expect(sysMremap(k, mm, X, 2 * P, 4 * P, 0)).toEqual({ ok: false, errno: "ENOMEM", reason: "[0x40000000, 0x40004000) cannot grow in place and MREMAP_MAYMOVE is not set" });
    expect(sysMremap(k, mm, X, 0, 2 * P, MREMAP_MAYMOVE)).toEqual({ ok: false, errno: "EINVAL", reason: "old_size 0 would duplicate a private mapping" });
    expect(sysMremap(k, mm, X + 8 * P, P, P, MOVE, Y)).toEqual({ ok: false, errno: "EFAULT", reason: "nothing is mapped in [0x40008000, 0x40009000)" });
    expect(sysMremap(k, mm, X - P, 2 * P, 2 * P, MOVE, Y)).toEqual({ ok: false, errno: "EFAULT", reason: "old_address 0x3ffff000 is not mapped" });
    expect(layout(mm)).toEqual([
      [X, X + 2 * P, X / P],
      [X + 2 * P, X + 3 * P, X / P + 2],
    ]);
  });
});

describe("mremap", () => {
  it("grows in place when the space after is free, joining a matching next VMA", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: FIXED });
    mapOk(k, mm, { addr: X + 8 * P, len: 4 * P, prot: RW, flags: FIXED });
    k.touch(mm, X, 4 * P, true, 1);
    expect(sysMremap(k, mm, X, 4 * P, 6 * P, 0)).toEqual({ ok: true, value: X });
    expect(layout(mm)).toEqual([
      [X, X + 6 * P, X / P],
      [X + 8 * P, X + 12 * P, X / P + 8],
    ]);
    expect(sysMremap(k, mm, X, 6 * P, 8 * P, 0)).toEqual({ ok: true, value: X });
    expect(layout(mm)).toEqual([[X, X + 12 * P, X / P]]);
    expect(contents(k, mm, X, 4)).toEqual(pattern(k, 1, X, 4));
    expect(mm.rss[MM_ANONPAGES]).toBe(4);
  });

  it("shrinks by unmapping the tail", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 8 * P, prot: RW, flags: FIXED });
    k.touch(mm, X, 8 * P, true, 2);
    expect(sysMremap(k, mm, X, 8 * P, 3 * P - 100, 0)).toEqual({ ok: true, value: X });
    expect(layout(mm)).toEqual([[X, X + 3 * P, X / P]]);
    expect([mm.rss[MM_ANONPAGES], k.phys.nodeStats(0)[NS.nr_anon_pages]]).toEqual([3, 3]);
    expect(contents(k, mm, X, 4)).toEqual([...pattern(k, 2, X, 3), -1]);
  });

  it("moves to grow when the next range is taken, keeping data, counters and page offsets", () => {
    for (const backend of [createX86_64Backend(), createArm64Backend("4k-48"), createArm64Backend("64k-48"), createPpc8xxBackend("4k")]) {
      const k = kernel(backend, backend.geometry.pageShift === 16 ? "1G" : "64M");
      const ps = k.pageSize;
      const mm = k.createMm();
      mapOk(k, mm, { addr: X, len: 16 * ps, prot: RW, flags: FIXED });
      mapOk(k, mm, { addr: X + 16 * ps, len: ps, prot: PROT_READ, flags: FIXED });
      k.touch(mm, X, 16 * ps, true, 3);
      const av = mm.vmas.lookup(X)!.anonVma;
      const r = sysMremap(k, mm, X, 16 * ps, 32 * ps, MREMAP_MAYMOVE);
      expect(r).toEqual({ ok: true, value: mm.mmapBase - 32 * ps });
      const to = mm.mmapBase - 32 * ps;
      expect(layout(mm)).toEqual([
        [X + 16 * ps, X + 17 * ps, X / ps + 16],
        [to, to + 32 * ps, X / ps],
      ]);
      expect(contents(k, mm, to, 17)).toEqual([...pattern(k, 3, X, 16), -1]);
      expect(contents(k, mm, X, 2)).toEqual([-1, -1]);
      expect([mm.rss[MM_ANONPAGES], k.phys.nodeStats(0)[NS.nr_anon_pages]]).toEqual([16, 16]);
      expect(mm.vmas.lookup(to)!.anonVma).toBe(av);
      expect(k.anonVmas.byId.size).toBe(1);
      // Writes reuse the moved pages: they are still exclusive.
      expect(k.touch(mm, to, 16 * ps, true).faults).toBe(0);
      k.exit(mm);
      expect(k.tables.count).toBe(0);
    }
  });

  it("moves whole PTE tables when both ends are PMD-aligned (move_normal_pmd)", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 4 * MiB, prot: RW, flags: FIXED });
    k.touch(mm, X, 4 * MiB, true, 4);
    const t0 = pteTable(mm, X);
    const t1 = pteTable(mm, X + 2 * MiB);
    const tables = k.tables.count;
    expect(sysMremap(k, mm, X, 4 * MiB, 4 * MiB, MOVE, Y)).toEqual({ ok: true, value: Y });
    expect([pteTable(mm, Y), pteTable(mm, Y + 2 * MiB)]).toEqual([t0, t1]);
    expect(pteTable(mm, X)).toBe(-1);
    // A PMD table was needed at the new address; the old one was freed with the old range.
    expect(k.tables.count).toBe(tables);
    expect(contents(k, mm, Y + 2 * MiB - 2 * P, 4)).toEqual(pattern(k, 4, X + 2 * MiB - 2 * P, 4));
    expect(mm.rss[MM_ANONPAGES]).toBe(1024);
  });

  it("realigns a move whose ends share an offset in the PMD so whole tables still move", () => {
    const k = kernel();
    const mm = k.createMm();
    const from = X + MiB;
    mapOk(k, mm, { addr: from, len: 3 * MiB, prot: RW, flags: FIXED });
    k.touch(mm, from, 3 * MiB, true, 5);
    const t0 = pteTable(mm, from);
    const t1 = pteTable(mm, from + 2 * MiB);
    expect(sysMremap(k, mm, from, 3 * MiB, 3 * MiB, MOVE, Y + MiB)).toEqual({ ok: true, value: Y + MiB });
    expect([pteTable(mm, Y + MiB), pteTable(mm, Y + 3 * MiB)]).toEqual([t0, t1]);
    expect(contents(k, mm, Y + MiB, 2)).toEqual(pattern(k, 5, from, 2));
    // Different offsets: the entries move one by one into new tables.
    const to = Y + 16 * MiB + P;
    expect(sysMremap(k, mm, Y + MiB, 3 * MiB, 3 * MiB, MOVE, to)).toEqual({ ok: true, value: to });
    expect(pteTable(mm, to)).not.toBe(t0);
    expect(contents(k, mm, to + 3 * MiB - 2 * P, 2)).toEqual(pattern(k, 5, from + 3 * MiB - 2 * P, 2));
  });

  it("copies entries into new tables on 8xx, which does not move page tables", () => {
    const k = kernel(createPpc8xxBackend("4k"));
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 8 * MiB, prot: RW, flags: FIXED });
    k.touch(mm, X, 8 * MiB, true, 6);
    const t0 = pteTable(mm, X);
    // TASK_SIZE is 2G here.
    const to = 0x6000_0000;
    expect(sysMremap(k, mm, X, 8 * MiB, 8 * MiB, MOVE, to)).toEqual({ ok: true, value: to });
    expect(pteTable(mm, to)).not.toBe(t0);
    expect(contents(k, mm, to + 8 * MiB - P, 1)).toEqual(pattern(k, 6, X + 8 * MiB - P, 1));
    // The root and the two PTE tables the new range needs; the old ones went with the old range.
    expect(k.tables.count).toBe(3);
  });

  it("keeps the emptied source with MREMAP_DONTUNMAP, which then faults in fresh pages", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: FIXED });
    k.touch(mm, X, 4 * P, true, 7);
    const r = sysMremap(k, mm, X, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
    const to = mm.mmapBase - 4 * P;
    expect(r).toEqual({ ok: true, value: to });
    expect(layout(mm)).toEqual([
      [X, X + 4 * P, X / P],
      [to, to + 4 * P, X / P],
    ]);
    const [src, dst] = mm.vmas.all();
    expect([src!.anonVma, dst!.anonVma !== null]).toEqual([null, true]);
    expect(contents(k, mm, X, 4)).toEqual([-1, -1, -1, -1]);
    expect(contents(k, mm, to, 4)).toEqual(pattern(k, 7, X, 4));
    expect(k.touch(mm, X, 4 * P, true, 8).error).toBe(0);
    expect(mm.rss[MM_ANONPAGES]).toBe(8);
    expect(src!.anonVma).not.toBe(dst!.anonVma);
    // To a fixed address as well.
    expect(sysMremap(k, mm, X, 4 * P, 4 * P, MOVE | MREMAP_DONTUNMAP, Y)).toEqual({ ok: true, value: Y });
    expect(contents(k, mm, Y, 4)).toEqual(pattern(k, 8, X, 4));
  });

  it("replaces what is mapped at a MREMAP_FIXED destination, shrinking first if asked", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: FIXED });
    mapOk(k, mm, { addr: Y, len: 8 * P, prot: RW, flags: FIXED });
    k.touch(mm, X, 4 * P, true, 1);
    k.touch(mm, Y, 8 * P, true, 2);
    expect(sysMremap(k, mm, X, 4 * P, 2 * P, MOVE, Y + 2 * P)).toEqual({ ok: true, value: Y + 2 * P });
    expect(layout(mm)).toEqual([
      [Y, Y + 2 * P, Y / P],
      [Y + 2 * P, Y + 4 * P, X / P],
      [Y + 4 * P, Y + 8 * P, Y / P + 4],
    ]);
    expect(contents(k, mm, Y, 5)).toEqual([...pattern(k, 2, Y, 2), ...pattern(k, 1, X, 2), mixTag(2, Y / P + 4)]);
    expect(mm.rss[MM_ANONPAGES]).toBe(8);
  });

  it("moves file mappings with their page offsets and i_mmap membership", () => {
    const k = kernel();
    const mm = k.createMm();
    const file = k.createFile("data", 64 * KiB);
    const a = mapOk(k, mm, { len: 4 * P, prot: RW, flags: MAP_SHARED, file, offset: 8 * P });
    k.touch(mm, a, 4 * P, false);
    expect(sysMremap(k, mm, a, 4 * P, 4 * P, MOVE, Y)).toEqual({ ok: true, value: Y });
    const v = mm.vmas.lookup(Y)!;
    expect([v.pgoff, v.file, [...file.iMmap]]).toEqual([8, file, [v]]);
    expect(contents(k, mm, Y, 4)).toEqual([8, 9, 10, 11].map((i) => fileTag(file, i)));
    expect(mm.rss[MM_FILEPAGES]).toBe(4);
  });

  it("gives a never-faulted anonymous VMA the page offset of its new address, letting it merge with itself", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: FIXED });
    expect(sysMremap(k, mm, X, 4 * P, 4 * P, MOVE, Y)).toEqual({ ok: true, value: Y });
    expect(layout(mm)).toEqual([[Y, Y + 4 * P, Y / P]]);
    expect(sysMremap(k, mm, Y, 4 * P, 4 * P, MOVE, Y + 4 * P)).toEqual({ ok: true, value: Y + 4 * P });
    expect(layout(mm)).toEqual([[Y + 4 * P, Y + 8 * P, Y / P + 4]]);
  });

  it("moves every VMA of a MREMAP_FIXED range, keeping the gaps between them", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 2 * P, prot: RW, flags: FIXED });
    mapOk(k, mm, { addr: X + 3 * P, len: 2 * P, prot: RW | PROT_EXEC, flags: FIXED });
    k.touch(mm, X, 2 * P, true, 3);
    k.touch(mm, X + 3 * P, 2 * P, true, 4);
    expect(sysMremap(k, mm, X, 5 * P, 5 * P, MOVE, Y)).toEqual({ ok: true, value: Y });
    expect(layout(mm)).toEqual([
      [Y, Y + 2 * P, X / P],
      [Y + 3 * P, Y + 5 * P, X / P + 3],
    ]);
    expect(contents(k, mm, Y, 5)).toEqual([...pattern(k, 3, X, 2), -1, ...pattern(k, 4, X + 3 * P, 2)]);
  });
});
