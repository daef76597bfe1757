import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import type { ArchBackend } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { fileTag } from "../file/filemap";
import { mixTag } from "../folio/contents";
import { Kernel } from "../kernel/kernel";
import { NS } from "../stats/counters";
import { ModelInputError } from "../util/errors";
import { MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES } from "./counters";
import type { Mm } from "./mm";
import { MAP_GROWSDOWN, MAP_HUGETLB, MAP_LOCKED, MAP_NONBLOCK } from "./mmap";
import { sysMmap, sysMunmap } from "./syscalls";
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  VM_ACCOUNT,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_NORESERVE,
  VM_READ,
  VM_SHARED,
  VM_SOFTDIRTY,
  VM_WRITE,
} from "./vm-flags";
import { mapOk, spans } from "../testing/vma";

const KiB = 2 ** 10;
const MiB = 2 ** 20;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const X = 0x4000_0000;
const P = 4 * KiB;

function setup(backend: ArchBackend = createX86_64Backend(), memory = "64M"): { k: Kernel; mm: Mm } {
  const k = new Kernel({ backend, memory });
  return { k, mm: k.createMm() };
}



describe("mmap errors", () => {
  it("refuses bad arguments with the kernel's errno", () => {
    const { k, mm } = setup();
    const file = k.createFile("data", 64 * KiB);
    expect(sysMmap(k, mm, { len: 0, prot: RW, flags: ANON })).toEqual({ ok: false, errno: "EINVAL", reason: "len is 0: the mapping is empty" });
    expect(sysMmap(k, mm, { len: P, prot: RW, flags: MAP_PRIVATE, file, offset: 100 })).toEqual({ ok: false, errno: "EINVAL", reason: "offset 0x64 is not aligned to the page size (4096 bytes)" });
    expect(sysMmap(k, mm, { addr: X + 0x800, len: P, prot: RW, flags: ANON | MAP_FIXED })).toEqual({ ok: false, errno: "EINVAL", reason: "addr 0x40000800 is not aligned to the page size (4096 bytes)" });
    expect(sysMmap(k, mm, { len: P, prot: RW, flags: MAP_ANONYMOUS })).toEqual({
      ok: false,
      errno: "EINVAL",
      reason: "flags 0x20 have mapping type 0x0: expected MAP_SHARED or MAP_PRIVATE for anonymous memory",
    });
    expect(sysMmap(k, mm, { len: P, prot: RW, flags: MAP_SHARED_VALIDATE | MAP_ANONYMOUS })).toEqual({
      ok: false,
      errno: "EINVAL",
      reason: "flags 0x23 have mapping type 0x3: expected MAP_SHARED or MAP_PRIVATE for anonymous memory",
    });
    expect(sysMmap(k, mm, { len: P, prot: RW, flags: 0, file })).toEqual({
      ok: false,
      errno: "EINVAL",
      reason: "flags 0x0 have mapping type 0x0: expected MAP_SHARED, MAP_SHARED_VALIDATE or MAP_PRIVATE",
    });
    expect(sysMmap(k, mm, { len: P, prot: RW, flags: MAP_PRIVATE })).toEqual({ ok: false, errno: "EBADF", reason: "a mapping without MAP_ANONYMOUS needs a file" });
    expect(sysMmap(k, mm, { len: 2 ** 47 + P, prot: RW, flags: ANON })).toEqual({ ok: false, errno: "ENOMEM", reason: "len 0x800000001000 exceeds TASK_SIZE 0x800000000000" });
    expect(sysMmap(k, mm, { addr: 2 ** 47 - P, len: 2 * P, prot: RW, flags: ANON | MAP_FIXED })).toEqual({
      ok: false,
      errno: "ENOMEM",
      reason: "addr 0x7ffffffff000 + len 0x2000 ends above TASK_SIZE 0x800000000000",
    });
    expect(sysMmap(k, mm, { len: P, prot: PROT_READ, flags: MAP_PRIVATE, file, offset: 2 ** 63 })).toEqual({
      ok: false,
      errno: "EOVERFLOW",
      reason: "offset 0x8000000000000000 + len 0x1000 goes beyond the largest file size",
    });
    expect(sysMmap(k, mm, { len: P, prot: PROT_READ, flags: MAP_SHARED_VALIDATE | 0x100_0000, file })).toEqual({
      ok: false,
      errno: "EOPNOTSUPP",
      reason: "MAP_SHARED_VALIDATE with flags 0x1000000 that data does not support",
    });
    expect(sysMmap(k, mm, { len: P, prot: RW, flags: MAP_SHARED, file, readOnly: true })).toEqual({
      ok: false,
      errno: "EACCES",
      reason: "PROT_WRITE on a shared mapping of data, which was opened read-only",
    });
    expect(sysMmap(k, mm, { len: P, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN })).toEqual({ ok: false, errno: "EINVAL", reason: "MAP_GROWSDOWN cannot be shared" });
    expect(sysMmap(k, mm, { len: P, prot: RW, flags: MAP_PRIVATE | MAP_GROWSDOWN, file })).toEqual({ ok: false, errno: "EINVAL", reason: "MAP_GROWSDOWN is for anonymous mappings only" });
    // 64M of memory and no swap: a private writable mapping of 128M cannot be committed.
    expect(sysMmap(k, mm, { len: 128 * MiB, prot: RW, flags: ANON })).toEqual({ ok: false, errno: "ENOMEM", reason: "len 0x8000000 commits more than the memory and swap of the machine" });
    expect(mm.vmas.count).toBe(0);
    expect(sysMmap(k, mm, { len: 128 * MiB, prot: RW, flags: ANON | MAP_NORESERVE }).ok).toBe(true);
    expect(sysMmap(k, mm, { len: 128 * MiB, prot: PROT_READ, flags: ANON }).ok).toBe(true);
    // Plain MAP_SHARED ignores flags it does not know.
    expect(sysMmap(k, mm, { len: P, prot: PROT_READ, flags: MAP_SHARED | 0x100_0000, file }).ok).toBe(true);
  });

  it("refuses MAP_FIXED_NOREPLACE over an existing mapping with EEXIST, and maps where it is free", () => {
    const { k, mm } = setup();
    mapOk(k, mm, { addr: X, len: 2 * P, prot: RW, flags: ANON | MAP_FIXED });
    expect(sysMmap(k, mm, { addr: X + P, len: 2 * P, prot: RW, flags: ANON | MAP_FIXED_NOREPLACE })).toEqual({
      ok: false,
      errno: "EEXIST",
      reason: "MAP_FIXED_NOREPLACE range [0x40001000, 0x40003000) overlaps an existing mapping",
    });
    expect(sysMmap(k, mm, { addr: X + 2 * P, len: 2 * P, prot: RW, flags: ANON | MAP_FIXED_NOREPLACE })).toEqual({ ok: true, value: X + 2 * P });
    expect(spans(mm)).toEqual([[X, X + 4 * P]]);
  });

  it("throws a ModelInputError for input that is not a valid call", () => {
    const { k, mm } = setup();
    const other = new Kernel({ backend: createX86_64Backend(), memory: "64M" }).createFile("elsewhere", P);
    expect(() => sysMmap(k, mm, { len: -1, prot: RW, flags: ANON })).toThrow(ModelInputError);
    expect(() => sysMmap(k, mm, { len: 1.5, prot: RW, flags: ANON })).toThrow("invalid mmap len 1.5: expected an unsigned long (an integer in [0, 2^64))");
    expect(() => sysMmap(k, mm, { len: P, prot: RW, flags: ANON | MAP_LOCKED })).toThrow("invalid mmap flags \"0x2022\": expected flags without MAP_LOCKED, which the model does not provide yet");
    // MAP_HUGETLB needs a provider of hugetlb_file_setup (the hugetlb feature), or a hugetlbfs file.
    expect(() => sysMmap(k, mm, { len: P, prot: RW, flags: ANON | MAP_HUGETLB })).toThrow("invalid mmap flags \"0x40022\": expected MAP_HUGETLB on a kernel with the hugetlb feature installed");
    expect(sysMmap(k, mm, { len: P, prot: RW, flags: MAP_PRIVATE | MAP_HUGETLB, file: k.createFile("plain", P) })).toMatchObject({ ok: false, errno: "EINVAL" });
    expect(() => sysMmap(k, mm, { len: P, prot: RW, flags: ANON, file: k.createFile("f", P) })).toThrow("invalid mmap file \"f\": expected no file with MAP_ANONYMOUS");
    expect(() => sysMmap(k, mm, { len: P, prot: RW, flags: MAP_PRIVATE, file: other })).toThrow("invalid mmap file \"elsewhere\": expected a file of this kernel (made by createFile)");
    k.exit(mm);
    expect(() => sysMmap(k, mm, { len: P, prot: RW, flags: ANON })).toThrow(`invalid process ${mm.id}: expected a live process of this kernel`);
  });
});

