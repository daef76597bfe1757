import { PTE, entryRegs, type ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { propertyRuns } from "@hugemm/vitest-config/runs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { MADV, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { PG_anon_exclusive, PG_lru } from "../phys/page-flags";
import { NS } from "../stats/counters";
import { mapOk } from "../testing/vma";
import { ModelInputError } from "../util/errors";
import { Slot, WALK_OK } from "../pgtable/walker";
import { IncrementalChecker } from "./incremental";
import { InvariantViolation, checkInvariants, type Violation } from "./invariants";

const AREA_PAGES = 1024;

type Op =
  | { kind: "touch" | "dontneed" | "pageout" | "munmap" | "protect"; area: number; from: number; pages: number; write: boolean }
  | { kind: "fork" | "exit" | "migrate" | "split" | "reclaim" }
  | { kind: "set"; knob: string; value: string };

const rangeArb = fc.record({ area: fc.nat(2), from: fc.nat(AREA_PAGES - 1), pages: fc.integer({ min: 1, max: AREA_PAGES }), write: fc.boolean() });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: rangeArb.map((r) => ({ kind: "touch" as const, ...r })) },
  { weight: 1, arbitrary: rangeArb.map((r) => ({ kind: "dontneed" as const, ...r })) },
  { weight: 1, arbitrary: rangeArb.map((r) => ({ kind: "pageout" as const, ...r })) },
  { weight: 1, arbitrary: rangeArb.map((r) => ({ kind: "munmap" as const, ...r })) },
  { weight: 1, arbitrary: rangeArb.map((r) => ({ kind: "protect" as const, ...r })) },
  { weight: 1, arbitrary: fc.constantFrom<Op>({ kind: "fork" }, { kind: "exit" }, { kind: "migrate" }, { kind: "split" }, { kind: "reclaim" }) },
  { weight: 1, arbitrary: fc.constantFrom<Op>({ kind: "set", knob: "enabled", value: "never" }, { kind: "set", knob: "enabled", value: "always" }, { kind: "set", knob: "hugepages-64kB/enabled", value: "always" }) },
);

/** A two-node machine with swap, checked by hand (not after each operation) so both checkers can be asked. */
function machine(backend: ArchBackend) {
  const k = new Kernel({ backend, memory: "64M", nodes: 2, swap: "8M", check: false });
  const mm = k.createMm();
  const len = AREA_PAGES * k.pageSize;
  const areas = [
    mapOk(k, mm, { len, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS }),
    mapOk(k, mm, { len, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS }),
    mapOk(k, mm, { len, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED | MAP_ANONYMOUS }),
  ];
  k.madvise(mm, areas[1]!, len, MADV.HUGEPAGE);
  const inc = new IncrementalChecker(k);
  inc.resync();
  return { k, mms: [mm], areas, inc };
}

