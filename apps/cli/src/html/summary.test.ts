import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { Kernel } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { mapProcess } from "./address-map";
import { mappingSizes, summarize, tlbSpan } from "./summary";
import { buildFixture } from "./testing/fixture";

const KiB = 1024;

function summaryOf(f: ReturnType<typeof buildFixture>) {
  const k = f.kernel;
  const procs = [mapProcess(k, 1, f.parent, 1024), mapProcess(k, 2, f.child, 1024)];
  return summarize(k, procs, mappingSizes(k));
}

describe("key numbers", () => {
  it("knows each arch's mapping sizes, a contiguous run where the arch has one", () => {
    const sizes = (b: Parameters<typeof mappingSizes>[0]["backend"], memory = "1G") => mappingSizes(new Kernel({ backend: b, memory }));
    expect(sizes(createX86_64Backend())).toEqual({ page: 4096, cont: 4096, pmd: 2 ** 21, pud: 2 ** 30 });
    expect(sizes(createArm64Backend("4k-48"))).toEqual({ page: 4096, cont: 64 * KiB, pmd: 2 ** 21, pud: 2 ** 30 });
    expect(sizes(createArm64Backend("64k-48"))).toEqual({ page: 64 * KiB, cont: 2 ** 21, pmd: 2 ** 29, pud: 2 ** 42 });
    expect(sizes(createPpc8xxBackend("16k"), "256M")).toEqual({ page: 16 * KiB, cont: 16 * KiB, pmd: 2 ** 22, pud: 2 ** 22 });
  });

  it("counts a TLB entry per leaf on x86-64: base pages, each page of an mTHP, one per PMD", () => {
    const s = summaryOf(buildFixture());
    expect(s.mappedBytes).toEqual({ pte: (16 + 2048) * KiB + (16 + 4 + 2048) * KiB, mthp: 508 * KiB, cont: 0, pmd: 4096 * KiB, pud: 0, zero: 0, "huge-zero": 0 });
    expect(s.swapBytes).toBe(64 * KiB);
    // Per process: 4 base pages + 64 (or 1 + 63) mTHP pages + 1 PMD + 512 split pages.
    expect(s.tlbEntries).toBe(2 * (4 + 64 + 1 + 512));
    // Each mm: pgd, pud, pmd and four PTE tables, and the PTE table deposited under its THP.
    expect(s.pgtablePages).toBe(18);
    expect(s.totalPages).toBe(262144);
  });

  it("counts a contiguous run once on arm64, so the same workload needs fewer TLB entries", () => {
    const s = summaryOf(buildFixture(createArm64Backend("4k-48")));
    expect(s.mappedBytes).toMatchObject({ mthp: 60 * KiB, cont: 448 * KiB, pmd: 4096 * KiB });
    // Parent: 4 + 4 runs of 64K + 1 + 512; child: 4 + 1 + 15 (the unfolded run) + 3 + 1 + 512.
    expect(s.tlbEntries).toBe(4 + 4 + 1 + 512 + (4 + 1 + 15 + 3 + 1 + 512));
  });

  it("counts coarsened cells by their parts, so the totals do not depend on the cell limit", () => {
    const f = buildFixture();
    const k = f.kernel;
    const exact = summarize(k, [mapProcess(k, 1, f.parent, 1024)], mappingSizes(k));
    const coarse = summarize(k, [mapProcess(k, 1, f.parent, 1)], mappingSizes(k));
    expect(coarse).toEqual(exact);
  });

  it("gives what the MMU cannot use no TLB span", () => {
    const sizes = { page: 4096, cont: 65536, pmd: 2 ** 21, pud: 2 ** 30 };
    expect(["swap", "migration", "device", "softleaf", "none"].map((k) => tlbSpan(k as "swap", sizes))).toEqual([0, 0, 0, 0, 0]);
    expect(tlbSpan("huge-zero", sizes)).toBe(2 ** 21);
  });
});
