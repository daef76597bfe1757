import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import type { ArchBackend } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { fileTag } from "../file/filemap";
import { mixTag } from "../folio/contents";
import type { Kernel as KernelT } from "../kernel/kernel";
import { Kernel } from "../kernel/kernel";
import { ModelInputError } from "../util/errors";
import { MM_ANONPAGES, MM_FILEPAGES } from "./counters";
import type { Errno } from "./errno";
import { MADV_GUARD_INSTALL, madviseLockMode, type MadviseReclaimOps } from "./madvise";
import type { Mm } from "./mm";
import { sysMadvise } from "./syscalls";
import type { Vma } from "./vma";
import {
  MADV,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  VM_DONTCOPY,
  VM_DONTDUMP,
  VM_HUGEPAGE,
  VM_NOHUGEPAGE,
  VM_RAND_READ,
  VM_SEQ_READ,
  VM_WIPEONFORK,
} from "./vm-flags";
import { mapOk, spans } from "../testing/vma";

const KiB = 2 ** 10;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const FIXED = ANON | MAP_FIXED;
const X = 0x4000_0000;
const P = 4 * KiB;
const OK = { ok: true, value: 0 };

type Call = [op: keyof MadviseReclaimOps, vmaStart: number, start: number, end: number];

/** MadviseReclaimOps that record their calls and answer as told. */
function recorder(answers: Partial<Record<keyof MadviseReclaimOps, 0 | Errno>> = {}): { calls: Call[]; ops: MadviseReclaimOps } {
  const calls: Call[] = [];
  const op =
    (name: keyof MadviseReclaimOps) =>
    (_k: KernelT, _mm: Mm, vma: Vma, start: number, end: number): 0 | Errno => {
      calls.push([name, vma.start, start, end]);
      return answers[name] ?? 0;
    };
  return { calls, ops: { free: op("free"), pageout: op("pageout"), cold: op("cold"), collapse: op("collapse") } };
}

const NOOPS = recorder().ops;

function kernel(backend: ArchBackend = createX86_64Backend(), memory = "64M"): Kernel {
  return new Kernel({ backend, memory });
}



