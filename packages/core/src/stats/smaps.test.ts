import { PMD, PTE, entryRegs, type ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AddressSpace } from "../file/address-space";
import { anonVmaPrepare } from "../fault/anon";
import { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS } from "../mm/counters";
import type { Mm } from "../mm/mm";
import { VM_ACCOUNT, VM_HUGETLB, VM_LOCKED, VM_READ, VM_SHARED, VM_WRITE, protIndex } from "../mm/vm-flags";
import { GFP_TRANSHUGE } from "../phys/gfp";
import { WALK_OK } from "../pgtable/walker";
import { insertAnonVma, insertFileVma } from "../testing/vma";
import { madvColdOrPageout } from "../vmscan/madvise";
import { ModelInputError } from "../util/errors";
import { meminfo, field } from "./meminfo";
import { formatSmaps, formatSmapsRollup, registerSmapsHooks, smaps, smapsRollup, type MemSizeStats } from "./smaps";

const KiB = 1024;
const MiB = 2 ** 20;

/** A file VMA the way mmap would link it: in the mm's tree and the file's i_mmap. */

function x86(opts: { swap?: string } = {}): Kernel {
  return new Kernel({ backend: createX86_64Backend(), memory: "64M", ...opts });
}

/** An anon VMA with 8 written and 4 read (zero-page) pages, and a private read-only file mapping read whole. */
function smallState(k: Kernel): { mm: Mm; as: AddressSpace } {
  const mm = k.createMm();
  insertAnonVma(k, mm, 0x4000_0000, 64 * KiB, VM_READ | VM_WRITE | VM_ACCOUNT);
  expect(k.touch(mm, 0x4000_0000, 32 * KiB, true, 1).error).toBe(0);
  expect(k.touch(mm, 0x4000_8000, 16 * KiB, false).error).toBe(0);
  const as = k.createFile("/data/file", "32K");
  insertFileVma(mm, as, 0x5000_0000, 32 * KiB, VM_READ);
  expect(k.touch(mm, 0x5000_0000, 32 * KiB, false).error).toBe(0);
  return { mm, as };
}

const ZERO_STATS: MemSizeStats = {
  anonymousPudThp: 0,
  resident: 0,
  sharedClean: 0,
  sharedDirty: 0,
  privateClean: 0,
  privateDirty: 0,
  referenced: 0,
  anonymous: 0,
  lazyfree: 0,
  anonymousThp: 0,
  shmemThp: 0,
  fileThp: 0,
  swap: 0,
  sharedHugetlb: 0,
  privateHugetlb: 0,
  ksm: 0,
  pss: 0,
  pssAnon: 0,
  pssFile: 0,
  pssShmem: 0,
  pssDirty: 0,
  pssLocked: 0,
  swapPss: 0,
};

const FIELDS = (rss: number, pss: number, rest: string) =>
  `Rss:            ${String(rss).padStart(8)} kB\nPss:            ${String(pss).padStart(8)} kB\n${rest}`;

