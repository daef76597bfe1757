import type { ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { propertyRuns } from "@hugemm/vitest-config/runs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mixTag } from "../folio/contents";
import { FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE, type GupResult } from "../gup/gup";
import type { Mm } from "../mm/mm";
import { MADV, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { NS } from "../stats/counters";
import { Kernel } from "./kernel";

/**
 * Data integrity across fork, COW, swap, migration, pins, mremap and exit:
 * random operation sequences on a few processes, against a model of what
 * each process should read at each page. The invariant checker runs after
 * every operation.
 */

const ARENA = 0x4000_0000;
const PAGES = 24;

type Op =
  | { op: "write"; p: number; page: number; n: number; seed: number }
  | { op: "read"; p: number; page: number; n: number }
  | { op: "fork"; p: number }
  | { op: "exit"; p: number }
  | { op: "pageout"; p: number; page: number; n: number }
  | { op: "dontneed"; p: number; page: number; n: number }
  | { op: "migrate"; p: number; page: number; n: number; nid: number }
  | { op: "pin"; p: number; page: number; n: number }
  | { op: "unpin" }
  | { op: "swapmove"; p: number; page: number };

const p = fc.nat(7);
const page = fc.nat(PAGES - 1);
const n = fc.integer({ min: 1, max: 8 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant("write" as const), p, page, n, seed: fc.integer({ min: 1, max: 1 << 20 }) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant("read" as const), p, page, n }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant("fork" as const), p }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("exit" as const), p }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("pageout" as const), p, page, n }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("dontneed" as const), p, page, n }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("migrate" as const), p, page, n, nid: fc.nat(1) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("pin" as const), p, page, n }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("unpin" as const) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("swapmove" as const), p, page }), weight: 1 },
);

interface Proc {
  mm: Mm;
  /** What a load at page i of the arena returns (0: never written, the zero page). */
  contents: number[];
}

function run(make: () => ArchBackend, ops: Op[]): void {
  const k = new Kernel({ backend: make(), memory: "256M", nodes: 2, swap: "16M", check: true });
  const ps = k.pageSize;
  const free0 = k.phys.freePagesWithPcp;
  const first = k.createMm();
  const r = k.mmap(first, { addr: ARENA, len: PAGES * ps, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED });
  expect(r.ok).toBe(true);
  const procs: Proc[] = [{ mm: first, contents: new Array<number>(PAGES).fill(0) }];
  const pins: GupResult[] = [];
  const va = (i: number): number => ARENA + i * ps;
  for (const o of ops) {
    if (o.op === "unpin") {
      const pin = pins.pop();
      if (pin !== undefined) k.unpin(pin, FOLL_PIN, true);
      continue;
    }
    const pr = procs[o.p % procs.length]!;
    const { mm } = pr;
    const end = "page" in o && "n" in o ? Math.min(PAGES, o.page + o.n) : 0;
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
      case "pageout":
        expect(k.madvise(mm, va(o.page), (end - o.page) * ps, MADV.PAGEOUT).ok).toBe(true);
        break;
      case "dontneed":
        expect(k.madvise(mm, va(o.page), (end - o.page) * ps, MADV.DONTNEED).ok).toBe(true);
        for (let i = o.page; i < end; i++) pr.contents[i] = 0;
        break;
      case "migrate":
        k.migrateRange(mm, va(o.page), (end - o.page) * ps, o.nid);
        break;
      case "pin": {
        const g = k.gup(mm, va(o.page), end - o.page, FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM);
        expect(g.pages.length).toBe(end - o.page);
        pins.push(g);
        break;
      }
      case "swapmove": {
        // Move one page away and back with mremap: whatever it holds (a page, a swap entry) travels.
        const away = ARENA + 4 * PAGES * ps;
        const there = k.mremap(mm, va(o.page), ps, ps, 3, away);
        expect(there.ok).toBe(true);
        const back = k.mremap(mm, away, ps, ps, 3, va(o.page));
        expect(back.ok).toBe(true);
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
  expect(k.phys.nodeStats(0)[NS.nr_anon_pages]! + k.phys.nodeStats(1)[NS.nr_anon_pages]!).toBe(0);
  expect(k.swap.freePages).toBe(k.swap.totalPages);
  expect(k.phys.freePagesWithPcp).toBe(free0);
}

const BACKENDS: [string, () => ArchBackend][] = [
  ["x86-64", () => createX86_64Backend()],
  ["arm64 4k", () => createArm64Backend("4k-48")],
  ["ppc8xx 16k", () => createPpc8xxBackend("16k")],
];

describe.each(BACKENDS)("contents survive every path on %s", (_name, make) => {
  it("matches the model after random fork / swap / migrate / pin / mremap sequences", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => run(make, ops)),
      { seed: 20261121, numRuns: propertyRuns(200) },
    );
  });
});