describe("madvise errors", () => {
  it("refuses bad advice and ranges with the kernel's errno", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: FIXED });
    expect(sysMadvise(k, mm, X + 1, P, MADV.DONTNEED, NOOPS)).toEqual({ ok: false, errno: "EINVAL", reason: "start 0x40000001 is not aligned to the page size (4096 bytes)" });
    expect(sysMadvise(k, mm, X, P, 999, NOOPS)).toEqual({ ok: false, errno: "EINVAL", reason: "advice 999 is not one this kernel accepts" });
    expect(sysMadvise(k, mm, X, P, 5, NOOPS)).toEqual({ ok: false, errno: "EINVAL", reason: "advice 5 is not one this kernel accepts" });
    expect(sysMadvise(k, mm, X, 2 ** 64 - P, MADV.NORMAL, NOOPS)).toEqual({ ok: false, errno: "EINVAL", reason: "start 0x40000000 + len 0xfffffffffffff000 wraps around the address space" });
    expect(sysMadvise(k, mm, X + 8 * P, 0, MADV.DONTNEED, NOOPS)).toEqual(OK);
    expect(sysMadvise(k, mm, X + 8 * P, P, MADV.DONTNEED, NOOPS)).toEqual({ ok: false, errno: "ENOMEM", reason: "[0x40008000, 0x40009000) is not mapped" });
    expect(sysMadvise(k, mm, X, 8 * P, MADV.RANDOM, NOOPS)).toEqual({ ok: false, errno: "ENOMEM", reason: "[0x40004000, 0x40008000) is not mapped" });
    expect(mm.vmas.all()[0]!.flags & VM_RAND_READ).toBe(VM_RAND_READ);
    const file = k.createFile("data", 16 * KiB);
    const f = mapOk(k, mm, { len: 2 * P, prot: RW, flags: MAP_PRIVATE, file });
    const sh = mapOk(k, mm, { len: 2 * P, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS });
    const range = (a: number) => `[0x${a.toString(16)}, 0x${(a + 2 * P).toString(16)})`;
    expect(sysMadvise(k, mm, f, 2 * P, MADV.WIPEONFORK, NOOPS)).toEqual({ ok: false, errno: "EINVAL", reason: `MADV_WIPEONFORK on ${range(f)}, which is not private anonymous memory` });
    expect(sysMadvise(k, mm, sh, 2 * P, MADV.WIPEONFORK, NOOPS)).toEqual({ ok: false, errno: "EINVAL", reason: `MADV_WIPEONFORK on ${range(sh)}, which is not private anonymous memory` });
    expect(sysMadvise(k, mm, f, 2 * P, MADV.FREE, NOOPS)).toEqual({ ok: false, errno: "EINVAL", reason: `MADV_FREE on ${range(f)}, which is not anonymous memory` });
  });

  it("applies the advice to every mapped part of a range with holes, then fails with ENOMEM", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 2 * P, prot: RW, flags: FIXED });
    mapOk(k, mm, { addr: X + 3 * P, len: 2 * P, prot: RW | PROT_EXEC, flags: FIXED });
    expect(sysMadvise(k, mm, X, 5 * P, MADV.HUGEPAGE, NOOPS)).toEqual({ ok: false, errno: "ENOMEM", reason: "[0x40002000, 0x40003000) is not mapped" });
    expect(mm.vmas.all().map((v) => v.flags & VM_HUGEPAGE)).toEqual([VM_HUGEPAGE, VM_HUGEPAGE]);
    const { calls, ops } = recorder();
    // A hole at the end stops the walk there.
    expect(sysMadvise(k, mm, X + P, 6 * P, MADV.COLD, ops)).toEqual({ ok: false, errno: "ENOMEM", reason: "[0x40005000, 0x40007000) is not mapped" });
    expect(calls).toEqual([
      ["cold", X, X + P, X + 2 * P],
      ["cold", X + 3 * P, X + 3 * P, X + 5 * P],
    ]);
  });

  it("knows no huge-page advice without transparent huge pages (8xx)", () => {
    const k = kernel(createPpc8xxBackend("4k"));
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: FIXED });
    for (const advice of [MADV.HUGEPAGE, MADV.NOHUGEPAGE, MADV.COLLAPSE]) {
      expect(sysMadvise(k, mm, X, 4 * P, advice, NOOPS)).toEqual({ ok: false, errno: "EINVAL", reason: `advice ${advice} is not one this kernel accepts` });
    }
    expect(sysMadvise(k, mm, X, 4 * P, MADV.DONTNEED, NOOPS)).toEqual(OK);
  });

  it("maps populate failures to EINVAL, ENOMEM and EFAULT as madvise_populate does", () => {
    const k = kernel();
    const mm = k.createMm();
    const ro = mapOk(k, mm, { addr: X, len: 2 * P, prot: PROT_READ, flags: FIXED });
    const none = mapOk(k, mm, { addr: X + 4 * P, len: 2 * P, prot: PROT_NONE, flags: FIXED });
    expect(sysMadvise(k, mm, ro, 2 * P, MADV.POPULATE_WRITE, NOOPS)).toEqual({ ok: false, errno: "EINVAL", reason: "MADV_POPULATE_WRITE on [0x40000000, 0x40002000), which is not writable" });
    expect(sysMadvise(k, mm, none, 2 * P, MADV.POPULATE_READ, NOOPS)).toEqual({ ok: false, errno: "EINVAL", reason: "MADV_POPULATE_READ on [0x40004000, 0x40006000), which is not readable" });
    expect(sysMadvise(k, mm, ro, 4 * P, MADV.POPULATE_READ, NOOPS)).toEqual({ ok: false, errno: "ENOMEM", reason: "MADV_POPULATE_READ: 0x40002000 is not mapped" });
    // The part before the hole was populated.
    expect(k.peek(mm, ro + P)).toBe(0);
    const file = k.createFile("short", P);
    const f = mapOk(k, mm, { len: 2 * P, prot: PROT_READ, flags: MAP_PRIVATE, file });
    expect(sysMadvise(k, mm, f, 2 * P, MADV.POPULATE_READ, NOOPS)).toEqual({ ok: false, errno: "EFAULT", reason: `MADV_POPULATE_READ: the fault at 0x${(f + P).toString(16)} failed` });
  });

  it("passes a reclaim hook's errno through", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: FIXED });
    const { ops } = recorder({ collapse: "EBUSY", pageout: "EAGAIN" });
    expect(sysMadvise(k, mm, X, 4 * P, MADV.COLLAPSE, ops)).toEqual({ ok: false, errno: "EBUSY", reason: "MADV_COLLAPSE on [0x40000000, 0x40004000) failed" });
    expect(sysMadvise(k, mm, X, 4 * P, MADV.PAGEOUT, ops)).toEqual({ ok: false, errno: "EAGAIN", reason: "MADV_PAGEOUT on [0x40000000, 0x40004000) failed" });
  });

  it("throws a ModelInputError for advice the kernel accepts but the model does not provide", () => {
    const k = kernel();
    const mm = k.createMm();
    expect(() => sysMadvise(k, mm, X, P, MADV.MERGEABLE, NOOPS)).toThrow("invalid madvise advice \"MADV_MERGEABLE\": expected an advice the model provides (not KSM, memory-failure or guard-page advice)");
    // MADV_REMOVE: the kernel's checks, then the file system's fallocate, which regular files lack in the model.
    mapOk(k, mm, { addr: X, len: P, prot: RW, flags: FIXED });
    expect(sysMadvise(k, mm, X, P, MADV.REMOVE, NOOPS)).toMatchObject({ ok: false, errno: "EINVAL" });
    const file = k.createFile("f", P);
    mapOk(k, mm, { addr: X + 2 * P, len: P, prot: RW, flags: MAP_PRIVATE | MAP_FIXED, file });
    expect(sysMadvise(k, mm, X + 2 * P, P, MADV.REMOVE, NOOPS)).toMatchObject({ ok: false, errno: "EACCES" });
    mapOk(k, mm, { addr: X + 4 * P, len: P, prot: RW, flags: MAP_SHARED | MAP_FIXED, file });
    expect(() => sysMadvise(k, mm, X + 4 * P, P, MADV.REMOVE, NOOPS)).toThrow("invalid madvise advice \"MADV_REMOVE\": expected an advice the model provides for f (MADV_REMOVE needs a file system with fallocate, such as hugetlbfs)");
    expect(() => sysMadvise(k, mm, X, P, MADV_GUARD_INSTALL, NOOPS)).toThrow(ModelInputError);
    expect(() => sysMadvise(k, mm, X, P, 1.5, NOOPS)).toThrow("invalid madvise advice 1.5: expected a 32-bit integer");
    expect(() => sysMadvise(k, mm, X, P, MADV.COLD, { ...NOOPS, cold: undefined } as unknown as MadviseReclaimOps)).toThrow(
      "invalid madvise ops \"[object Object]\": expected MadviseReclaimOps with free, pageout, cold and collapse functions",
    );
  });
});

