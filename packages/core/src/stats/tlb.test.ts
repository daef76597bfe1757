import type { ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { MADV, MAP_ANONYMOUS, MAP_PRIVATE, PROT_NONE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { mapOk } from "../testing/vma";
import { mmTablePages, tlbCoverage, type TlbCoverage } from "./tlb";

const KiB = 1024;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function kernel(backend: ArchBackend, memory = "1G", swap?: string): Kernel {
  return new Kernel({ backend, memory, check: true, ...(swap === undefined ? {} : { swap }) });
}

function written(k: Kernel, mm: Mm, len: number): number {
  const a = mapOk(k, mm, { len, prot: RW, flags: ANON });
  expect(k.touch(mm, a, len, true, 1).error).toBe(0);
  return a;
}

/** The same count by brute force: a hardware walk of every page, each distinct TLB entry once. */
function oracle(k: Kernel, mm: Mm): Pick<TlbCoverage, "entries" | "bySize"> {
  const seen = new Map<number, Set<number>>();
  for (const v of mm.vmas.all()) {
    for (let va = v.start; va < v.end; va += k.pageSize) {
      let w = k.backend.walk(k.tables, mm.rootPa, va);
      if (!w.ok && w.fault === "permission") w = k.backend.walk(k.tables, mm.rootPa, va, { exec: true });
      if (!w.ok) continue;
      let s = seen.get(w.tlbSize);
      if (s === undefined) seen.set(w.tlbSize, (s = new Set()));
      s.add(va - (va % w.tlbSize));
    }
  }
  const bySize = [...seen].sort((x, y) => x[0] - y[0]).map(([size, s]) => ({ size, entries: s.size, bytes: s.size * size }));
  return { entries: bySize.reduce((n, s) => n + s.entries, 0), bySize };
}

describe("TLB coverage on x86-64", () => {
  it("needs one 2M entry for a PMD THP, and counts the mm's table pages with the deposit", () => {
    const k = kernel(createX86_64Backend());
    const mm = k.createMm();
    written(k, mm, 2 * MiB);
    // Root, PUD and PMD tables, and the PTE table deposited under the THP.
    expect(tlbCoverage(k, mm)).toEqual({ entries: 1, bySize: [{ size: 2 * MiB, entries: 1, bytes: 2 * MiB }], tablePages: 4, mappedBytes: 2 * MiB });
    expect(mm.pgtablePages).toBe(4);
  });

  it("covers the whole 56-bit user space of 5-level paging, past the safe-integer range", () => {
    const k = kernel(createX86_64Backend("5level"));
    const mm = k.createMm();
    expect(mm.taskSize).toBe(2 ** 56);
    written(k, mm, 2 * MiB);
    expect(tlbCoverage(k, mm).entries).toBe(1);
    expect(tlbCoverage(k, mm, { start: 2 ** 55, end: 2 ** 56 }).entries).toBe(0);
  });

  it("needs one 1G entry for a PUD THP; its pre-deposit is 513 table pages", () => {
    const k = kernel(createX86_64Backend(), "4G");
    k.thp.set("hugepages-1048576kB/enabled", "always");
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: GiB, prot: RW, flags: ANON });
    k.touch(mm, a, 4096, true, 1);
    expect(tlbCoverage(k, mm)).toEqual({ entries: 1, bySize: [{ size: GiB, entries: 1, bytes: GiB }], tablePages: 1 + 1 + 513, mappedBytes: GiB });
  });

  it("needs one entry per 4K page, the zero page included, and a mix of sizes side by side", () => {
    const k = kernel(createX86_64Backend());
    const mm = k.createMm();
    // A PMD THP and 16 small pages past it in one VMA; then 8 pages read (the zero page) elsewhere.
    written(k, mm, 2 * MiB + 64 * KiB);
    const b = mapOk(k, mm, { len: 32 * KiB, prot: RW, flags: ANON });
    k.touch(mm, b, 32 * KiB, false);
    expect(tlbCoverage(k, mm)).toEqual({
      entries: 25,
      bySize: [
        { size: 4096, entries: 24, bytes: 96 * KiB },
        { size: 2 * MiB, entries: 1, bytes: 2 * MiB },
      ],
      tablePages: mmTablePages(k, mm),
      mappedBytes: 2 * MiB + 96 * KiB,
    });
    expect(mmTablePages(k, mm)).toBe(mm.pgtablePages);
  });

  it("counts a 64K mTHP as 16 entries: x86 has no contiguous hint", () => {
    const k = kernel(createX86_64Backend());
    k.thp.set("enabled", "never");
    k.thp.set("hugepages-64kB/enabled", "always");
    const mm = k.createMm();
    written(k, mm, 256 * KiB);
    expect(tlbCoverage(k, mm).bySize).toEqual([{ size: 4096, entries: 64, bytes: 256 * KiB }]);
  });

  it("clips to a range: a huge leaf partly inside counts once, with only the bytes inside", () => {
    const k = kernel(createX86_64Backend());
    const mm = k.createMm();
    const a = written(k, mm, 4 * MiB);
    expect(tlbCoverage(k, mm, { start: a + MiB, end: a + MiB + 4096 })).toMatchObject({ entries: 1, bySize: [{ size: 2 * MiB, entries: 1, bytes: 4096 }], mappedBytes: 4096 });
    expect(tlbCoverage(k, mm, { start: a + MiB, end: a + 3 * MiB })).toMatchObject({ entries: 2, mappedBytes: 2 * MiB });
    expect(tlbCoverage(k, mm, { start: 0, end: a })).toMatchObject({ entries: 0, bySize: [], mappedBytes: 0 });
  });

  it("needs no entry for PROT_NONE or swapped-out memory", () => {
    const k = kernel(createX86_64Backend(), "64M", "16M");
    const mm = k.createMm();
    const a = written(k, mm, 64 * KiB);
    const b = written(k, mm, 64 * KiB);
    expect(k.mprotect(mm, a, 64 * KiB, PROT_NONE).ok).toBe(true);
    expect(k.madvise(mm, b, 32 * KiB, MADV.PAGEOUT).ok).toBe(true);
    expect(tlbCoverage(k, mm).bySize).toEqual([{ size: 4096, entries: 8, bytes: 32 * KiB }]);
  });

  it("walks each huge leaf once and each PTE table once when its entries differ only in their pfn", () => {
    const k = kernel(createX86_64Backend(), "4G");
    const mm = k.createMm();
    written(k, mm, 2 * GiB);
    k.thp.set("enabled", "never");
    written(k, mm, 64 * MiB);
    const walk = vi.spyOn(k.backend, "translate");
    const c = tlbCoverage(k, mm);
    expect(c.bySize).toEqual([
      { size: 4096, entries: 16384, bytes: 64 * MiB },
      { size: 2 * MiB, entries: 1024, bytes: 2 * GiB },
    ]);
    expect(walk).toHaveBeenCalledTimes(1024 + 32);
  });
});