function apply(m: ReturnType<typeof machine>, o: Op, seed: number): void {
  const { k, mms, areas } = m;
  const mm = mms[mms.length - 1]!;
  const ps = k.pageSize;
  switch (o.kind) {
    case "fork": {
      const child = k.fork(mms[0]!);
      if (child !== null) mms.push(child);
      return;
    }
    case "exit":
      if (mms.length > 1) k.exit(mms.pop()!);
      return;
    case "migrate":
      k.migrateRange(mm, areas[seed % 3]!, AREA_PAGES * ps, seed % 2);
      return;
    case "split":
      k.splitHugePages(mm, areas[1]!, areas[1]! + AREA_PAGES * ps);
      return;
    case "reclaim":
      k.reclaim(64, seed % 2);
      return;
    case "set":
      try {
        k.thp.set(o.knob, o.value);
      } catch (e) {
        if (!(e instanceof ModelInputError)) throw e;
      }
      return;
  }
  const start = areas[o.area]! + o.from * ps;
  const len = Math.min(o.pages, AREA_PAGES - o.from) * ps;
  if (o.kind === "touch") k.touch(mm, start, len, o.write, seed);
  else if (o.kind === "dontneed") k.madvise(mm, start, len, MADV.DONTNEED);
  else if (o.kind === "pageout") k.madvise(mm, start, len, MADV.PAGEOUT);
  else if (o.kind === "protect") k.mprotect(mm, start, len, o.write ? PROT_READ | PROT_WRITE : PROT_READ);
  else {
    expect(k.munmap(mm, start, len).ok).toBe(true);
    const flags = (o.area === 2 ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_FIXED;
    expect(k.mmap(mm, { addr: start, len, prot: PROT_READ | PROT_WRITE, flags }).ok).toBe(true);
  }
}

const R = entryRegs(1);

/** The present PTEs of an mm, as (table storage, index, pfn). */
function presentPtes(k: Kernel, mm: Mm, areas: readonly number[]): { table: Uint32Array; index: number; pfn: number; addr: number }[] {
  const out: { table: Uint32Array; index: number; pfn: number; addr: number }[] = [];
  const slot = new Slot();
  for (const a of areas) {
    for (let p = 0; p < AREA_PAGES; p++) {
      const addr = a + p * k.pageSize;
      if (mm.walker.find(addr, PTE, false, slot) !== WALK_OK) continue;
      k.backend.readEntry(slot.table, slot.index, PTE, R, 0);
      if (!k.backend.present(R, 0, PTE)) continue;
      const pfn = k.backend.pfn(R, 0, PTE);
      if (pfn === k.zeroPfn) continue;
      out.push({ table: slot.table, index: slot.index, pfn, addr });
    }
  }
  return out;
}

/**
 * Violations planted as a bug in an operation would leave them, each
 * written through the model's own structures. Returns false when the state
 * offers no target.
 */
const PLANTS: readonly { name: string; plant(k: Kernel, mm: Mm, areas: readonly number[], pick: number): boolean }[] = [
  {
    name: "a leaked folio reference",
    plant(k, mm, areas, pick) {
      const ptes = presentPtes(k, mm, areas);
      if (ptes.length === 0) return false;
      k.folios.ref(k.folios.head(ptes[pick % ptes.length]!.pfn));
      return true;
    },
  },
  {
    name: "a page mapcount one short",
    plant(k, mm, areas, pick) {
      const ptes = presentPtes(k, mm, areas).filter((p) => k.folios.order(k.folios.head(p.pfn)) === 0);
      if (ptes.length === 0) return false;
      const pfn = ptes[pick % ptes.length]!.pfn;
      k.folios.section(pfn).mapcount[pfn & k.phys.memmap.pbMask]!--;
      return true;
    },
  },
  {
    name: "a PTE cleared behind the rmap's back",
    plant(k, mm, areas, pick) {
      const ptes = presentPtes(k, mm, areas);
      if (ptes.length === 0) return false;
      const p = ptes[pick % ptes.length]!;
      const slot = new Slot();
      mm.walker.find(p.addr, PTE, false, slot);
      k.backend.writeEntry(slot.table, slot.index, PTE, entryRegs(1), 0);
      return true;
    },
  },
  {
    name: "PG_lru cleared on a listed folio",
    plant(k, mm, areas, pick) {
      const ptes = presentPtes(k, mm, areas).filter((p) => k.folios.order(k.folios.head(p.pfn)) === 0);
      if (ptes.length === 0) return false;
      const pfn = ptes[pick % ptes.length]!.pfn;
      k.folios.clear(pfn, PG_lru);
      return true;
    },
  },
  {
    name: "PageAnonExclusive dropped from a writable page",
    plant(k, mm, areas, pick) {
      const ptes = presentPtes(k, mm, areas).filter((p) => {
        k.backend.readEntry(p.table, p.index, PTE, R, 0);
        return k.backend.write(R, 0, PTE) && k.folios.order(k.folios.head(p.pfn)) === 0;
      });
      if (ptes.length === 0) return false;
      const pfn = ptes[pick % ptes.length]!.pfn;
      k.folios.section(pfn).flags[pfn & k.phys.memmap.pbMask]! &= ~PG_anon_exclusive;
      return true;
    },
  },
  {
    name: "an rss counter off by one",
    plant(k, mm) {
      mm.rss[0]!++;
      return true;
    },
  },
  {
    name: "nr_anon_pages off by one",
    plant(k) {
      k.phys.nodeStats(0)[NS.nr_anon_pages]!++;
      return true;
    },
  },
  {
    name: "a large folio's entire mapcount off by one",
    plant(k, mm, areas, pick) {
      const heads = k.folios.heads().filter((h) => k.folios.order(h) > 0 && !k.hugeZero.is(h));
      if (heads.length === 0) return false;
      const h = heads[pick % heads.length]!;
      k.folios.large.entireMapcount[k.folios.lid(h) - 1]!++;
      return true;
    },
  },
  {
    name: "a VMA unlinked from its anon_vma",
    plant(k, mm, _areas, pick) {
      const vmas = mm.vmas.all().filter((v) => v.chains.length > 0);
      if (vmas.length === 0) return false;
      const v = vmas[pick % vmas.length]!;
      const c = v.chains[0]!;
      c.anonVma.chains.delete(c);
      return true;
    },
  },
  {
    name: "a swap slot's count off by one",
    plant(k, _mm, _areas, pick) {
      const dev = k.swap.device!;
      const used: number[] = [];
      for (let off = 1; off < dev.pages; off++) if (dev.count(off) > 0) used.push(off);
      if (used.length === 0) return false;
      dev.mapWords[used[pick % used.length]!]!++;
      return true;
    },
  },
];

function same(a: readonly Violation[], b: readonly Violation[]): void {
  const key = (x: Violation) => JSON.stringify([x.check, x.message, x.mm, x.addr, x.pfn, x.expected, x.found]);
  expect(new Set(a.map(key))).toEqual(new Set(b.map(key)));
}

/** Random workloads: after every operation the incremental check finds what the full one finds; then one planted violation. */
function property(backend: () => ArchBackend, seed: number, runs: number): void {
  let planted = 0;
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), fc.nat(PLANTS.length - 1), fc.nat(), (ops, which, pick) => {
      const m = machine(backend());
      ops.forEach((o, i) => {
        apply(m, o, i + 1);
        const inc = m.inc.check(`op ${i}`);
        const full = checkInvariants(m.k, `op ${i}`);
        expect(full, `the workload itself is clean after ${JSON.stringify(o)}`).toEqual([]);
        same(inc, full);
      });
      const plant = PLANTS[which]!;
      if (!plant.plant(m.k, m.mms[m.mms.length - 1]!, m.areas, pick)) return;
      planted++;
      const inc = m.inc.check("planted");
      const full = checkInvariants(m.k, "planted");
      expect(full.length, `the full check catches ${plant.name}`).toBeGreaterThan(0);
      same(inc, full);
    }),
    { seed, numRuns: runs },
  );
  expect(planted, "violations planted").toBeGreaterThan(runs / 3);
}

