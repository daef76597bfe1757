import type { ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { propertyRuns } from "@hugemm/vitest-config/runs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { MADV, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { NR_LRU_LISTS } from "../folio/lru";
import { EV } from "../stats/counters";
import { GFP_KERNEL, __GFP_THISNODE } from "../phys/gfp";
import { MIGRATE_PCPTYPES } from "../phys/migratetype";
import { mapOk } from "../testing/vma";
import { ModelInputError } from "../util/errors";

/**
 * Everything the kernel keeps that a fault can change: counters, every
 * page's memmap words, the buddy and pcp lists, the LRU lists in order, the
 * page tables, and each mm's rss.
 */
function digest(k: Kernel, mms: readonly Mm[]): string {
  const out: unknown[] = [[...k.events], [...k.mthpStats]];
  for (let n = 0; n < k.phys.nodes.length; n++) out.push([...k.phys.nodeStats(n)]);
  k.phys.memmap.forEachSection((s, first) => out.push(first, [...s.flags], [...s.refcount], [...s.mapcount], [...s.mapping], [...s.index], [...s.next], [...s.prev], [...s.tag]));
  for (const z of k.phys.zones) {
    out.push(z.buddyinfo(), z.freePages, z.pcp.count, z.pcp.lists.map((l) => [...l]));
    // Each free list in its order: batched freeing must leave the blocks where page-by-page freeing does.
    for (let o = 0; o <= k.config.maxOrder; o++) for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) out.push([...z.freeBlocks(o, mt)]);
  }
  for (const v of k.lru.lruvecs) for (let l = 0; l < NR_LRU_LISTS; l++) out.push([...k.lru.fromTail(v.nid, l)]);
  const tables = [...k.tables.info.entries()].sort((a, b) => a[0] - b[0]);
  for (const [pa, info] of tables) out.push(pa, info.level, info.mm, info.deposited, [...(k.tables.tableAt(pa) ?? [])]);
  for (const mm of mms) out.push([...mm.rss], mm.hiwaterRss);
  return JSON.stringify(out);
}

interface Touch {
  readonly area: number;
  readonly from: number;
  readonly pages: number;
  readonly write: boolean;
}
type Op = { kind: "touch"; t: Touch } | { kind: "dontneed"; t: Touch } | { kind: "munmap"; t: Touch } | { kind: "fork" } | { kind: "exit" } | { kind: "set"; knob: string; value: string };

const AREAS = 3;
const AREA_PAGES = 96;

const touchArb = fc.record({ area: fc.nat(AREAS - 1), from: fc.nat(AREA_PAGES - 1), pages: fc.integer({ min: 1, max: AREA_PAGES }), write: fc.boolean() });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: touchArb.map((t) => ({ kind: "touch" as const, t })) },
  { weight: 1, arbitrary: touchArb.map((t) => ({ kind: "dontneed" as const, t })) },
  { weight: 1, arbitrary: touchArb.map((t) => ({ kind: "munmap" as const, t })) },
  { weight: 1, arbitrary: fc.constant({ kind: "fork" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "exit" as const }) },
  { weight: 1, arbitrary: fc.constantFrom<Op>({ kind: "set", knob: "enabled", value: "never" }, { kind: "set", knob: "enabled", value: "always" }, { kind: "set", knob: "hugepages-64kB/enabled", value: "always" }, { kind: "set", knob: "hugepages-64kB/enabled", value: "never" }) },
);

/** One machine: a private area, a MADV_HUGEPAGE private area and a shared one; every process maps them at the same addresses. */
function machine(backend: () => ArchBackend, memory: string, fastPaths: boolean, nodes = 1, tight = false) {
  const k = new Kernel({ backend: backend(), memory, nodes, swap: "16M", check: true, fastPaths });
  if (tight) {
    // Hold all but a few hundred pages above each zone's low watermark: runs of faults then cross it.
    for (const z of k.phys.zones) {
      while (z.freePages > z.wmarkLow + 200) {
        const pfn = k.folios.alloc(0, GFP_KERNEL | __GFP_THISNODE, z.nid);
        if (pfn < 0) break;
        // A reference held elsewhere (as a driver would), so the checker accounts for it.
        k.holdRef(pfn, 1);
      }
    }
  }
  const mm = k.createMm();
  const ps = k.pageSize;
  const len = AREA_PAGES * ps;
  const areas = [
    mapOk(k, mm, { len, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS }),
    mapOk(k, mm, { len, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS }),
    mapOk(k, mm, { len, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED | MAP_ANONYMOUS }),
  ];
  // EINVAL where the arch has no THP (8xx): the area is then one more plain one.
  k.madvise(mm, areas[1]!, len, MADV.HUGEPAGE);
  return { k, mms: [mm], areas, ps };
}