describe("smaps text", () => {
  it("shows an anon and a file VMA exactly as the kernel does; the zero page is not resident", () => {
    const k = x86();
    const { mm } = smallState(k);
    const tail = (anon: number, dirty: number, privClean: number, privDirty: number, flags: string) =>
      `Pss_Dirty:      ${String(dirty).padStart(8)} kB
Shared_Clean:          0 kB
Shared_Dirty:          0 kB
Private_Clean:  ${String(privClean).padStart(8)} kB
Private_Dirty:  ${String(privDirty).padStart(8)} kB
Referenced:           32 kB
Anonymous:      ${String(anon).padStart(8)} kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
THPeligible:           0
VmFlags: ${flags} 
`;
    expect(formatSmaps(smaps(k, mm))).toBe(
      `40000000-40010000 rw-p 00000000 00:00 0 
Size:                 64 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
${FIELDS(32, 32, tail(32, 32, 0, 32, "rd wr mr mw me ac"))}50000000-50008000 r--p 00000000 00:00 2                                  /data/file
Size:                 32 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
${FIELDS(32, 32, tail(0, 0, 32, 0, "rd mr mw me"))}`,
    );
    expect(formatSmapsRollup(smapsRollup(k, mm))).toBe(`40000000-50008000 ---p 00000000 00:00 0                                  [rollup]
Rss:                  64 kB
Pss:                  64 kB
Pss_Dirty:            32 kB
Pss_Anon:             32 kB
Pss_File:             32 kB
Pss_Shmem:             0 kB
Shared_Clean:          0 kB
Shared_Dirty:          0 kB
Private_Clean:        32 kB
Private_Dirty:        32 kB
Referenced:           64 kB
Anonymous:            32 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
`);
  });

  it("names VMAs, shows file offsets in bytes and pads the header to 72 columns on 64-bit", () => {
    const k = x86();
    const mm = k.createMm();
    const heap = insertAnonVma(k, mm, 0x55_5555_4000, 16 * KiB);
    heap.name = "[heap]";
    const as = k.createFile("lib.so", "64K");
    insertFileVma(mm, as, 0x7f00_0000_0000, 16 * KiB, VM_READ | VM_SHARED, 3);
    const lines = formatSmaps(smaps(k, mm))
      .split("\n")
      .filter((l) => /^[0-9a-f]+-/.test(l));
    // The prefix ends in a space and is padded to 72 columns; one more space, then the name.
    expect(lines).toEqual([`5555554000-5555558000 rw-p 00000000 00:00 0${" ".repeat(30)}[heap]`, `7f0000000000-7f0000004000 r--s 00003000 00:00 1${" ".repeat(26)}lib.so`]);
    expect(lines[0]!.indexOf("[heap]")).toBe(73);
  });

  it("pads to 48 columns on a 32-bit arch (ppc8xx)", () => {
    const k = new Kernel({ backend: createPpc8xxBackend("4k"), memory: "64M" });
    const mm = k.createMm();
    insertAnonVma(k, mm, 0x1000_0000, 8 * KiB).name = "[stack]";
    const r = smapsRollup(k, mm);
    expect(formatSmaps(smaps(k, mm)).split("\n")[0]).toBe("10000000-10002000 rw-p 00000000 00:00 0          [stack]");
    expect(formatSmapsRollup(r).split("\n")[0]).toBe("10000000-10002000 ---p 00000000 00:00 0          [rollup]");
  });

  it("an mm without VMAs rolls up to a zero range", () => {
    const k = x86();
    const mm = k.createMm();
    expect(smaps(k, mm).entries).toEqual([]);
    expect(formatSmaps(smaps(k, mm))).toBe("");
    const r = smapsRollup(k, mm);
    expect(r).toEqual({ bitsPerLong: 64, start: 0, end: 0, stats: ZERO_STATS });
    expect(formatSmapsRollup(r).split("\n")[0]).toBe("00000000-00000000 ---p 00000000 00:00 0                                  [rollup]");
  });
});

