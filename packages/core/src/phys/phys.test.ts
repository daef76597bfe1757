import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { newEvents, newNodeStats } from "../stats/counters";
import { ModelInputError } from "../util/errors";
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL, GFP_TRANSHUGE_LIGHT, __GFP_MOVABLE } from "./gfp";
import { MIGRATE_MOVABLE, MIGRATE_UNMOVABLE } from "./migratetype";
import { PhysMem, type PhysConfig } from "./phys";

const MiB = 2 ** 20;
const base: PhysConfig = { pageShift: 12, maxOrder: 10, pbOrder: 9, memoryBytes: 64 * MiB, nodes: 1, movableBytesPerNode: 0, physBits: 46 };
const mk = (cfg: Partial<PhysConfig> = {}) => new PhysMem({ ...base, ...cfg }, newEvents(), newNodeStats);

function totalFree(p: PhysMem): number {
  return p.zones.reduce((n, z) => n + z.freeIncludingPcp, 0);
}

describe("physical memory layout", () => {
  it("starts with every page free in MAX_PAGE_ORDER blocks on the movable lists", () => {
    const p = mk();
    expect(p.totalPages).toBe(16384);
    expect(p.nrFreePages).toBe(16384);
    expect(p.zones[0]!.buddyinfo()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16]);
    expect(p.zones[0]!.freePagesMt[MIGRATE_MOVABLE]).toBe(16384);
    expect(p.memmap.materialisedSections).toBe(0);
  });
  it("splits nodes and a movable zone as configured", () => {
    const p = mk({ memoryBytes: 128 * MiB, nodes: 2, movableBytesPerNode: 16 * MiB });
    expect(p.nodes.map((n) => n.zones.map((z) => `${z.name}:${z.managedPages}`))).toEqual([
      ["Normal:12288", "Movable:4096"],
      ["Normal:12288", "Movable:4096"],
    ]);
    expect(p.zonelist(0, GFP_KERNEL).map((z) => `${z.nid}${z.name}`)).toEqual(["0Normal", "1Normal"]);
    expect(p.zonelist(1, GFP_HIGHUSER_MOVABLE).map((z) => `${z.nid}${z.name}`)).toEqual(["1Movable", "1Normal", "0Movable", "0Normal"]);
  });
  it("derives min_free_kbytes and watermarks as the kernel does", () => {
    const p = mk({ memoryBytes: 16 * 1024 * MiB, maxOrder: 10 });
    // sqrt(16 GiB in KiB * 16) = 16384
    expect(p.minFreeKbytes).toBe(16384);
    const z = p.zones[0]!;
    expect(z.wmarkMin).toBe(4096);
    expect(z.wmarkLow).toBe(4096 + 4194);
    expect(z.wmarkHigh).toBe(4096 + 2 * 4194);
    expect(z.pcp.batch).toBe(63);
  });
  it("frees a node that is not a multiple of MAX_PAGE_ORDER blocks as smaller edge blocks", () => {
    const p = mk({ memoryBytes: 6 * MiB });
    expect(p.zones[0]!.buddyinfo()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(p.nrFreePages).toBe(1536);
  });
  it("rejects sizes that do not fit the arch or the buddy", () => {
    expect(() => mk({ memoryBytes: 3 * MiB })).toThrow(ModelInputError);
    expect(() => mk({ memoryBytes: 3 * MiB })).toThrow(/invalid memory size 3145728 .*multiple of 1 x 2097152 bytes \(whole pageblocks/);
    expect(() => mk({ memoryBytes: 2 ** 33, physBits: 32 })).toThrow(/at most 2\^32 bytes/);
    expect(() => mk({ nodes: 0 })).toThrow(/node count 0/);
    expect(() => mk({ movableBytesPerNode: 64 * MiB })).toThrow(/movable zone size/);
  });
});

describe("the buddy allocator", () => {
  it("splits the lowest block and hands out ascending pfns through the pcp batch", () => {
    const p = mk();
    const got = Array.from({ length: 5 }, () => p.allocPages(0, GFP_HIGHUSER_MOVABLE));
    expect(got).toEqual([0, 1, 2, 3, 4]);
    // The batch of 15 went to the pcp list; the rest of the first 4M block was split down.
    expect(p.zones[0]!.pcp.batch).toBe(3);
  });
  it("frees a batch from the pcp list tails once over high, draining one list before the next", () => {
    const p = mk();
    const z = p.zones[0]!;
    const pcp = z.pcp;
    // Order-0 pages, then order-1 blocks, each on its own pcp list.
    const small = Array.from({ length: pcp.high }, () => p.allocPages(0, GFP_HIGHUSER_MOVABLE));
    const pairs = Array.from({ length: 8 }, () => p.allocPages(1, GFP_HIGHUSER_MOVABLE));
    p.drainPcp();
    const order0 = pcp.lists[pcp.pindex(0, MIGRATE_MOVABLE)]!;
    const order1 = pcp.lists[pcp.pindex(1, MIGRATE_MOVABLE)]!;
    for (const b of pairs) p.freePages(b, 1);
    expect([...order1]).toEqual(pairs);
    let i = 0;
    while (pcp.count + 1 < pcp.high) p.freePages(small[i++]!, 0);
    const before = [...order0];
    // This free reaches high: `batch` pages go, taken after the order-0 list in round-robin order (the order-1
    // list first, whole, from its oldest entry), then the oldest order-0 pages.
    p.freePages(small[i++]!, 0);
    const batch = pcp.batch;
    const fromOrder1 = Math.min(8, Math.ceil(batch / 2));
    expect([...order1]).toEqual(pairs.slice(fromOrder1));
    const left = batch - 2 * fromOrder1;
    expect([...order0]).toEqual([...before, small[i - 1]].slice(Math.max(0, left)));
    expect(pcp.count).toBe(order0.length + 2 * order1.length);
    expect(totalFree(p)).toBe(16384 - (small.length - i));
  });
  it("hands out a bulk of pages exactly as that many single allocations would, clear of the watermark or near it", () => {
    for (const take of [0, 16384 - 700, 16384 - 450]) {
      const a = mk();
      const b = mk();
      for (const p of [a, b]) for (let i = 0; i < take; i++) p.allocPages(0, GFP_KERNEL);
      const bulk: number[] = [];
      const got = a.allocPagesBulk(400, GFP_HIGHUSER_MOVABLE, 0, bulk);
      const single: number[] = [];
      for (let i = 0; i < 400; i++) {
        const pfn = b.allocPages(0, GFP_HIGHUSER_MOVABLE);
        if (pfn < 0) break;
        single.push(pfn);
      }
      expect(got, `after ${take} pages`).toBe(single.length);
      expect(bulk).toEqual(single);
      expect(a.nrFreePages).toBe(b.nrFreePages);
      expect(totalFree(a)).toBe(totalFree(b));
      expect(a.zones[0]!.pcp.count).toBe(b.zones[0]!.pcp.count);
    }
  });
  it("merges freed buddies back into the largest block", () => {
    const p = mk();
    const a = p.allocPages(9, GFP_TRANSHUGE_LIGHT);
    const b = p.allocPages(9, GFP_TRANSHUGE_LIGHT);
    expect(b - a).toBe(512);
    p.freePages(a, 9);
    p.freePages(b, 9);
    p.drainPcp();
    expect(p.zones[0]!.buddyinfo()[10]).toBe(16);
    expect(p.nrFreePages).toBe(16384);
  });
  it("places unmovable allocations by claiming a whole pageblock for them", () => {
    const p = mk();
    const t = p.allocPages(0, GFP_KERNEL);
    expect(p.zones[0]!.migratetypeOf(t)).toBe(MIGRATE_UNMOVABLE);
    const m = p.allocPages(0, GFP_HIGHUSER_MOVABLE);
    expect(p.zones[0]!.migratetypeOf(m)).toBe(MIGRATE_MOVABLE);
    expect(Math.floor(t / 512)).not.toBe(Math.floor(m / 512));
  });
  it("returns -1 when memory runs out and there is no slow path to help", () => {
    const p = mk();
    let n = 0;
    while (p.allocPages(10, __GFP_MOVABLE) >= 0) n++;
    // The low watermark keeps the last blocks back.
    expect(n).toBeLessThan(16);
    expect(p.allocPages(10, __GFP_MOVABLE)).toBe(-1);
  });
  it("conserves pages across any sequence of allocations and frees (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 10 }), fc.boolean(), fc.nat()), { maxLength: 120 }), (ops) => {
        const p = mk();
        const held: [number, number][] = [];
        for (const [order, alloc, pick] of ops) {
          if (alloc || held.length === 0) {
            const pfn = p.allocPages(order, order >= 9 ? GFP_TRANSHUGE_LIGHT : GFP_HIGHUSER_MOVABLE);
            if (pfn >= 0) {
              expect(pfn % 2 ** order).toBe(0);
              for (const [q, o] of held) expect(pfn + 2 ** order <= q || q + 2 ** o <= pfn, "blocks overlap").toBe(true);
              held.push([pfn, order]);
            }
          } else {
            const [pfn, order2] = held.splice(pick % held.length, 1)[0]!;
            p.freePages(pfn, order2);
          }
          const used = held.reduce((n, [, o]) => n + 2 ** o, 0);
          expect(totalFree(p) + used).toBe(p.totalPages);
        }
        for (const [pfn, o] of held) p.freePages(pfn, o);
        p.drainPcp();
        expect(p.nrFreePages).toBe(p.totalPages);
        expect(p.zones[0]!.buddyinfo()[10]).toBe(16);
      }),
      { seed: 11, numRuns: 60 },
    );
  });
});