describe("TLB coverage on arm64", () => {
  it("4K granule: a 64K mTHP folded into a contiguous run is one 64K entry, a PMD THP one 2M entry", () => {
    const k = kernel(createArm64Backend("4k-48"));
    k.thp.set("hugepages-64kB/enabled", "always");
    const mm = k.createMm();
    written(k, mm, 2 * MiB);
    k.thp.set("enabled", "never");
    written(k, mm, 256 * KiB);
    k.thp.set("hugepages-64kB/enabled", "never");
    written(k, mm, 8 * KiB);
    const c = tlbCoverage(k, mm);
    expect(c.bySize).toEqual([
      { size: 4096, entries: 2, bytes: 8 * KiB },
      { size: 64 * KiB, entries: 4, bytes: 256 * KiB },
      { size: 2 * MiB, entries: 1, bytes: 2 * MiB },
    ]);
    expect(c).toMatchObject({ entries: 7, mappedBytes: 2 * MiB + 264 * KiB });
  });

  it("64K granule: 64K pages one entry each, a 2M mTHP one contiguous 2M entry", () => {
    const k = kernel(createArm64Backend("64k-48"), "2G");
    k.thp.set("enabled", "never");
    k.thp.set("hugepages-2048kB/enabled", "always");
    const mm = k.createMm();
    written(k, mm, 4 * MiB);
    k.thp.set("hugepages-2048kB/enabled", "never");
    written(k, mm, MiB);
    expect(tlbCoverage(k, mm).bySize).toEqual([
      { size: 64 * KiB, entries: 16, bytes: MiB },
      { size: 2 * MiB, entries: 2, bytes: 4 * MiB },
    ]);
  });

  it("agrees with a hardware walk of every page after random mmap, touch, mprotect and munmap", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("touch" as const), at: fc.nat(63), n: fc.integer({ min: 1, max: 64 }), write: fc.boolean() }),
      fc.record({ kind: fc.constant("mprotect" as const), at: fc.nat(63), n: fc.integer({ min: 1, max: 16 }), prot: fc.constantFrom(PROT_NONE, PROT_READ, RW) }),
      fc.record({ kind: fc.constant("munmap" as const), at: fc.nat(63), n: fc.integer({ min: 1, max: 8 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 12 }), (ops) => {
        const k = kernel(createArm64Backend("4k-48"), "512M");
        k.thp.set("hugepages-64kB/enabled", "always");
        k.thp.set("hugepages-32kB/enabled", "always");
        const mm = k.createMm();
        const a = mapOk(k, mm, { len: 4 * MiB, prot: RW, flags: ANON });
        const page = 64 * KiB;
        for (const o of ops) {
          const start = a + o.at * page;
          const len = Math.min(o.n * page, a + 4 * MiB - start);
          if (o.kind === "touch") k.touch(mm, start, len, o.write, 3);
          else if (o.kind === "mprotect") k.mprotect(mm, start, len, o.prot);
          else k.munmap(mm, start, len);
        }
        const c = tlbCoverage(k, mm);
        expect({ entries: c.entries, bySize: c.bySize }).toEqual(oracle(k, mm));
        expect(c.mappedBytes).toBe(c.bySize.reduce((n, s) => n + s.bytes, 0));
      }),
      { seed: 20260514, numRuns: 40 },
    );
  });
});