describe("PSS", () => {
  it("splits file pages mapped by two processes in half, and by three with the kernel's fixed-point rounding", () => {
    const k = x86();
    const as = k.createFile("shared", "16K");
    const mms = [k.createMm(), k.createMm(), k.createMm()];
    for (const mm of mms.slice(0, 2)) {
      insertFileVma(mm, as, 0x1000_0000, 16 * KiB, VM_READ);
      k.touch(mm, 0x1000_0000, 16 * KiB, false);
    }
    for (const mm of mms.slice(0, 2)) {
      const s = smaps(k, mm).entries[0]!.stats;
      expect(s).toEqual({ ...ZERO_STATS, resident: 16 * KiB, pss: 8 * KiB, pssFile: 8 * KiB, sharedClean: 16 * KiB, referenced: 16 * KiB });
    }
    // A third mapper of the first 3 pages: each is shared 3 ways, (4096 << 12) / 3 = 5592405 per page.
    insertFileVma(mms[2]!, as, 0x1000_0000, 12 * KiB, VM_READ);
    k.touch(mms[2]!, 0x1000_0000, 12 * KiB, false);
    const third = smaps(k, mms[2]!).entries[0]!.stats;
    expect(third.pss).toBe(Math.floor((3 * 5592405) / 4096));
    expect(third.pss).toBe(4095);
    const first = smaps(k, mms[0]!).entries[0]!.stats;
    // 3 pages at 5592405 and one at 2^24 / 2, shifted down once at the end.
    expect(first.pss).toBe(Math.floor((3 * 5592405 + 8388608) / 4096));
    expect(first.pss).toBe(6143);
    expect(formatSmaps(smaps(k, mms[0]!))).toContain("Rss:                  16 kB\nPss:                   5 kB\n");
    const total = mms.reduce((n, mm) => n + smapsRollup(k, mm).stats.pss, 0);
    expect(total).toBe(16 * KiB - 3);
  });

  it("rolls up PSS in fixed point before shifting, across VMAs", () => {
    const k = x86();
    const as = k.createFile("f", "4K");
    const others = [k.createMm(), k.createMm()];
    for (const mm of others) {
      insertFileVma(mm, as, 0x1000_0000, 4 * KiB, VM_READ);
      k.touch(mm, 0x1000_0000, 4 * KiB, false);
    }
    // One process maps the page 3 times more: 5 mappings, each worth (2^24)/5 = 3355443.2 -> 3355443.
    const mm = k.createMm();
    for (let i = 0; i < 3; i++) {
      insertFileVma(mm, as, 0x2000_0000 + i * MiB, 4 * KiB, VM_READ);
      k.touch(mm, 0x2000_0000 + i * MiB, 4 * KiB, false);
    }
    const per = smaps(k, mm).entries.map((e) => e.stats.pss);
    expect(per).toEqual([819, 819, 819]);
    expect(smapsRollup(k, mm).stats.pss).toBe(Math.floor((3 * 3355443) / 4096));
    expect(smapsRollup(k, mm).stats.pss).toBe(2457);
  });

  it("splits anonymous pages shared after fork, and a COW write makes them private again", () => {
    const k = x86();
    const parent = k.createMm();
    insertAnonVma(k, parent, 0x4000_0000, 16 * KiB);
    k.touch(parent, 0x4000_0000, 16 * KiB, true, 5);
    const child = k.fork(parent)!;
    expect(child).not.toBeNull();
    for (const mm of [parent, child]) {
      const s = smaps(k, mm).entries[0]!.stats;
      expect([s.resident, s.pss, s.anonymous, s.privateClean + s.privateDirty, s.sharedClean + s.sharedDirty]).toEqual([16 * KiB, 8 * KiB, 16 * KiB, 0, 16 * KiB]);
    }
    k.touch(child, 0x4000_0000, 4 * KiB, true, 6);
    const c = smaps(k, child).entries[0]!.stats;
    const p = smaps(k, parent).entries[0]!.stats;
    expect([c.pss, c.privateDirty]).toEqual([4 * KiB + 6 * KiB, 4 * KiB]);
    expect([p.pss, p.privateClean + p.privateDirty]).toEqual([4 * KiB + 6 * KiB, 4 * KiB]);
  });

  it("counts Locked as the PSS of VM_LOCKED VMAs", () => {
    const k = x86();
    const mm = k.createMm();
    insertAnonVma(k, mm, 0x4000_0000, 16 * KiB, VM_READ | VM_WRITE | VM_LOCKED);
    k.touch(mm, 0x4000_0000, 8 * KiB, true);
    const s = smapsRollup(k, mm).stats;
    expect([s.pss, s.pssLocked]).toEqual([8 * KiB, 8 * KiB]);
  });

  it("keeps Σ PSS over all processes within rounding of the mapped memory, and Rss equal to the rss counters (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ mm: fc.integer({ min: 0, max: 2 }), vma: fc.integer({ min: 0, max: 2 }), page: fc.integer({ min: 0, max: 15 }), n: fc.integer({ min: 1, max: 6 }), write: fc.boolean() }), { maxLength: 25 }),
        (ops) => {
          const k = x86();
          const as = k.createFile("p", "64K");
          const shm = k.createFile("shm", "64K", { shmem: true });
          const mms = [k.createMm(), k.createMm(), k.createMm()];
          for (const mm of mms) {
            insertAnonVma(k, mm, 0x4000_0000, 64 * KiB);
            insertFileVma(mm, as, 0x5000_0000, 64 * KiB, VM_READ | VM_WRITE);
            insertFileVma(mm, shm, 0x6000_0000, 64 * KiB, VM_READ | VM_WRITE | VM_SHARED);
          }
          for (const op of ops) {
            const base = [0x4000_0000, 0x5000_0000, 0x6000_0000][op.vma]!;
            const len = Math.min(op.n, 16 - op.page) * 4 * KiB;
            expect(k.touch(mms[op.mm]!, base + op.page * 4 * KiB, len, op.write).error).toBe(0);
          }
          let pss = 0;
          for (const mm of mms) {
            const s = smaps(k, mm);
            const rollup = smapsRollup(k, mm).stats;
            const rssPages = mm.rss[MM_ANONPAGES]! + mm.rss[MM_FILEPAGES]! + mm.rss[MM_SHMEMPAGES]!;
            expect(rollup.resident).toBe(rssPages * 4 * KiB);
            expect(s.entries.reduce((n, e) => n + e.stats.resident, 0)).toBe(rollup.resident);
            expect(rollup.anonymous).toBe(mm.rss[MM_ANONPAGES]! * 4 * KiB);
            expect(rollup.pssAnon + rollup.pssFile + rollup.pssShmem).toBeLessThanOrEqual(rollup.pss + 2);
            expect(rollup.pssAnon + rollup.pssFile + rollup.pssShmem).toBeGreaterThanOrEqual(rollup.pss - 2);
            pss += rollup.pss;
          }
          const m = meminfo(k);
          const mapped = (field(m.fields, "AnonPages") + field(m.fields, "Mapped")) * KiB;
          expect(pss).toBeLessThanOrEqual(mapped);
          expect(pss).toBeGreaterThanOrEqual(mapped - 3);
        },
      ),
      { seed: 20240601, numRuns: 40 },
    );
  });
});

