import { PMD, PTE } from "@hugemm/arch";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { mixTag } from "../folio/contents";
import { FOLL_PIN } from "../gup/gup";
import { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES } from "../mm/counters";
import type { Mm } from "../mm/mm";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { EV, MS, MTHP_STRIDE, NS } from "../stats/counters";
import { entryAt, mappedAt } from "../testing/inspect";
import { mapOk } from "../testing/vma";
import { piecesOf } from "./folio-split";

const MiB = 2 ** 20;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function thp(): { k: Kernel; mm: Mm; a: number; head: number } {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", check: true });
  const mm = k.createMm();
  const a = mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON });
  k.touch(mm, a, 2 * MiB, true, 5);
  const head = (mappedAt(k, mm, a) as { pfn: number }).pfn;
  return { k, mm, a, head };
}

function mthp(k: Kernel, order: number, stat: number): number {
  return k.mthpStats[order * MTHP_STRIDE + stat]!;
}

describe("folio split", () => {
  it("splits a PMD-mapped THP to single pages, mapped by PTEs, contents and LRU kept", () => {
    const { k, mm, a, head } = thp();
    const lru0 = k.phys.nodeStats(0)[NS.nr_inactive_anon]!;
    expect(k.splitFolio(head, 0)).toBe(0);
    expect(k.events[EV.thp_split_page]).toBe(1);
    expect(k.events[EV.thp_split_pmd]).toBe(1);
    expect(mthp(k, 9, MS.split)).toBe(1);
    expect(mthp(k, 9, MS.nr_anon)).toBe(0);
    expect(k.phys.nodeStats(0)[NS.nr_anon_transparent_hugepages]).toBe(0);
    expect(k.phys.nodeStats(0)[NS.nr_inactive_anon]).toBe(lru0);
    for (let i = 0; i < 512; i++) {
      expect(mappedAt(k, mm, a + i * 4096)).toEqual({ level: PTE, pfn: head + i });
      expect(k.folios.order(head + i)).toBe(0);
      expect(k.folios.refcount(head + i)).toBe(1);
      expect(k.peek(mm, a + i * 4096)).toBe(mixTag(5, a / 4096 + i));
    }
    // Writable and exclusive as before.
    expect(entryAt(k, mm, a + 7 * 4096)).toMatchObject({ write: true });
    k.exit(mm);
  });

  it("splits to a lower large order, counting the new per-size folios", () => {
    const { k, mm, a, head } = thp();
    expect(k.splitFolio(head, 4)).toBe(0);
    expect(mthp(k, 4, MS.nr_anon)).toBe(32);
    expect(k.folios.order(head + 16)).toBe(4);
    expect(k.folios.refcount(head + 16)).toBe(16);
    expect(mappedAt(k, mm, a)).toMatchObject({ level: PTE });
    k.exit(mm);
    expect(mthp(k, 4, MS.nr_anon)).toBe(0);
  });

  it("refuses order 1 for anonymous folios and a folio someone pins", () => {
    const { k, mm, a, head } = thp();
    expect(k.splitFolio(head, 1)).toBe("EINVAL");
    expect(mthp(k, 9, MS.split_failed)).toBe(1);
    expect(k.events[EV.thp_split_page_failed]).toBe(1);
    const pin = k.gup(mm, a, 1, FOLL_PIN);
    expect(k.splitFolio(head, 0)).toBe("EAGAIN");
    expect(k.folios.order(head)).toBe(9);
    expect(k.peek(mm, a + 4096)).toBe(mixTag(5, a / 4096 + 1));
    k.unpin(pin, FOLL_PIN);
    expect(k.splitFolio(head, 0)).toBe(0);
    k.exit(mm);
  });

  it("splits non-uniformly around a page as folio_split does", () => {
    // The kernel's example: order 9 at its third order-3 block gives [4, {3}, 3, 5, 6, 7, 8].
    expect(piecesOf(0, 9, 3, 16, true).map(([, o]) => o)).toEqual([4, 3, 3, 5, 6, 7, 8]);
    expect(piecesOf(0, 9, 3, 16, true).find(([p]) => p === 16)).toEqual([16, 3]);
    // Anonymous folios skip order 1: the order-2 block goes straight to pages.
    expect(piecesOf(0, 3, 0, 0, true)).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 2],
    ]);
    const { k, mm, a, head } = thp();
    expect(k.splitFolio(head, 3, head + 16)).toBe(0);
    expect(k.folios.order(head)).toBe(4);
    expect(k.folios.order(head + 16)).toBe(3);
    expect(k.folios.order(head + 256)).toBe(8);
    for (let i = 0; i < 512; i += 37) expect(k.peek(mm, a + i * 4096)).toBe(mixTag(5, a / 4096 + i));
    k.exit(mm);
  });

  it("maps pages of zeroes to the shared zero page when splitting to single pages", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", check: true });
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON });
    k.touch(mm, a, 64 * 4096, true, 8);
    const head = (mappedAt(k, mm, a) as { pfn: number }).pfn;
    const free0 = k.phys.freePagesWithPcp;
    expect(k.splitFolio(head, 0)).toBe(0);
    expect(mm.rss[MM_ANONPAGES]).toBe(64);
    expect(k.phys.freePagesWithPcp - free0).toBe(448);
    expect(mappedAt(k, mm, a + 100 * 4096)).toEqual({ level: PTE, pfn: k.zeroPfn });
    expect(k.peek(mm, a + 100 * 4096)).toBe(0);
    expect(k.peek(mm, a + 10 * 4096)).toBe(mixTag(8, a / 4096 + 10));
    // A write to a zero-page PTE faults in a fresh page.
    expect(k.touch(mm, a + 100 * 4096, 4096, true, 9).faults).toBe(1);
    k.exit(mm);
  });

  it("splits THPs of a process range as debugfs split_huge_pages does", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", check: true });
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 8 * MiB, prot: RW, flags: ANON });
    k.touch(mm, a, 8 * MiB, true, 1);
    expect(k.splitHugePages(mm, a, a + 8 * MiB, 0)).toEqual([4, 4]);
    expect(mappedAt(k, mm, a + 6 * MiB)).toMatchObject({ level: PTE });
    expect(k.splitHugePages(mm, a, a + 8 * MiB, 0)).toEqual([0, 0]);
    k.exit(mm);
  });
});

