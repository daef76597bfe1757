import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { Kernel, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, NS, PROT_READ, PROT_WRITE, type Mm } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import type { PhysStrip } from "./model";
import { parsePhysKey, physKey, physMap } from "./phys-map";

const KiB = 1024;
const MiB = 2 ** 20;
const RW = PROT_READ | PROT_WRITE;

/** A 64M x86-64 machine with a PMD THP, a 64K mTHP, a base page and four page-cache pages mapped. */
function machine(): { k: Kernel; mm: Mm } {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", check: true });
  k.thp.set("enabled", "always");
  k.thp.set("hugepages-64kB/enabled", "always");
  const mm = k.createMm();
  const map = (addr: number, len: number, flags: number, file = k.createFile("data", 16 * KiB)) => {
    const r = k.mmap(mm, { addr, len, prot: RW, flags: flags | MAP_FIXED, ...(flags & MAP_SHARED ? { file } : {}) });
    if (!r.ok) throw new Error(`mmap: ${r.errno} ${r.reason}`);
  };
  map(0x40000000, 2 * MiB, MAP_PRIVATE | MAP_ANONYMOUS);
  map(0x50000000, 64 * KiB, MAP_PRIVATE | MAP_ANONYMOUS);
  map(0x60000000, 8 * KiB, MAP_PRIVATE | MAP_ANONYMOUS);
  map(0x70000000, 16 * KiB, MAP_SHARED);
  k.touch(mm, 0x40000000, 4 * KiB, true, 1);
  k.touch(mm, 0x50000000, 4 * KiB, true, 1);
  k.touch(mm, 0x60000000, 4 * KiB, true, 1);
  // A read of two pages: readahead brings in the whole 16K file.
  k.touch(mm, 0x70000000, 8 * KiB, false);
  return { k, mm };
}

function pagesOf(s: PhysStrip, kind: string): number {
  return s.cells.filter((c) => c.kind === kind).reduce((n, c) => n + c.pages, 0);
}

describe("physical memory map", () => {
  it("shows a fresh machine: the zero page, the pcp batch, and the buddy blocks from order 0 to MAX_PAGE_ORDER", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", check: true });
    const [s] = physMap(k, 2048);
    expect(s).toMatchObject({ nid: 0, zone: "Normal", startPfn: 0, endPfn: 16384, freePages: 16381, cellPages: 0 });
    expect(s!.cells.map((c) => [c.start, c.pages, c.kind, c.order])).toEqual([
      [0, 1, "other", -1],
      [1, 2, "pcp", 0],
      [3, 1, "free", 0],
      [4, 4, "free", 2],
      [8, 8, "free", 3],
      [16, 16, "free", 4],
      [32, 32, "free", 5],
      [64, 64, "free", 6],
      [128, 128, "free", 7],
      [256, 256, "free", 8],
      [512, 512, "free", 9],
      [1024, 15360, "free", 10],
    ]);
  });

  it("shows allocated memory by kind: page tables, THP, mTHP, anonymous base pages and page cache", () => {
    const { k, mm } = machine();
    const [s] = physMap(k, 2048);
    expect(s!.cells.map((c) => [c.start, c.pages, c.kind, c.order])).toEqual([
      [0, 1, "other", -1],
      // pgd, pud and pmd tables, three PTE tables and the PTE table deposited under the THP.
      [1, 7, "pagetable", -1],
      [8, 1, "pcp", 0],
      [9, 1, "free", 0],
      [10, 2, "free", 1],
      [12, 4, "free", 2],
      [16, 16, "free", 4],
      [32, 32, "free", 5],
      [64, 64, "free", 6],
      [128, 128, "free", 7],
      [256, 256, "free", 8],
      [512, 512, "free", 9],
      [1024, 512, "thp", -1],
      // The pcp list of pageblock order kept the second block of its batch.
      [1536, 512, "pcp", 9],
      [2048, 16, "mthp", -1],
      [2064, 1, "anon", -1],
      [2065, 4, "file", -1],
      [2069, 1, "pcp", 0],
      [2070, 2, "free", 1],
      [2072, 8, "free", 3],
      [2080, 32, "free", 5],
      [2112, 64, "free", 6],
      [2176, 128, "free", 7],
      [2304, 256, "free", 8],
      [2560, 512, "free", 9],
      [3072, 13312, "free", 10],
    ]);
    // The strip agrees with the allocator's and the memmap's own counts.
    const z = k.phys.zones[0]!;
    expect(pagesOf(s!, "free")).toBe(z.freePages);
    expect(pagesOf(s!, "pcp")).toBe(z.pcp.count);
    expect(pagesOf(s!, "pagetable")).toBe(k.phys.nodeStats(0)[NS.nr_page_table_pages]);
    expect(pagesOf(s!, "thp")).toBe(k.phys.nodeStats(0)[NS.nr_anon_transparent_hugepages]);
    k.exit(mm);
  });

  it("folds a strip into cells past the limit, each with what it holds", () => {
    const { k, mm } = machine();
    const [s] = physMap(k, 4);
    expect(s!.cellPages).toBe(4096);
    expect(s!.cells.length).toBe(2);
    const first = s!.cells[0]!;
    expect(first).toMatchObject({ start: 0, pages: 4096, kind: "free", order: 10 });
    expect(first.mix!.slice(0, 5)).toEqual([
      ["free:10", 1024],
      ["free:9", 1024],
      ["free:8", 512],
      ["pcp:9", 512],
      ["thp:-1", 512],
    ]);
    expect(first.mix!.reduce((n, [, p]) => n + p, 0)).toBe(4096);
    expect(s!.cells[1]).toEqual({ start: 4096, pages: 12288, kind: "free", order: 10 });
    k.exit(mm);
  });

  it("draws one strip per node and zone", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "128M", nodes: 2, movable: "16M", check: true });
    expect(physMap(k, 64).map((s) => [s.nid, s.zone, s.startPfn, s.endPfn])).toEqual([
      [0, "Normal", 0, 12288],
      [0, "Movable", 12288, 16384],
      [1, "Normal", 16384, 28672],
      [1, "Movable", 28672, 32768],
    ]);
  });

  it("round-trips its keys", () => {
    expect(parsePhysKey(physKey("free", 10))).toEqual({ kind: "free", order: 10 });
    expect(parsePhysKey(physKey("pagetable", -1))).toEqual({ kind: "pagetable", order: -1 });
  });
});