describe("swap entries", () => {
  /**
   * Swap a written page out by hand as try_to_unmap would leave it: its
   * contents on a slot, a swap PTE in each mm, one swap_map count per PTE.
   */
  function swapOut(k: Kernel, mms: readonly Mm[], addr: number, tag: number): number {
    const dev = k.swap.device!;
    const off = dev.alloc(0);
    dev.contents[off] = tag;
    const R = entryRegs(1);
    for (const mm of mms) {
      dev.dup(off);
      expect(mm.walker.find(addr, PTE, true, mm.slot)).toBe(WALK_OK);
      k.backend.softleafEntry(R, 0, PTE, dev.type, off);
      k.backend.writeEntry(mm.slot.table, mm.slot.index, PTE, R, 0);
      mm.addRss(MM_SWAPENTS, 1);
    }
    dev.deleteFromCache(off, 1);
    return off;
  }

  it("counts Swap per entry and SwapPss by the slot's swap count", () => {
    const k = x86({ swap: "1M" });
    const a = k.createMm();
    const b = k.createMm();
    for (const mm of [a, b]) insertAnonVma(k, mm, 0x4000_0000, 16 * KiB);
    const off = swapOut(k, [a, b], 0x4000_0000, 0x1234);
    swapOut(k, [a], 0x4000_1000, 0x5678);
    expect(k.swap.device!.count(off)).toBe(2);
    const sa = smaps(k, a).entries[0]!.stats;
    expect([sa.resident, sa.swap, sa.swapPss]).toEqual([0, 8 * KiB, 2 * KiB + 4 * KiB]);
    expect(formatSmaps(smaps(k, b))).toContain("Swap:                  4 kB\nSwapPss:               2 kB\n");
    const sb = smaps(k, b).entries[0]!.stats;
    expect([sb.resident, sb.swap, sb.swapPss]).toEqual([0, 4 * KiB, 2 * KiB]);
    expect(smapsRollup(k, a).stats.swapPss).toBe(6 * KiB);
  });

  it("counts pages MADV_PAGEOUT swapped out, and splits SwapPss once fork shares the entries", () => {
    const k = x86({ swap: "1M" });
    const mm = k.createMm();
    const vma = insertAnonVma(k, mm, 0x4000_0000, 16 * 4 * KiB);
    k.touch(mm, 0x4000_0000, 16 * 4 * KiB, true, 3);
    expect(madvColdOrPageout(k, mm, vma, 0x4000_0000, 0x4000_0000 + 8 * 4 * KiB, true)).toBe(8);
    let s = smaps(k, mm).entries[0]!.stats;
    expect([s.resident, s.pss, s.swap, s.swapPss]).toEqual([32 * KiB, 32 * KiB, 32 * KiB, 32 * KiB]);
    const m = meminfo(k);
    expect(field(m.fields, "SwapTotal") - field(m.fields, "SwapFree")).toBe(32);
    const child = k.fork(mm)!;
    for (const p of [mm, child]) {
      s = smaps(k, p).entries[0]!.stats;
      expect([s.resident, s.pss, s.swap, s.swapPss]).toEqual([32 * KiB, 16 * KiB, 32 * KiB, 16 * KiB]);
      expect(s.swap).toBe(p.rss[MM_SWAPENTS]! * 4 * KiB);
    }
    expect(formatSmapsRollup(smapsRollup(k, child))).toContain("Swap:                 32 kB\nSwapPss:              16 kB\n");
  });

  it("counts a shared shmem mapping's swapped-out pages as Swap without SwapPss", () => {
    const k = x86({ swap: "1M" });
    const shm = k.createFile("shm", "16K", { shmem: true });
    const mm = k.createMm();
    insertFileVma(mm, shm, 0x6000_0000, 16 * KiB, VM_READ | VM_WRITE | VM_SHARED);
    k.touch(mm, 0x6000_0000, 8 * KiB, true);
    const dev = k.swap.device!;
    const off = dev.alloc(0);
    dev.dup(off);
    dev.deleteFromCache(off, 1);
    shm.swapped.set(3, off);
    const s = smaps(k, mm).entries[0]!.stats;
    expect([s.resident, s.pss, s.pssShmem, s.privateDirty, s.swap, s.swapPss]).toEqual([8 * KiB, 8 * KiB, 8 * KiB, 8 * KiB, 4 * KiB, 0]);
    expect(smapsRollup(k, mm).stats.pssShmem).toBe(8 * KiB);
    // A private writable mapping looks the swapped pages up behind its none PTEs only.
    const priv = k.createMm();
    insertFileVma(priv, shm, 0x6000_0000, 16 * KiB, VM_READ | VM_WRITE);
    expect(smaps(k, priv).entries[0]!.stats.swap).toBe(4 * KiB);
  });
});