describe("TLB coverage on ppc8xx", () => {
  it("4K pages: one entry each; the PGD and the PTE table are a page each", () => {
    const k = kernel(createPpc8xxBackend("4k"), "64M");
    const mm = k.createMm();
    written(k, mm, 64 * KiB);
    expect(tlbCoverage(k, mm)).toEqual({ entries: 16, bySize: [{ size: 4096, entries: 16, bytes: 64 * KiB }], tablePages: 2, mappedBytes: 64 * KiB });
  });

  it("16K pages: one entry each; the 4K PGD and PTE table are fragments of one page", () => {
    const k = kernel(createPpc8xxBackend("16k"), "64M");
    const mm = k.createMm();
    written(k, mm, 64 * KiB);
    expect(tlbCoverage(k, mm)).toEqual({ entries: 4, bySize: [{ size: 16 * KiB, entries: 4, bytes: 64 * KiB }], tablePages: 1, mappedBytes: 64 * KiB });
    expect(mm.pgtablePages).toBe(2);
  });

  it("needs no entry for PAGE_NONE, which the 8xx keeps valid but without access", () => {
    const k = kernel(createPpc8xxBackend("4k"), "64M");
    const mm = k.createMm();
    const a = written(k, mm, 64 * KiB);
    expect(k.mprotect(mm, a, 32 * KiB, PROT_NONE).ok).toBe(true);
    expect(tlbCoverage(k, mm).bySize).toEqual([{ size: 4096, entries: 8, bytes: 32 * KiB }]);
  });
});

describe("TLB coverage bad input", () => {
  it("names a bad range and an exited process", () => {
    const k = kernel(createX86_64Backend(), "64M");
    const mm = k.createMm();
    expect(() => tlbCoverage(k, mm, { start: 0x2000, end: 0x1000 })).toThrow("invalid TLB coverage range \"[0x2000, 0x1000)\": expected start < end within [0, 0x800000000000]");
    expect(() => tlbCoverage(k, mm, { start: -1, end: 0x1000 })).toThrow("invalid TLB coverage range");
    k.exit(mm);
    expect(() => tlbCoverage(k, mm)).toThrow("invalid process 1: expected a live process of this kernel");
  });
});
