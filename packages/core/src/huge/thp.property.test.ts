import type { ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { propertyRuns } from "@hugemm/vitest-config/runs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mixTag } from "../folio/contents";
import { FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE, type GupResult } from "../gup/gup";
import { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { MADV, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";

/**
 * Data integrity with huge pages on: random sequences of faults at every
 * size, fork, COW, partial DONTNEED, mprotect that cuts THPs, mremap away and
 * back, folio splits, the deferred-split shrinker, pins and exit, checked
 * against a model of what each process reads, with the invariant checker
 * after every operation.
 */

const ARENA = 0x4000_0000;
const PMD_PAGES = 512;
const PAGES = 4 * PMD_PAGES;

type Op =
  | { op: "write"; p: number; page: number; n: number; seed: number }
  | { op: "read"; p: number; page: number; n: number }
  | { op: "fork"; p: number }
  | { op: "exit"; p: number }
  | { op: "dontneed"; p: number; page: number; n: number }
  | { op: "protect"; p: number; page: number; n: number }
  | { op: "move"; p: number; page: number; n: number }
  | { op: "split"; p: number; page: number; order: number }
  | { op: "shrink" }
  | { op: "pin"; p: number; page: number }
  | { op: "unpin" };

const p = fc.nat(7);
const page = fc.oneof(fc.nat(PAGES - 1), fc.constantFrom(0, 511, 512, 1024, 1536, 2047));
const n = fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(512, 1024));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant("write" as const), p, page, n, seed: fc.integer({ min: 1, max: 1 << 20 }) }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant("read" as const), p, page, n }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant("fork" as const), p }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("exit" as const), p }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("dontneed" as const), p, page, n }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("protect" as const), p, page, n }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("move" as const), p, page, n }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("split" as const), p, page, order: fc.constantFrom(0, 2, 3, 4, 6) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("shrink" as const) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("pin" as const), p, page }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("unpin" as const) }), weight: 1 },
);

interface Proc {
  mm: Mm;
  contents: number[];
}

function run(make: () => ArchBackend, ops: Op[]): void {
  const k = new Kernel({ backend: make(), memory: "1G", check: true });
  k.thp.set("hugepages-64kB/enabled", "always");
  k.thp.set("hugepages-16kB/enabled", "always");
  k.thp.set("khugepaged/max_ptes_none", "256");
  const ps = k.pageSize;
  const va = (i: number): number => ARENA + i * ps;
  const free0 = k.phys.freePagesWithPcp;
  const first = k.createMm();
  expect(k.mmap(first, { addr: ARENA, len: PAGES * ps, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED }).ok).toBe(true);
  const procs: Proc[] = [{ mm: first, contents: new Array<number>(PAGES).fill(0) }];
  const pins: GupResult[] = [];
  for (const o of ops) {
    if (o.op === "shrink") {
      k.dropSlab();
      continue;
    }
    if (o.op === "unpin") {
      const pin = pins.pop();
      if (pin !== undefined) k.unpin(pin, FOLL_PIN, true);
      continue;
    }
    const pr = procs[o.p % procs.length]!;
    const { mm } = pr;
    const end = "n" in o ? Math.min(PAGES, o.page + o.n) : 0;
    switch (o.op) {
      case "write":
        expect(k.touch(mm, va(o.page), (end - o.page) * ps, true, o.seed).error).toBe(0);
        for (let i = o.page; i < end; i++) pr.contents[i] = mixTag(o.seed, va(i) / ps);
        break;
      case "read":
        expect(k.touch(mm, va(o.page), (end - o.page) * ps, false).error).toBe(0);
        for (let i = o.page; i < end; i++) expect(k.peek(mm, va(i)), `pid ${mm.id} page ${i}`).toBe(pr.contents[i]);
        break;
      case "fork": {
        const child = k.fork(mm);
        expect(child).not.toBeNull();
        procs.push({ mm: child!, contents: [...pr.contents] });
        break;
      }
      case "exit":
        if (procs.length > 1) {
          k.exit(mm);
          procs.splice(procs.indexOf(pr), 1);
        }
        break;
      case "dontneed":
        expect(k.madvise(mm, va(o.page), (end - o.page) * ps, MADV.DONTNEED).ok).toBe(true);
        for (let i = o.page; i < end; i++) pr.contents[i] = 0;
        break;
      case "protect":
        // Cut the range out as read-only and give it back: THPs across the edges split.
        expect(k.mprotect(mm, va(o.page), (end - o.page) * ps, PROT_READ).ok).toBe(true);
        expect(k.mprotect(mm, va(o.page), (end - o.page) * ps, PROT_READ | PROT_WRITE).ok).toBe(true);
        break;
      case "move": {
        const away = ARENA + 8 * PAGES * ps;
        const len = (end - o.page) * ps;
        expect(k.mremap(mm, va(o.page), len, len, MREMAP_MAYMOVE | MREMAP_FIXED, away).ok).toBe(true);
        expect(k.mremap(mm, away, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, va(o.page)).ok).toBe(true);
        break;
      }
      case "split":
        k.splitHugePages(mm, va(o.page), va(o.page) + PMD_PAGES * ps, o.order, o.page % 7 === 0 ? 3 : -1);
        break;
      case "pin": {
        const g = k.gup(mm, va(o.page), 1, FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM);
        expect(g.error).toBeNull();
        pins.push(g);
        break;
      }
    }
  }
  for (const pr of procs) {
    expect(k.touch(pr.mm, ARENA, PAGES * ps, false).error).toBe(0);
    for (let i = 0; i < PAGES; i++) expect(k.peek(pr.mm, va(i)), `pid ${pr.mm.id} page ${i} at the end`).toBe(pr.contents[i]);
  }
  for (const pin of pins) k.unpin(pin, FOLL_PIN);
  for (const pr of procs) k.exit(pr.mm);
  k.dropSlab();
  expect(k.tables.count).toBe(0);
  expect(k.phys.freePagesWithPcp).toBe(free0);
}

const BACKENDS: [string, () => ArchBackend][] = [
  ["x86-64", () => createX86_64Backend()],
  ["arm64 4k", () => createArm64Backend("4k-48")],
];

describe.each(BACKENDS)("THP contents survive every path on %s", (_name, make) => {
  it("matches the model after random sequences with huge pages of every size", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => run(make, ops)),
      { seed: 4242, numRuns: propertyRuns(30) },
    );
  });
});