describe("huge mappings", () => {
  it("accounts a PMD-mapped anonymous THP whole, as AnonHugePages", () => {
    const k = x86();
    const mm = k.createMm();
    const vma = insertAnonVma(k, mm, 0x4000_0000, 2 * MiB);
    anonVmaPrepare(k, mm, vma);
    const head = k.folios.alloc(9, GFP_TRANSHUGE);
    expect(head).toBeGreaterThanOrEqual(0);
    k.rmap.addNewAnon(head, vma, vma.start, PMD, true);
    k.lru.add(head);
    mm.addRss(MM_ANONPAGES, 512);
    const b = k.backend;
    const R = entryRegs(1);
    expect(mm.walker.find(vma.start, PMD, true, mm.slot)).toBe(WALK_OK);
    b.pfnEntry(R, 0, PMD, head, protIndex(vma.flags));
    b.mkhuge(R, 0, PMD);
    b.mkdirty(R, 0, PMD);
    b.mkyoung(R, 0, PMD);
    b.setEntries(k.ptCtx, mm.slot.table, mm.slot.index, PMD, vma.start, R, 0, 1);
    const s = smaps(k, mm).entries[0]!.stats;
    expect(s).toEqual({ ...ZERO_STATS, resident: 2 * MiB, pss: 2 * MiB, pssAnon: 2 * MiB, pssDirty: 2 * MiB, privateDirty: 2 * MiB, referenced: 2 * MiB, anonymous: 2 * MiB, anonymousThp: 2 * MiB });
    expect(formatSmaps(smaps(k, mm))).toContain("AnonHugePages:      2048 kB\n");
    expect(field(meminfo(k).fields, "AnonHugePages")).toBe(2048);
  });
});

