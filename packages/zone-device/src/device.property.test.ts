import { MADV, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE, mixTag, type Kernel, type Mm } from "@hugemm/core";
import { propertyRuns } from "@hugemm/vitest-config/runs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HmmDevice } from "./device";
import { machine } from "./test-helpers";

/*
 * Random sequences of CPU and device stores and loads, migration to the
 * device (THPs whole or not) and back, device-exclusive access, fork and
 * exit, zap, unmap and remap, THP splits and device allocation failures,
 * over three PMDs of THP-enabled memory: every process reads what a model
 * of its memory says, the invariant checker (ZONE_DEVICE included) passes
 * after every operation, and the device's memory all comes back.
 */

const ARENA = 0x4000_0000;
const PMD_PAGES = 512;
const PAGES = 3 * PMD_PAGES;
const PS = 4096;

type Op =
  | { op: "write"; p: number; page: number; n: number; seed: number }
  | { op: "read"; p: number; page: number; n: number }
  | { op: "toDev"; p: number; page: number; n: number; compound: boolean }
  | { op: "toRam"; p: number; page: number; n: number }
  | { op: "devWrite"; p: number; page: number; n: number; seed: number }
  | { op: "devRead"; p: number; page: number; n: number }
  | { op: "exclusive"; p: number; page: number; n: number }
  | { op: "fork"; p: number }
  | { op: "exit"; p: number }
  | { op: "zap"; p: number; page: number; n: number }
  | { op: "remap"; p: number; page: number; n: number }
  | { op: "split"; p: number; page: number }
  | { op: "failAlloc" };

const p = fc.nat(3);
const page = fc.oneof(fc.nat(PAGES - 1), fc.constantFrom(0, 511, 512, 1024));
const n = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(512, 1024));
const seed = fc.nat(1000);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant("write" as const), p, page, n, seed }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("read" as const), p, page, n }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("toDev" as const), p, page, n, compound: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("toRam" as const), p, page, n }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("devWrite" as const), p, page, n, seed }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("devRead" as const), p, page, n }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("exclusive" as const), p, page, n: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("fork" as const), p }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("exit" as const), p }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("zap" as const), p, page, n }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("remap" as const), p, page, n }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("split" as const), p, page }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("failAlloc" as const) }) },
);

interface Proc {
  mm: Mm;
  /** What each page of the arena holds (0: never written or zapped). */
  data: Uint32Array;
}

function clampRange(pg: number, nr: number): [number, number] {
  const start = Math.min(pg, PAGES - 1);
  return [start, Math.min(nr, PAGES - start)];
}

function arena(k: Kernel, mm: Mm, pg: number, nr: number): void {
  const r = k.mmap(mm, { addr: ARENA + pg * PS, len: nr * PS, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED });
  if (!r.ok) throw new Error(r.reason);
  expect(k.madvise(mm, ARENA + pg * PS, nr * PS, MADV.HUGEPAGE).ok).toBe(true);
}

function run(ops: Op[]): void {
  const { k, dev, mm } = machine({ size: 16 * 2 ** 20 });
  arena(k, mm, 0, PAGES);
  const procs: Proc[] = [{ mm, data: new Uint32Array(PAGES) }];
  const at = (i: number) => procs[i % procs.length]!;
  const addr = (pg: number) => ARENA + pg * PS;
  for (const o of ops) {
    if (o.op === "failAlloc") {
      dev.failNextAlloc();
      continue;
    }
    const pr = at(o.p);
    const m = dev.mirror(pr.mm);
    if (o.op === "fork") {
      const child = k.fork(pr.mm);
      if (child !== null && procs.length < 4) procs.push({ mm: child, data: pr.data.slice() });
      else if (child !== null) k.exit(child);
      continue;
    }
    if (o.op === "exit") {
      if (procs.length > 1) {
        k.exit(pr.mm);
        procs.splice(o.p % procs.length, 1);
      }
      continue;
    }
    if (o.op === "split") {
      const pg = o.page - (o.page % PMD_PAGES);
      k.splitHugePages(pr.mm, addr(pg), addr(pg + PMD_PAGES), 0);
      continue;
    }
    const [pg, nr] = clampRange(o.page, o.n);
    switch (o.op) {
      case "write":
        expect(k.touch(pr.mm, addr(pg), nr * PS, true, o.seed).error).toBe(0);
        for (let i = pg; i < pg + nr; i++) pr.data[i] = mixTag(o.seed, addr(i) / PS);
        break;
      case "read":
        expect(k.touch(pr.mm, addr(pg), nr * PS, false).error).toBe(0);
        for (let i = pg; i < pg + nr; i++) expect(k.peek(pr.mm, addr(i))).toBe(pr.data[i]);
        break;
      case "toDev":
        dev.migrateToDevice(m, addr(pg), nr, o.compound);
        break;
      case "toRam":
        dev.migrateToSystem(m, addr(pg), nr);
        break;
      case "devWrite": {
        const r = m.write(addr(pg), nr, o.seed);
        expect(r.errno).toBe(0);
        for (let i = pg; i < pg + nr; i++) pr.data[i] = mixTag(o.seed, addr(i) / PS);
        break;
      }
      case "devRead": {
        const r = m.read(addr(pg), nr);
        expect(r.errno).toBe(0);
        expect(r.data).toEqual(Array.from(pr.data.subarray(pg, pg + nr)));
        break;
      }
      case "exclusive":
        expect(m.exclusive(addr(pg), nr).errno).toBe(0);
        break;
      case "zap":
        expect(k.madvise(pr.mm, addr(pg), nr * PS, MADV.DONTNEED).ok).toBe(true);
        pr.data.fill(0, pg, pg + nr);
        break;
      case "remap":
        expect(k.munmap(pr.mm, addr(pg), nr * PS).ok).toBe(true);
        arena(k, pr.mm, pg, nr);
        pr.data.fill(0, pg, pg + nr);
        break;
    }
  }
  for (const pr of procs) {
    expect(k.touch(pr.mm, ARENA, PAGES * PS, false).error).toBe(0);
    for (let i = 0; i < PAGES; i += 7) expect(k.peek(pr.mm, addr(i))).toBe(pr.data[i]);
  }
  for (const pr of procs) k.exit(pr.mm);
  expectIdle(dev);
}

function expectIdle(dev: HmmDevice): void {
  expect(dev.mem.allocated).toBe(0);
  expect(dev.pgmap.refs).toBe(0);
  expect(dev.mem.freePages).toBe(dev.pgmap.nrPages);
}

describe("ZONE_DEVICE under random workloads", () => {
  it("keeps every process's data and the kernel's invariants, and gives the device's memory back", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => run(ops)),
      { seed: 1313, numRuns: propertyRuns(12) },
    );
  });

  it("brings back a device THP that one process maps by PTEs and its child by a device-private PMD", () => {
    // Found by the property above: the split of the folio on the CPU fault must split the child's PMD too.
    run([
      { op: "toDev", p: 0, page: 512, n: 1024, compound: true },
      { op: "fork", p: 0 },
      { op: "remap", p: 0, page: 1024, n: 1 },
      { op: "write", p: 0, page: 0, n: 1, seed: 0 },
    ]);
  });
});
