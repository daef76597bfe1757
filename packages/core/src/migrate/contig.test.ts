import { PMD, type ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { mixTag } from "../folio/contents";
import { folioPut } from "../folio/put";
import { FOLL_PIN, FOLL_WRITE } from "../gup/gup";
import { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { MADV, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { EV } from "../stats/counters";
import { mappedAt } from "../testing/inspect";
import { mapOk } from "../testing/vma";
import { allocContig } from "./contig";

const MiB = 2 ** 20;
const PS = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const THP = 0x4000_0000;
const SMALL = THP + 8 * MiB;
const MIGRATION_EVENTS: (keyof typeof EV)[] = ["pgmigrate_success", "pgmigrate_fail", "thp_migration_success", "thp_migration_fail", "thp_migration_split", "compact_isolated", "compact_migrate_scanned"];

function pfnAt(k: Kernel, mm: Mm, va: number): number {
  const m = mappedAt(k, mm, va);
  if (typeof m === "string") throw new Error(`nothing mapped at 0x${va.toString(16)}`);
  return m.pfn;
}

function events(k: Kernel): number[] {
  return MIGRATION_EVENTS.map((n) => k.events[EV[n]]!);
}

/**
 * A two-node machine whose node 1 is all held outside the model except
 * pageblocks 8..15 (an aligned block of 4096 pages), where a process's THP
 * and 40 small pages were migrated.
 */
function rangeWithThp(make: () => ArchBackend): { k: Kernel; mm: Mm; start: number } {
  const k = new Kernel({ backend: make(), memory: "1G", nodes: 2, check: true });
  const mm = k.createMm();
  mapOk(k, mm, { addr: THP, len: 2 * MiB, prot: RW, flags: ANON | MAP_FIXED });
  mapOk(k, mm, { addr: SMALL, len: 40 * PS, prot: RW, flags: ANON | MAP_FIXED });
  expect(k.madvise(mm, SMALL, 40 * PS, MADV.NOHUGEPAGE).ok).toBe(true);
  k.touch(mm, THP, 2 * MiB, true, 1);
  k.touch(mm, SMALL, 40 * PS, true, 3);
  const phys = k.phys;
  const z = phys.nodes[1]!.zones[0]!;
  phys.drainPcp();
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
  const start = z.startPfn + 8 * 512;
  expect(start % 4096).toBe(0);
  for (let p = start; p < start + 4096; p++) {
    k.holdRef(p, -1);
    folioPut(k, p, 1);
  }
  phys.drainPcp();
  expect(k.migrateRange(mm, THP, 2 * MiB, 1).moved).toBe(1);
  expect(k.migrateRange(mm, SMALL, 40 * PS, 1).moved).toBe(40);
  for (const va of [THP, SMALL, SMALL + 39 * PS]) {
    const p = pfnAt(k, mm, va);
    expect(p >= start && p < start + 4096).toBe(true);
  }
  return { k, mm, start };
}

describe("alloc_contig over ranges holding THPs", () => {
  for (const [name, make] of [
    ["x86-64", () => createX86_64Backend()],
    ["arm64 4k-48", () => createArm64Backend("4k-48")],
  ] as [string, () => ArchBackend][]) {
    it(`migrates a THP in the way whole and takes the range (${name})`, () => {
      const { k, mm, start } = rangeWithThp(make);
      const before = events(k);
      const got = k.op("alloc-contig", () => {
        const pfn = allocContig(k, 12, 1);
        // Held as one block so that the checker accounts for it.
        if (pfn >= 0) {
          k.folios.prep(pfn, 12);
          k.holdRef(pfn, 1);
        }
        return pfn;
      });
      expect(got).toBe(start);
      expect(events(k).map((v, i) => v - before[i]!)).toEqual([512 + 40, 0, 1, 0, 0, 512 + 40, 0]);
      const thp = pfnAt(k, mm, THP);
      expect(mappedAt(k, mm, THP)).toEqual({ level: PMD, pfn: thp });
      expect(k.folios.order(thp)).toBe(9);
      expect(k.phys.nidOf(thp)).toBe(0);
      expect(k.phys.nidOf(pfnAt(k, mm, SMALL + 20 * PS))).toBe(0);
      for (const i of [0, 100, 511]) expect(k.peek(mm, THP + i * PS)).toBe(mixTag(1, THP / PS + i));
      for (const i of [0, 20, 39]) expect(k.peek(mm, SMALL + i * PS)).toBe(mixTag(3, SMALL / PS + i));
      k.holdRef(got, -1);
      folioPut(k, got, 1);
      k.exit(mm);
    });
  }

  it("fails on a range holding a pinned THP, which compaction's isolation never takes", () => {
    const { k, mm, start } = rangeWithThp(() => createX86_64Backend());
    const thp = pfnAt(k, mm, THP);
    const pin = k.gup(mm, THP, 1, FOLL_PIN | FOLL_WRITE);
    const before = events(k);
    expect(k.op("alloc-contig", () => allocContig(k, 12, 1))).toBe(-1);
    // The small pages moved out before the range was given up; the THP was not even isolated.
    expect(events(k).map((v, i) => v - before[i]!)).toEqual([40, 0, 0, 0, 0, 40, 0]);
    expect(mappedAt(k, mm, THP)).toEqual({ level: PMD, pfn: thp });
    expect(thp >= start && thp < start + 4096).toBe(true);
    k.unpin(pin, FOLL_PIN);
    k.exit(mm);
  });

  it("with migration not allowed, takes only a range already free", () => {
    const { k, mm } = rangeWithThp(() => createX86_64Backend());
    const before = events(k);
    expect(k.op("alloc-contig", () => allocContig(k, 12, 1, true, false))).toBe(-1);
    expect(events(k)).toEqual(before);
    k.exit(mm);
  });
});