describe("hooks and other arches", () => {
  it("asks the registered hooks for THPeligible and for hugetlb VMAs", () => {
    const k = x86();
    const mm = k.createMm();
    insertAnonVma(k, mm, 0x4000_0000, 2 * MiB);
    insertAnonVma(k, mm, 0x8000_0000, 4 * MiB, VM_READ | VM_WRITE | VM_HUGETLB);
    let s = smaps(k, mm);
    expect(s.entries.map((e) => [e.thpEligible, e.kernelPageSize])).toEqual([
      [0, 4 * KiB],
      [0, 2 * MiB],
    ]);
    registerSmapsHooks(k, { thpEligible: (v) => (v.flags & VM_HUGETLB) === 0 });
    registerSmapsHooks(k, { hugetlb: () => ({ pageSize: 2 * MiB, shared: 2 * MiB, private: 2 * MiB }) });
    s = smaps(k, mm);
    expect(s.entries.map((e) => [e.thpEligible, e.stats.sharedHugetlb, e.stats.privateHugetlb])).toEqual([
      [1, 0, 0],
      [0, 2 * MiB, 2 * MiB],
    ]);
    const text = formatSmaps(s);
    expect(text).toContain("THPeligible:           1\n");
    expect(text).toContain("Shared_Hugetlb:     2048 kB\nPrivate_Hugetlb:    2048 kB\n");
    expect(text).toContain("VmFlags: rd wr mr mw me ht \n");
  });

  it("rejects a process of another kernel or one that exited, and malformed hooks", () => {
    const k = x86();
    const other = x86();
    const mm = other.createMm();
    expect(() => smaps(k, mm)).toThrow(ModelInputError);
    const gone = k.createMm();
    k.exit(gone);
    expect(() => smapsRollup(k, gone)).toThrow(`invalid process ${gone.id}: expected a live process of this kernel`);
    expect(() => registerSmapsHooks(k, null as unknown as object)).toThrow(/invalid smaps hooks null/);
  });

  const arches: [string, () => ArchBackend, string, number][] = [
    ["arm64 4k-48", () => createArm64Backend("4k-48"), "64M", 4],
    ["arm64 64k-48", () => createArm64Backend("64k-48"), "512M", 64],
    ["ppc8xx 4k", () => createPpc8xxBackend("4k"), "64M", 4],
  ];
  for (const [name, make, memory, pageKb] of arches) {
    it(`accounts anon, zero-page and shared file pages the same way on ${name}`, () => {
      const k = new Kernel({ backend: make(), memory });
      const ps = k.pageSize;
      const a = k.createMm();
      const b = k.createMm();
      const as = k.createFile("f", 4 * ps);
      for (const mm of [a, b]) {
        insertFileVma(mm, as, 0x2000_0000, 4 * ps, VM_READ);
        k.touch(mm, 0x2000_0000, 4 * ps, false);
      }
      insertAnonVma(k, a, 0x1000_0000, 8 * ps);
      k.touch(a, 0x1000_0000, 2 * ps, true);
      k.touch(a, 0x1000_0000 + 2 * ps, 2 * ps, false);
      const [anon, file] = smaps(k, a).entries;
      expect([anon!.kernelPageSize, anon!.stats.resident, anon!.stats.pss, anon!.stats.privateDirty]).toEqual([ps, 2 * ps, 2 * ps, 2 * ps]);
      expect([file!.stats.resident, file!.stats.pss, file!.stats.sharedClean]).toEqual([4 * ps, 2 * ps, 4 * ps]);
      expect(formatSmaps(smaps(k, a))).toContain(`KernelPageSize: ${String(pageKb).padStart(8)} kB\n`);
    });
  }
});