describe("madvise", () => {
  it("sets VM_HUGEPAGE on the middle of a VMA by splitting it, and merges it back", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 8 * P, prot: RW, flags: FIXED });
    expect(sysMadvise(k, mm, X + 2 * P, 2 * P, MADV.HUGEPAGE, NOOPS)).toEqual(OK);
    expect(spans(mm)).toEqual([
      [X, X + 2 * P],
      [X + 2 * P, X + 4 * P],
      [X + 4 * P, X + 8 * P],
    ]);
    expect(mm.vmas.all().map((v) => v.flags & (VM_HUGEPAGE | VM_NOHUGEPAGE))).toEqual([0, VM_HUGEPAGE, 0]);
    expect(sysMadvise(k, mm, X, 8 * P, MADV.NOHUGEPAGE, NOOPS)).toEqual(OK);
    expect(spans(mm)).toEqual([[X, X + 8 * P]]);
    expect(mm.vmas.all()[0]!.flags & (VM_HUGEPAGE | VM_NOHUGEPAGE)).toBe(VM_NOHUGEPAGE);
  });

  it("sets and clears the flag advice bits", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: FIXED });
    const bits = () => mm.vmas.all()[0]!.flags & (VM_SEQ_READ | VM_RAND_READ | VM_DONTCOPY | VM_WIPEONFORK | VM_DONTDUMP);
    const steps: [number, number][] = [
      [MADV.SEQUENTIAL, VM_SEQ_READ],
      [MADV.RANDOM, VM_RAND_READ],
      [MADV.NORMAL, 0],
      [MADV.DONTFORK, VM_DONTCOPY],
      [MADV.WIPEONFORK, VM_DONTCOPY | VM_WIPEONFORK],
      [MADV.DONTDUMP, VM_DONTCOPY | VM_WIPEONFORK | VM_DONTDUMP],
      [MADV.DOFORK, VM_WIPEONFORK | VM_DONTDUMP],
      [MADV.KEEPONFORK, VM_DONTDUMP],
      [MADV.DODUMP, 0],
    ];
    for (const [advice, want] of steps) {
      expect(sysMadvise(k, mm, X, 4 * P, advice, NOOPS)).toEqual(OK);
      expect(bits()).toBe(want);
    }
    expect(mm.vmas.count).toBe(1);
  });

  it("drops pages with MADV_DONTNEED: rss falls, page tables stay, and the range refaults zero-filled", () => {
    for (const backend of [createX86_64Backend(), createArm64Backend("4k-48"), createPpc8xxBackend("4k")]) {
      const k = kernel(backend);
      const mm = k.createMm();
      mapOk(k, mm, { addr: X, len: 8 * P, prot: RW, flags: FIXED });
      k.touch(mm, X, 8 * P, true, 1);
      const tables = k.tables.count;
      expect(sysMadvise(k, mm, X + 2 * P, 2 * P, MADV.DONTNEED, NOOPS)).toEqual(OK);
      expect(mm.rss[MM_ANONPAGES]).toBe(6);
      expect([k.tables.count, mm.vmas.count]).toEqual([tables, 1]);
      expect([k.peek(mm, X + P), k.peek(mm, X + 2 * P), k.peek(mm, X + 4 * P)]).toEqual([mixTag(1, X / P + 1), -1, mixTag(1, X / P + 4)]);
      expect(k.touch(mm, X + 2 * P, 2 * P, false).error).toBe(0);
      expect([k.peek(mm, X + 2 * P), k.peek(mm, X + 3 * P)]).toEqual([0, 0]);
      expect(sysMadvise(k, mm, X, 8 * P, MADV.DONTNEED_LOCKED, NOOPS)).toEqual(OK);
      expect(mm.rss[MM_ANONPAGES]).toBe(0);
    }
  });

  it("drops a private file mapping's copies with MADV_DONTNEED, so the file shows through again", () => {
    const k = kernel();
    const mm = k.createMm();
    const file = k.createFile("data", 16 * KiB);
    const a = mapOk(k, mm, { len: 4 * P, prot: RW, flags: MAP_PRIVATE, file });
    k.touch(mm, a, 4 * P, true, 3);
    expect([mm.rss[MM_ANONPAGES], mm.rss[MM_FILEPAGES]]).toEqual([4, 0]);
    expect(sysMadvise(k, mm, a, 4 * P, MADV.DONTNEED, NOOPS)).toEqual(OK);
    k.touch(mm, a, 4 * P, false);
    expect(k.peek(mm, a + 3 * P)).toBe(fileTag(file, 3));
    expect([mm.rss[MM_ANONPAGES], mm.rss[MM_FILEPAGES]]).toEqual([0, 4]);
  });

  it("populates with MADV_POPULATE_READ (zero pages) and MADV_POPULATE_WRITE (private copies)", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 16 * P, prot: RW, flags: FIXED });
    expect(sysMadvise(k, mm, X, 16 * P, MADV.POPULATE_READ, NOOPS)).toEqual(OK);
    expect([k.peek(mm, X + 15 * P), mm.rss[MM_ANONPAGES]]).toEqual([0, 0]);
    expect(sysMadvise(k, mm, X, 16 * P, MADV.POPULATE_WRITE, NOOPS)).toEqual(OK);
    expect(mm.rss[MM_ANONPAGES]).toBe(16);
    expect(k.touch(mm, X, 16 * P, true).faults).toBe(0);
  });

  it("reads a file's pages into the page cache with MADV_WILLNEED, at most one read-ahead window", () => {
    const k = kernel();
    const mm = k.createMm();
    const file = k.createFile("big", 1024 * KiB);
    const a = mapOk(k, mm, { len: 256 * P, prot: PROT_READ, flags: MAP_PRIVATE, file });
    expect(sysMadvise(k, mm, a + 8 * P, 64 * P, MADV.WILLNEED, NOOPS)).toEqual(OK);
    // read_ahead_kb is 128: 32 pages from page 8.
    expect(file.nrpages).toBe(32);
    expect([file.pages.has(7), file.pages.has(8), file.pages.has(39), file.pages.has(40)]).toEqual([false, true, true, false]);
    expect(mm.rss[MM_FILEPAGES]).toBe(0);
    // Anonymous memory without swap entries has nothing to read.
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: FIXED });
    expect(sysMadvise(k, mm, X, 4 * P, MADV.WILLNEED, NOOPS)).toEqual(OK);
  });

  it("hands FREE, PAGEOUT, COLD and COLLAPSE to the reclaim hooks with each VMA's part of the range", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: FIXED });
    mapOk(k, mm, { addr: X + 4 * P, len: 4 * P, prot: RW | PROT_EXEC, flags: FIXED });
    const { calls, ops } = recorder();
    for (const advice of [MADV.FREE, MADV.PAGEOUT, MADV.COLD, MADV.COLLAPSE]) {
      expect(sysMadvise(k, mm, X + P, 6 * P, advice, ops)).toEqual(OK);
    }
    const op = ["free", "pageout", "cold", "collapse"] as const;
    expect(calls).toEqual(op.flatMap((o): Call[] => [
      [o, X, X + P, X + 4 * P],
      [o, X + 4 * P, X + 4 * P, X + 7 * P],
    ]));
    expect(mm.vmas.count).toBe(2);
  });

  it("takes the lock the kernel takes for each advice", () => {
    expect([MADV.NORMAL, MADV.HUGEPAGE, MADV.DONTFORK].map(madviseLockMode)).toEqual(["write", "write", "write"]);
    expect([MADV.WILLNEED, MADV.COLD, MADV.PAGEOUT, MADV.POPULATE_READ, MADV.COLLAPSE].map(madviseLockMode)).toEqual(["read", "read", "read", "read", "read"]);
    expect([MADV.DONTNEED, MADV.DONTNEED_LOCKED, MADV.FREE].map(madviseLockMode)).toEqual(["vma", "vma", "vma"]);
  });
});
