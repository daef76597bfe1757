import { createArm64Backend } from "@hugemm/arch-arm64";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { VM_FAULT_MIGRATION_WAIT } from "../fault/codes";
import { FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE } from "../gup/gup";
import { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { EV, NS } from "../stats/counters";
import { MAP_ANONYMOUS, MAP_SHARED, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { insertAnonVma, mapOk } from "../testing/vma";
import { MigrateReason, migratePages, onNode } from "./migrate";

const MiB = 2 ** 20;
const BASE = 0x4000_0000;

function pfnAt(k: Kernel, mm: Mm, va: number): number {
  const s = mm.slot;
  if (mm.walker.find(va, 0, false, s) !== 0) return -1;
  const r = new Uint32Array(2);
  k.backend.readEntry(s.table, s.index, 0, r, 0);
  return k.backend.present(r, 0, 0) ? k.backend.pfn(r, 0, 0) : -1;
}

function entryAt(k: Kernel, mm: Mm, va: number): Uint32Array {
  const s = mm.slot;
  mm.walker.find(va, 0, false, s);
  const r = new Uint32Array(2);
  k.backend.readEntry(s.table, s.index, 0, r, 0);
  return r;
}

for (const make of [() => createX86_64Backend(), () => createArm64Backend("4k-48")]) {
  const name = make().id;
  describe(`migration on ${name}`, () => {
    const setup = (opts: { movable?: string } = {}) => {
      const k = new Kernel({ backend: make(), memory: "128M", nodes: 2, check: true, ...opts });
      const mm = k.createMm();
      insertAnonVma(k, mm, BASE, 2 * MiB);
      k.touch(mm, BASE, 16 * k.pageSize, true, 5);
      return { k, mm, ps: k.pageSize };
    };

    it("moves pages to another node keeping their data, bits and counts", () => {
      const { k, mm, ps } = setup();
      const before = Array.from({ length: 16 }, (_, i) => k.peek(mm, BASE + i * ps));
      expect(k.phys.nidOf(pfnAt(k, mm, BASE))).toBe(0);
      const job = k.migrateRange(mm, BASE, 16 * ps, 1);
      expect(job.moved).toBe(16);
      expect(job.failed).toEqual([]);
      for (let i = 0; i < 16; i++) {
        expect(k.phys.nidOf(pfnAt(k, mm, BASE + i * ps))).toBe(1);
        expect(k.peek(mm, BASE + i * ps)).toBe(before[i]);
      }
      const e = entryAt(k, mm, BASE);
      expect(k.backend.write(e, 0, 0) && k.backend.dirty(e, 0, 0) && k.backend.young(e, 0, 0)).toBe(true);
      expect(k.events[EV.pgmigrate_success]).toBe(16);
      expect(k.phys.nodeStats(1)[NS.nr_anon_pages]).toBe(16);
      expect(k.phys.nodeStats(0)[NS.nr_anon_pages]).toBe(0);
      // Still writable without a fault.
      expect(k.touch(mm, BASE, 16 * ps, true).faults).toBe(0);
      k.exit(mm);
    });

    it("leaves migration entries while held: a fault waits, and finishing restores the mapping", () => {
      const { k, mm, ps } = setup();
      const tag = k.peek(mm, BASE);
      const job = k.migrateRange(mm, BASE, 4 * ps, 1, true);
      expect(job.pairs.length).toBe(4);
      expect(k.peek(mm, BASE)).toBe(-1);
      const e = entryAt(k, mm, BASE);
      expect(k.backend.isSoftleaf(e, 0, 0)).toBe(true);
      expect(k.fault(mm, BASE, false)).toBe(VM_FAULT_MIGRATION_WAIT);
      expect(k.touch(mm, BASE, ps, false)).toMatchObject({ error: VM_FAULT_MIGRATION_WAIT, errorAddr: BASE });
      expect(k.finishMigration(job)).toBe(4);
      expect(k.peek(mm, BASE)).toBe(tag);
      expect(k.phys.nidOf(pfnAt(k, mm, BASE))).toBe(1);
      k.exit(mm);
    });

    it("stops a pin at a page under a held migration, keeping the pages before it, and pins it once finished", () => {
      const { k, mm, ps } = setup();
      const job = k.migrateRange(mm, BASE + 2 * ps, 2 * ps, 1, true);
      const pin = k.gup(mm, BASE, 4, FOLL_PIN);
      expect(pin.error).toBe("MIGRATION_WAIT");
      expect(pin.pages).toEqual([pfnAt(k, mm, BASE), pfnAt(k, mm, BASE + ps)]);
      k.unpin(pin, FOLL_PIN);
      expect(k.finishMigration(job)).toBe(2);
      const again = k.gup(mm, BASE, 4, FOLL_PIN);
      expect(again.error).toBeNull();
      expect(again.pages.slice(2).map((p) => k.phys.nidOf(p))).toEqual([1, 1]);
      k.unpin(again, FOLL_PIN);
      k.exit(mm);
    });

    it("makes a fault on a cached folio under a held migration wait, where no migration entry stands for it", () => {
      const { k, mm, ps } = setup();
      const shm = mapOk(k, mm, { len: 4 * ps, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED | MAP_ANONYMOUS });
      const child = k.fork(mm)!;
      k.touch(mm, shm, 2 * ps, true, 9);
      const tag = k.peek(mm, shm);
      const job = k.migrateRange(mm, shm, ps, 1, true);
      // The child never mapped the page: its fault finds the folio in the page cache, locked by the migration.
      expect(k.touch(child, shm, ps, true)).toMatchObject({ error: VM_FAULT_MIGRATION_WAIT, errorAddr: shm });
      // Fault-around skips the locked folio but maps its cached neighbour.
      expect(k.touch(child, shm + ps, ps, false).error).toBe(0);
      expect(pfnAt(k, child, shm)).toBe(-1);
      expect(k.finishMigration(job)).toBe(1);
      expect(k.touch(child, shm, ps, false).error).toBe(0);
      expect(k.phys.nidOf(pfnAt(k, child, shm))).toBe(1);
      expect(k.peek(child, shm)).toBe(tag);
      k.exit(child);
      k.exit(mm);
    });

    it("fails for a pinned page and leaves it mapped where it was", () => {
      const { k, mm, ps } = setup();
      const pin = k.gup(mm, BASE, 1, FOLL_PIN | FOLL_WRITE);
      const pfn = pin.pages[0]!;
      const job = k.migrateRange(mm, BASE, 2 * ps, 1);
      expect(job.moved).toBe(1);
      expect(job.failed).toEqual([pfn]);
      expect(pfnAt(k, mm, BASE)).toBe(pfn);
      expect(k.events[EV.pgmigrate_fail]).toBe(1);
      expect(k.touch(mm, BASE, ps, true).faults).toBe(0);
      k.unpin(pin, FOLL_PIN);
      k.exit(mm);
    });

    it("moves a page shared by two processes and remaps both", () => {
      const { k, mm, ps } = setup();
      const child = k.fork(mm)!;
      const shared = pfnAt(k, mm, BASE);
      expect(pfnAt(k, child, BASE)).toBe(shared);
      expect(k.migrateRange(mm, BASE, ps, 1).moved).toBe(1);
      const moved = pfnAt(k, mm, BASE);
      expect(moved).not.toBe(shared);
      expect(pfnAt(k, child, BASE)).toBe(moved);
      expect(k.folios.pageMapcount(moved)).toBe(2);
      // Still COW-shared: the child's write copies.
      k.touch(child, BASE, ps, true);
      expect(pfnAt(k, child, BASE)).not.toBe(moved);
      k.exit(child);
      k.exit(mm);
    });

    it("stops at the first destination it cannot allocate, putting the rest back untried and uncounted", () => {
      const { k, mm, ps } = setup();
      // Node 1 has not a page to give.
      const phys = k.phys;
      phys.drainPcp();
      for (const z of phys.nodes[1]!.zones) {
        for (let p = z.startPfn; p < z.endPfn; ) {
          const o = z.freeOrderAt(p);
          if (o < 0 || !phys.takeFreeRange(p, o)) {
            p++;
            continue;
          }
          for (let i = 0; i < 2 ** o; i++) {
            k.folios.prep(p + i, 0);
            k.holdRef(p + i, 1);
          }
          p += 2 ** o;
        }
      }
      const pfns = Array.from({ length: 16 }, (_, i) => pfnAt(k, mm, BASE + i * ps));
      const r = k.migrateRange(mm, BASE, 16 * ps, 1);
      expect(r.moved).toBe(0);
      expect(r.enomem).toBe(true);
      expect(r.failed).toEqual(pfns);
      expect(k.events[EV.pgmigrate_fail]).toBe(1);
      expect(k.events[EV.pgmigrate_success]).toBe(0);
      expect(pfns.map((_, i) => pfnAt(k, mm, BASE + i * ps))).toEqual(pfns);
      expect(k.phys.nodeStats(0)[NS.nr_isolated_anon]).toBe(0);
      expect(k.touch(mm, BASE, 16 * ps, true).faults).toBe(0);
      k.exit(mm);
    });

    it("does not count folios it could not isolate", () => {
      const { k, mm, ps } = setup();
      const held = k.migrateRange(mm, BASE, 4 * ps, 1, true);
      expect(held.pairs.length).toBe(4);
      const busy = held.pairs[0]![0];
      const free = pfnAt(k, mm, BASE + 4 * ps);
      // One folio is off the LRU for the held migration: migrate_pages never sees it.
      const r = k.op("migrate", () => migratePages(k, [busy, free], onNode(k, 1), MigrateReason.SYSCALL));
      expect(r).toEqual({ moved: 1, failed: [busy], enomem: false });
      expect(k.events[EV.pgmigrate_success]).toBe(1);
      expect(k.events[EV.pgmigrate_fail]).toBe(0);
      expect(k.finishMigration(held)).toBe(4);
      expect(k.folios.isAllocated(busy)).toBe(false);
      expect(k.events[EV.pgmigrate_success]).toBe(5);
      expect(k.events[EV.pgmigrate_fail]).toBe(0);
      k.exit(mm);
    });

    it("moves pages out of ZONE_MOVABLE before a long-term pin", () => {
      const k = new Kernel({ backend: make(), memory: "128M", movable: "32M", check: true });
      const mm = k.createMm();
      insertAnonVma(k, mm, BASE, MiB);
      k.touch(mm, BASE, 4 * k.pageSize, true, 9);
      const tag = k.peek(mm, BASE);
      expect(k.phys.zoneOf(pfnAt(k, mm, BASE)).name).toBe("Movable");
      const pin = k.gup(mm, BASE, 4, FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM);
      expect(pin.error).toBeNull();
      expect(pin.pages.map((p) => k.phys.zoneOf(p).name)).toEqual(["Normal", "Normal", "Normal", "Normal"]);
      expect(pfnAt(k, mm, BASE)).toBe(pin.pages[0]);
      expect(k.peek(mm, BASE)).toBe(tag);
      k.unpin(pin, FOLL_PIN);
      k.exit(mm);
    });
  });
}

describe("migration input", () => {
  it("rejects a node that does not exist", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", check: true });
    const mm = k.createMm();
    expect(() => k.migrateRange(mm, BASE, 4096, 3)).toThrow("invalid node 3: expected a node id in [0, 0]");
  });
});