describe("the deferred split queue and its shrinker", () => {
  it("splits a partially mapped THP when the shrinker runs, freeing the unmapped pages", () => {
    const { k, mm, a, head } = thp();
    expect(k.munmap(mm, a + MiB, MiB).ok).toBe(true);
    expect(k.deferredSplit.length).toBe(1);
    const free0 = k.phys.freePagesWithPcp;
    expect(k.dropSlab()).toBe(1);
    expect(k.deferredSplit.length).toBe(0);
    expect(k.phys.freePagesWithPcp - free0).toBe(256);
    expect(mthp(k, 9, MS.nr_anon_partially_mapped)).toBe(0);
    expect(k.folios.order(head)).toBe(0);
    expect(k.peek(mm, a + 4096)).toBe(mixTag(5, a / 4096 + 1));
    k.exit(mm);
  });

  it("runs under memory pressure through reclaim's shrink_slab", () => {
    const { k, mm, a } = thp();
    k.munmap(mm, a, 64 * 4096);
    expect(k.deferredSplit.length).toBe(1);
    k.reclaim(1 << 16);
    expect(k.deferredSplit.length).toBe(0);
    expect(k.events[EV.thp_split_page]).toBe(1);
    k.exit(mm);
  });

  it("with shrink_underused splits a mostly-zero THP, keeping only the written pages", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", check: true });
    k.thp.set("khugepaged/max_ptes_none", "409");
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 4 * MiB, prot: RW, flags: ANON });
    // One THP mostly zero, one mostly written.
    k.touch(mm, a, 50 * 4096, true, 3);
    k.touch(mm, a + 2 * MiB, 2 * MiB, true, 4);
    expect(k.deferredSplit.length).toBe(2);
    expect(k.dropSlab()).toBe(1);
    expect(k.events[EV.thp_underused_split_page]).toBe(1);
    expect(mm.rss[MM_ANONPAGES]).toBe(50 + 512);
    expect(mappedAt(k, mm, a + 2 * MiB)).toMatchObject({ level: PMD });
    expect(mappedAt(k, mm, a + 400 * 4096)).toEqual({ level: PTE, pfn: k.zeroPfn });
    // Not underused: dropped from the queue, kept whole.
    expect(k.deferredSplit.length).toBe(0);
    k.exit(mm);
  });

  it("leaves THPs alone with the default max_ptes_none, and queues none without shrink_underused", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", check: true });
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 4 * MiB, prot: RW, flags: ANON });
    k.touch(mm, a, 4096, true, 3);
    expect(k.dropSlab()).toBe(0);
    expect(mappedAt(k, mm, a)).toMatchObject({ level: PMD });
    k.thp.set("shrink_underused", "0");
    k.touch(mm, a + 2 * MiB, 4096, true, 3);
    expect(k.deferredSplit.length).toBe(0);
    k.exit(mm);
  });
});