describe("the incremental checker", () => {
  it("finds what the full check finds, on x86-64", () => property(() => createX86_64Backend(), 101, propertyRuns(12)));
  it("finds what the full check finds, on arm64 4K", () => property(() => createArm64Backend("4k-48"), 102, propertyRuns(8)));

  it("catches every planted violation at the operation that caused it, with the full check's report", () => {
    for (const [i, plant] of PLANTS.entries()) {
      const m = machine(createX86_64Backend());
      m.k.thp.set("enabled", "always");
      apply(m, { kind: "touch", area: 0, from: 0, pages: 600, write: true }, 1);
      apply(m, { kind: "touch", area: 1, from: 0, pages: 1024, write: true }, 2);
      apply(m, { kind: "pageout", area: 0, from: 0, pages: 100, write: false }, 3);
      expect(m.inc.check("setup")).toEqual([]);
      expect(plant.plant(m.k, m.mms[0]!, m.areas, i * 7), plant.name).toBe(true);
      const inc = m.inc.check("planted");
      const full = checkInvariants(m.k, "planted");
      expect(full.length, plant.name).toBeGreaterThan(0);
      same(inc, full);
      expect(inc[0]!.op).toBe("planted");
    }
  });

  it("is what a checked kernel runs, with the full check at checkpoints and every N operations", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", check: true, checkFullEvery: 1000 });
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 4 << 20, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    k.touch(mm, a, 1 << 20, true, 1);
    k.checkpoint("middle");
    // A bug the next operation would leave: caught by that operation's incremental check.
    k.folios.ref(k.folios.head(presentPtes(k, mm, [a])[3]!.pfn));
    expect(() => k.touch(mm, a + (2 << 20), 4096, true, 2)).toThrow(InvariantViolation);
    expect(() => k.checkpoint("again")).toThrow(/refcount/);
  });

  it("rejects a bad mode or period naming the input", () => {
    expect(() => new Kernel({ backend: createX86_64Backend(), memory: "64M", checkMode: "sometimes" as "full" })).toThrow(/checkMode.*"incremental" or "full"/);
    expect(() => new Kernel({ backend: createX86_64Backend(), memory: "64M", checkFullEvery: 0 })).toThrow(/checkFullEvery.*at least 1/);
  });
});