describe("mmap", () => {
  it("creates an anonymous private VMA with the kernel's flags, page offset and no anon_vma yet", () => {
    for (const [backend, sd] of [
      [createX86_64Backend(), VM_SOFTDIRTY],
      [createArm64Backend("4k-48"), 0],
    ] as const) {
      const { k, mm } = setup(backend);
      const a = mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: ANON });
      const v = mm.vmas.lookup(a)!;
      expect([v.start, v.end, v.pgoff, v.name, v.file, v.anonVma]).toEqual([X, X + 4 * P, X / P, "", null, null]);
      expect(v.flags).toBe(VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT | sd);
      const ro = mapOk(k, mm, { len: P, prot: PROT_READ, flags: ANON | MAP_NORESERVE });
      expect(mm.vmas.lookup(ro)!.flags).toBe(VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_NORESERVE | sd);
    }
  });

  it("merges with a compatible neighbour on either side and fills holes into one VMA", () => {
    const { k, mm } = setup();
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: ANON | MAP_FIXED });
    mapOk(k, mm, { addr: X + 4 * P, len: 4 * P, prot: RW, flags: ANON | MAP_FIXED });
    expect(spans(mm)).toEqual([[X, X + 8 * P]]);
    // Different protection: a VMA of its own.
    mapOk(k, mm, { addr: X + 8 * P, len: 4 * P, prot: PROT_READ, flags: ANON | MAP_FIXED });
    expect(spans(mm)).toEqual([
      [X, X + 8 * P],
      [X + 8 * P, X + 12 * P],
    ]);
    mapOk(k, mm, { addr: X - 4 * P, len: 4 * P, prot: RW, flags: ANON | MAP_FIXED });
    expect(spans(mm)).toEqual([
      [X - 4 * P, X + 8 * P],
      [X + 8 * P, X + 12 * P],
    ]);
    expect(mm.vmas.all()[0]!.pgoff).toBe((X - 4 * P) / P);
    // Neither shared memory nor a different file merges.
    mapOk(k, mm, { addr: X + 16 * P, len: 4 * P, prot: PROT_READ, flags: ANON | MAP_FIXED });
    mapOk(k, mm, { addr: X + 12 * P, len: 4 * P, prot: PROT_READ, flags: ANON | MAP_FIXED });
    expect(spans(mm)).toEqual([
      [X - 4 * P, X + 8 * P],
      [X + 8 * P, X + 20 * P],
    ]);
    mapOk(k, mm, { addr: X + 20 * P, len: 4 * P, prot: PROT_READ, flags: MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED });
    expect(mm.vmas.count).toBe(3);
  });

  it("lets a new mapping join a faulted neighbour and share its anon_vma", () => {
    const { k, mm } = setup();
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: ANON | MAP_FIXED });
    k.touch(mm, X, 4 * P, true, 1);
    const av = mm.vmas.lookup(X)!.anonVma!;
    mapOk(k, mm, { addr: X + 4 * P, len: 4 * P, prot: RW, flags: ANON | MAP_FIXED });
    expect(spans(mm)).toEqual([[X, X + 8 * P]]);
    k.touch(mm, X + 4 * P, 4 * P, true, 2);
    expect(mm.vmas.lookup(X + 4 * P)!.anonVma).toBe(av);
    expect(k.anonVmas.byId.size).toBe(1);
  });

  it("reuses the anon_vma of an adjacent mapping it cannot merge with", () => {
    const { k, mm } = setup();
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: ANON | MAP_FIXED });
    mapOk(k, mm, { addr: X + 4 * P, len: 4 * P, prot: RW | PROT_EXEC, flags: ANON | MAP_FIXED });
    expect(mm.vmas.count).toBe(2);
    k.touch(mm, X, P, true);
    k.touch(mm, X + 4 * P, P, true);
    const [a, b] = mm.vmas.all();
    expect(a!.anonVma).not.toBeNull();
    expect(b!.anonVma).toBe(a!.anonVma);
    expect(k.anonVmas.byId.size).toBe(1);
    // A mapping elsewhere gets its own.
    mapOk(k, mm, { addr: X + 16 * P, len: P, prot: RW, flags: ANON | MAP_FIXED });
    k.touch(mm, X + 16 * P, P, true);
    expect(k.anonVmas.byId.size).toBe(2);
  });

  it("merges file mappings whose offsets continue, and only those", () => {
    const { k, mm } = setup();
    const file = k.createFile("data", 64 * KiB);
    mapOk(k, mm, { addr: X, len: 4 * P, prot: PROT_READ, flags: MAP_PRIVATE | MAP_FIXED, file });
    mapOk(k, mm, { addr: X + 4 * P, len: 4 * P, prot: PROT_READ, flags: MAP_PRIVATE | MAP_FIXED, file, offset: 4 * P });
    expect(spans(mm)).toEqual([[X, X + 8 * P]]);
    mapOk(k, mm, { addr: X + 8 * P, len: 4 * P, prot: PROT_READ, flags: MAP_PRIVATE | MAP_FIXED, file, offset: 12 * P });
    expect(spans(mm)).toEqual([
      [X, X + 8 * P],
      [X + 8 * P, X + 12 * P],
    ]);
    const [a, b] = mm.vmas.all();
    expect([a!.pgoff, a!.name, a!.file, b!.pgoff]).toEqual([0, "data", file, 12]);
    expect([...file.iMmap]).toEqual([a, b]);
  });

  it("replaces what MAP_FIXED covers: the old pages are freed and the range reads as zeroes", () => {
    const { k, mm } = setup();
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: ANON | MAP_FIXED });
    k.touch(mm, X, 4 * P, true, 9);
    expect(mm.rss[MM_ANONPAGES]).toBe(4);
    expect(mapOk(k, mm, { addr: X + P, len: 2 * P, prot: RW, flags: ANON | MAP_FIXED })).toBe(X + P);
    // The hole refills with an identical mapping, so all three parts merge back.
    expect(spans(mm)).toEqual([[X, X + 4 * P]]);
    expect(mm.rss[MM_ANONPAGES]).toBe(2);
    expect(k.phys.nodeStats(0)[NS.nr_anon_pages]).toBe(2);
    expect(k.peek(mm, X)).toBe(mixTag(9, X / P));
    expect(k.peek(mm, X + P)).toBe(-1);
    expect(k.touch(mm, X + P, 2 * P, false).error).toBe(0);
    expect([k.peek(mm, X + P), k.peek(mm, X + 2 * P), k.peek(mm, X + 3 * P)]).toEqual([0, 0, mixTag(9, X / P + 3)]);
  });

  it("backs anonymous shared memory with its own shmem file, released with its last mapping", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M" });
    const free0 = k.phys.freePagesWithPcp;
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 2 * P, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS });
    const v = mm.vmas.lookup(a)!;
    const shm = v.file!;
    expect([v.pgoff, v.name, shm.shmem, shm.size, v.flags & (VM_SHARED | VM_MAYSHARE)]).toEqual([0, "/dev/zero (deleted)", true, 2 * P, VM_SHARED | VM_MAYSHARE]);
    expect(k.files.get(shm.id)).toBe(shm);
    k.touch(mm, a, 2 * P, true, 3);
    expect([shm.nrpages, mm.rss[MM_SHMEMPAGES], k.phys.nodeStats(0)[NS.nr_shmem]]).toEqual([2, 2, 2]);
    expect(sysMunmap(k, mm, a, P).ok).toBe(true);
    expect(k.files.has(shm.id)).toBe(true);
    expect(sysMunmap(k, mm, a + P, P).ok).toBe(true);
    expect(k.files.has(shm.id)).toBe(false);
    expect(k.phys.nodeStats(0)[NS.nr_shmem]).toBe(0);
    k.exit(mm);
    expect(k.phys.freePagesWithPcp).toBe(free0);
  });

  it("maps files private (writes copy) and shared (writes dirty the page cache)", () => {
    const { k, mm } = setup();
    const file = k.createFile("data", 64 * KiB, { seed: 5 });
    const priv = mapOk(k, mm, { len: 4 * P, prot: RW, flags: MAP_PRIVATE, file, offset: 4 * P });
    expect(k.touch(mm, priv, 4 * P, false).error).toBe(0);
    expect(k.peek(mm, priv)).toBe(fileTag(file, 4));
    expect(mm.rss[MM_FILEPAGES]).toBe(4);
    k.touch(mm, priv, P, true, 8);
    expect([mm.rss[MM_FILEPAGES], mm.rss[MM_ANONPAGES]]).toEqual([3, 1]);
    const shared = mapOk(k, mm, { len: 2 * P, prot: RW, flags: MAP_SHARED, file });
    k.touch(mm, shared, 2 * P, true, 6);
    expect(k.phys.nodeStats(0)[NS.nr_dirty]).toBe(2);
    expect(k.peek(mm, shared)).toBe(mixTag(6, shared / P));
    expect(file.iMmap.size).toBe(2);
  });

  it("populates with MAP_POPULATE: writes for private writable, reads otherwise, nothing for PROT_NONE", () => {
    const { k, mm } = setup();
    const rw = mapOk(k, mm, { len: 16 * P, prot: RW, flags: ANON | MAP_POPULATE });
    expect(mm.rss[MM_ANONPAGES]).toBe(16);
    expect(k.touch(mm, rw, 16 * P, true).faults).toBe(0);
    const ro = mapOk(k, mm, { len: 4 * P, prot: PROT_READ, flags: ANON | MAP_POPULATE });
    expect([k.peek(mm, ro), k.peek(mm, ro + 3 * P), mm.rss[MM_ANONPAGES]]).toEqual([0, 0, 16]);
    const none = mapOk(k, mm, { len: 4 * P, prot: PROT_NONE, flags: ANON | MAP_POPULATE });
    expect(k.peek(mm, none)).toBe(-1);
    const lazy = mapOk(k, mm, { len: 4 * P, prot: RW, flags: ANON | MAP_POPULATE | MAP_NONBLOCK });
    expect(k.peek(mm, lazy)).toBe(-1);
    const file = k.createFile("data", 64 * KiB);
    const sh = mapOk(k, mm, { len: 16 * P, prot: RW, flags: MAP_SHARED | MAP_POPULATE, file });
    // Shared mappings are read in, not dirtied.
    expect([mm.rss[MM_FILEPAGES], k.phys.nodeStats(0)[NS.nr_dirty], k.peek(mm, sh + 15 * P)]).toEqual([16, 0, fileTag(file, 15)]);
  });

  it("populates on arm64 and 8xx the same way", () => {
    for (const backend of [createArm64Backend("4k-48"), createPpc8xxBackend("4k")]) {
      const k = new Kernel({ backend, memory: "64M" });
      const free0 = k.phys.freePagesWithPcp;
      const mm = k.createMm();
      const a = mapOk(k, mm, { len: 32 * P, prot: RW, flags: ANON | MAP_POPULATE });
      expect(mm.rss[MM_ANONPAGES]).toBe(32);
      expect(sysMunmap(k, mm, a, 32 * P)).toEqual({ ok: true, value: 0 });
      expect(mm.rss[MM_ANONPAGES]).toBe(0);
      k.exit(mm);
      expect(k.phys.freePagesWithPcp).toBe(free0);
      expect(k.tables.count).toBe(0);
    }
  });
});