/** Apply `o` to the youngest process; `whole` touches a range in one call, otherwise page by page. */
function apply(m: ReturnType<typeof machine>, o: Op, whole: boolean, seed: number): void {
  const { k, mms, areas, ps } = m;
  const mm = mms[mms.length - 1]!;
  if (o.kind === "exit") {
    if (mms.length > 1) k.exit(mms.pop()!);
    return;
  }
  if (o.kind === "fork") {
    const child = k.fork(mms[0]!);
    if (child !== null) mms.push(child);
    return;
  }
  if (o.kind === "set") {
    try {
      k.thp.set(o.knob, o.value);
    } catch (e) {
      // A size the arch does not have, or no THP at all (8xx).
      if (!(e instanceof ModelInputError)) throw e;
    }
    return;
  }
  const { area, from, pages, write } = o.t;
  const start = areas[area]! + from * ps;
  const n = Math.min(pages, AREA_PAGES - from);
  if (o.kind === "dontneed") {
    k.madvise(mm, start, n * ps, MADV.DONTNEED);
    return;
  }
  if (o.kind === "munmap") {
    // Unmap part of the area and map it again in place, so that later steps still find it.
    expect(k.munmap(mm, start, n * ps).ok).toBe(true);
    const flags = (area === 2 ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_FIXED;
    expect(k.mmap(mm, { addr: start, len: n * ps, prot: PROT_READ | PROT_WRITE, flags }).ok).toBe(true);
    return;
  }
  if (whole) k.touch(mm, start, n * ps, write, seed);
  else for (let i = 0; i < n; i++) k.touch(mm, start + i * ps, ps, write, seed);
}

/** The same operations with the batched paths and without: the states must agree after every one. */
function property(backend: () => ArchBackend, memory: string, seed: number, numRuns: number, nodes = 1, tight = false): void {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
      const a = machine(backend, memory, true, nodes, tight);
      const b = machine(backend, memory, false, nodes, tight);
      ops.forEach((o, i) => {
        apply(a, o, true, i + 1);
        apply(b, o, true, i + 1);
        expect(digest(a.k, a.mms), `after op ${i} ${JSON.stringify(o)}`).toBe(digest(b.k, b.mms));
      });
    }),
    { seed, numRuns: propertyRuns(numRuns) },
  );
}

describe("the batched fault and zap paths leave exactly the state of the general ones", () => {
  it("on x86-64", () => property(() => createX86_64Backend(), "64M", 11, 40));
  it("on arm64 4K (cont-pte folding of mTHP runs)", () => property(() => createArm64Backend("4k-48"), "64M", 12, 30));
  it("on arm64 64K", () => property(() => createArm64Backend("64k-48"), "1G", 13, 6));
  it("on ppc8xx 16K (no THP)", () => property(() => createPpc8xxBackend("16k"), "64M", 14, 30));
  it("near the low watermark, where faults go one by one and reclaim between pages", () => property(() => createX86_64Backend(), "16M", 15, 16, 1, true));
  it("on two nodes near the watermark, where a fault may fall back to the other node", () => property(() => createX86_64Backend(), "32M", 16, 12, 2, true));

  it("unmapping thousands of pages (pcp bulk frees of page runs) leaves the state of page-by-page unmapping", () => {
    const run = (fastPaths: boolean) => {
      const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", check: true, fastPaths });
      k.thp.set("enabled", "never");
      const mm = k.createMm();
      const len = 4 << 20;
      const a = mapOk(k, mm, { len, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
      k.touch(mm, a, len, true, 3);
      const child = k.fork(mm)!;
      // The child's COW copies, then half the parent's pages unmapped in strides, then everything.
      k.touch(child, a + (1 << 20), 1 << 20, true, 4);
      for (let off = 0; off < len; off += 512 << 10) expect(k.munmap(mm, a + off, 256 << 10).ok).toBe(true);
      expect(k.munmap(child, a, len).ok).toBe(true);
      expect(k.munmap(mm, a, len).ok).toBe(true);
      return digest(k, [mm, child]);
    };
    expect(run(true)).toBe(run(false));
  });

  it("touching a range leaves the state touching its pages one by one does", () => {
    const a = machine(() => createX86_64Backend(), "64M", true);
    const b = machine(() => createX86_64Backend(), "64M", true);
    const t = { area: 0, from: 3, pages: 70, write: true };
    apply(a, { kind: "touch", t }, true, 5);
    apply(b, { kind: "touch", t }, false, 5);
    expect(digest(a.k, a.mms)).toBe(digest(b.k, b.mms));
  });

  it("batches a run of write faults: one pgfault each, the pages mapped young, dirty and in order", () => {
    const m = machine(() => createX86_64Backend(), "64M", true);
    const { k, mms, areas, ps } = m;
    const before = k.events[EV.pgfault]!;
    const r = k.touch(mms[0]!, areas[0]!, 40 * ps, true, 3);
    expect(r).toMatchObject({ pages: 40, faults: 40, error: 0 });
    expect(k.events[EV.pgfault]! - before).toBe(40);
    for (let i = 0; i < 40; i++) expect(k.peek(mms[0]!, areas[0]! + i * ps)).not.toBe(-1);
  });
});
