import { PMD, PTE, PUD, SoftleafType, entryRegs, softleafTypeOf, type ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { mixTag } from "../folio/contents";
import { folioBatchContents, lruAddDrain } from "../folio/lru-batch";
import { folioPut } from "../folio/put";
import { FOLL_PIN, FOLL_WRITE } from "../gup/gup";
import { folioAllocSwap } from "../swap/swap-out";
import { TTU_SPLIT_HUGE_PMD, tryToUnmap } from "../vmscan/unmap";
import { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES, MM_SWAPENTS } from "../mm/counters";
import type { Mm } from "../mm/mm";
import { MADV, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { GFP_NOWAIT } from "../phys/gfp";
import { PG_active, PG_swapbacked } from "../phys/page-flags";
import { Slot, WALK_OK } from "../pgtable/walker";
import { EV, ME, MS, MTHP_STRIDE, NS } from "../stats/counters";
import { entryAt, mappedAt } from "../testing/inspect";
import { mapOk } from "../testing/vma";

const KiB = 1024;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const R = entryRegs(1);

function mthp(k: Kernel, order: number, stat: number): number {
  return k.mthpStats[order * MTHP_STRIDE + stat]!;
}

/** The swap slot the PTE at `addr` refers to, or -1 when it holds no swap entry. */
function swapSlotAt(k: Kernel, mm: Mm, addr: number): number {
  const slot = new Slot();
  if (mm.walker.find(addr, PTE, false, slot) !== WALK_OK) return -1;
  const b = k.backend;
  b.readEntry(slot.table, slot.index, PTE, R, 0);
  if (b.none(R, 0, PTE) || b.present(R, 0, PTE) || !b.isSoftleaf(R, 0, PTE)) return -1;
  if (softleafTypeOf(b.swpType(R, 0, PTE)) !== SoftleafType.SWAP) return -1;
  return b.swpOffset(R, 0, PTE);
}

function headAt(k: Kernel, mm: Mm, addr: number): number {
  const m = mappedAt(k, mm, addr);
  if (typeof m === "string") throw new Error(`0x${addr.toString(16)} is not mapped (${m})`);
  return k.folios.head(m.pfn);
}

function expectTags(k: Kernel, mm: Mm, start: number, pages: number, seed: number): void {
  const ps = k.pageSize;
  for (let i = 0; i < pages; i++) {
    const tag = k.peek(mm, start + i * ps);
    if (tag !== mixTag(seed, start / ps + i)) expect(tag, `page ${i}`).toBe(mixTag(seed, start / ps + i));
  }
}

const BACKENDS: [string, () => ArchBackend][] = [
  ["x86-64", () => createX86_64Backend()],
  ["arm64 4K", () => createArm64Backend("4k-48")],
];

for (const [name, make] of BACKENDS) {
  describe(`PMD THP through reclaim on ${name}`, () => {
    function setup(swap: string): { k: Kernel; mm: Mm; a: number; head: number; nr: number; ps: number } {
      const k = new Kernel({ backend: make(), memory: "1G", swap, check: true });
      const mm = k.createMm();
      const ps = k.pageSize;
      const nr = k.pagesAt(PMD);
      const a = mapOk(k, mm, { len: nr * ps, prot: RW, flags: ANON });
      expect(k.touch(mm, a, nr * ps, true, 5).error).toBe(0);
      expect(mappedAt(k, mm, a)).toMatchObject({ level: PMD });
      return { k, mm, a, head: headAt(k, mm, a), nr, ps };
    }

    it("MADV_PAGEOUT swaps a PMD THP out whole, one swap entry per PTE, and reads it back", () => {
      const { k, mm, a, head, nr, ps } = setup("64M");
      const total = k.swap.freePages;
      expect(k.madvise(mm, a, nr * ps, MADV.PAGEOUT)).toEqual({ ok: true, value: 0 });
      expect(k.events[EV.thp_swpout]).toBe(1);
      expect(mthp(k, 9, MS.swpout)).toBe(1);
      expect(k.events[EV.pswpout]).toBe(nr);
      expect(k.events[EV.thp_swpout_fallback]).toBe(0);
      expect(k.events[EV.thp_split_pmd]).toBe(1);
      expect(k.events[EV.thp_split_page]).toBe(0);
      // The folio is gone; its pages live in a naturally aligned run of slots.
      expect(k.folios.isAllocated(head)).toBe(false);
      expect(mthp(k, 9, MS.nr_anon)).toBe(0);
      expect(mm.rss[MM_ANONPAGES]).toBe(0);
      expect(mm.rss[MM_SWAPENTS]).toBe(nr);
      expect(k.swap.freePages).toBe(total - nr);
      expect(k.swap.slotOf.size).toBe(0);
      const first = swapSlotAt(k, mm, a);
      expect(first % nr).toBe(0);
      for (let i = 0; i < nr; i++) expect(swapSlotAt(k, mm, a + i * ps)).toBe(first + i);
      expect(k.phys.nodeStats(0)[NS.nr_anon_transparent_hugepages]).toBe(0);
      // MADV_PAGEOUT steals nothing from an LRU list: no pgsteal.
      expect(k.events[EV.pgsteal_direct]! + k.events[EV.pgsteal_kswapd]!).toBe(0);
      // Swap-in is page by page (the device is not a synchronous one).
      const r = k.touch(mm, a, nr * ps, false);
      expect(r).toMatchObject({ faults: nr, majorFaults: nr, error: 0 });
      expect(k.events[EV.pswpin]).toBe(nr);
      expectTags(k, mm, a, nr, 5);
      k.exit(mm);
      expect(k.swap.freePages).toBe(total);
    });

    it("under memory pressure keeps a young THP once, then swaps it out whole", () => {
      const { k, mm, a, nr, ps } = setup("64M");
      expect(k.reclaim(nr)).toBe(nr);
      expect(k.events[EV.thp_swpout]).toBe(1);
      expect(k.events[EV.pswpout]).toBe(nr);
      expect(k.events[EV.pgsteal_direct]).toBe(nr);
      expect(k.events[EV.pgsteal_anon]).toBe(nr);
      expect(k.events[EV.pgscan_anon]).toBe(2 * nr);
      expect(k.events[EV.pgactivate]).toBe(0);
      expect(k.phys.nodeStats(0)[NS.nr_isolated_anon]).toBe(0);
      expect(mm.rss[MM_SWAPENTS]).toBe(nr);
      k.touch(mm, a, nr * ps, false);
      expectTags(k, mm, a, nr, 5);
      k.exit(mm);
    });

    it("without a contiguous run of swap splits the THP and swaps its pages one by one", () => {
      // 3 MiB of swap on 4K pages: a cluster holding the header and a short tail cluster, no free cluster of 512.
      const { k, mm, a, nr, ps } = setup("3M");
      expect(k.madvise(mm, a, nr * ps, MADV.PAGEOUT).ok).toBe(true);
      expect(k.events[EV.thp_swpout_fallback]).toBe(1);
      expect(mthp(k, 9, MS.swpout_fallback)).toBe(1);
      expect(k.events[EV.thp_split_page]).toBe(1);
      expect(mthp(k, 9, MS.split)).toBe(1);
      expect(k.events[EV.thp_swpout]).toBe(0);
      expect(mthp(k, 9, MS.swpout)).toBe(0);
      expect(k.events[EV.pswpout]).toBe(nr);
      expect(mm.rss[MM_SWAPENTS]).toBe(nr);
      expect(mm.rss[MM_ANONPAGES]).toBe(0);
      expect(k.phys.nodeStats(0)[NS.nr_isolated_anon]).toBe(0);
      k.touch(mm, a, nr * ps, false);
      expectTags(k, mm, a, nr, 5);
      k.exit(mm);
      expect(k.swap.freePages).toBe(k.swap.totalPages);
    });

    it("discards a THP freed with MADV_FREE whole at reclaim, without writing it", () => {
      const { k, mm, a, head, nr, ps } = setup("64M");
      expect(k.madvise(mm, a, nr * ps, MADV.FREE).ok).toBe(true);
      expect(k.events[EV.pglazyfree]).toBe(nr);
      expect(k.folios.test(head, PG_swapbacked)).toBe(false);
      expect(k.phys.nodeStats(0)[NS.nr_inactive_file]).toBe(nr);
      expect(entryAt(k, mm, a)).toMatchObject({ level: PMD, young: false, dirty: false });
      expect(k.reclaim(nr)).toBe(nr);
      expect(k.events[EV.pglazyfreed]).toBe(nr);
      expect(k.events[EV.pgsteal_file]).toBe(nr);
      expect(k.events[EV.pswpout]).toBe(0);
      expect(k.events[EV.thp_split_pmd]).toBe(0);
      expect(mm.rss[MM_ANONPAGES]).toBe(0);
      expect(mappedAt(k, mm, a)).toBe("none");
      // It reads back as zeroes.
      k.touch(mm, a, ps, false);
      expect(k.peek(mm, a + 7 * ps)).toBe(0);
      k.exit(mm);
    });

    it("keeps a THP written again after MADV_FREE: it becomes swap-backed and its data stays", () => {
      const { k, mm, a, head, nr, ps } = setup("64M");
      expect(k.madvise(mm, a, nr * ps, MADV.FREE).ok).toBe(true);
      k.touch(mm, a + 3 * ps, ps, true, 9);
      expect(k.madvise(mm, a, nr * ps, MADV.PAGEOUT).ok).toBe(true);
      expect(k.events[EV.pglazyfreed]).toBe(0);
      expect(k.events[EV.pswpout]).toBe(0);
      expect(mappedAt(k, mm, a)).toMatchObject({ level: PMD, pfn: head });
      expect(k.folios.test(head, PG_swapbacked)).toBe(true);
      expect(k.folios.test(head, PG_active)).toBe(true);
      expect(k.peek(mm, a + 3 * ps)).toBe(mixTag(9, a / ps + 3));
      expect(k.peek(mm, a + 4 * ps)).toBe(mixTag(5, a / ps + 4));
      // Now an ordinary anonymous THP, it swaps out whole.
      expect(k.madvise(mm, a, nr * ps, MADV.PAGEOUT).ok).toBe(true);
      expect(k.events[EV.thp_swpout]).toBe(1);
      k.touch(mm, a, nr * ps, false);
      expect(k.peek(mm, a + 3 * ps)).toBe(mixTag(9, a / ps + 3));
      k.exit(mm);
    });

    it("splits a THP that MADV_FREE covers in part and frees just those pages", () => {
      const { k, mm, a, nr, ps } = setup("64M");
      expect(k.madvise(mm, a + 16 * ps, 16 * ps, MADV.FREE).ok).toBe(true);
      expect(k.events[EV.thp_split_page]).toBe(1);
      expect(mappedAt(k, mm, a)).toMatchObject({ level: PTE });
      // The 16 order-0 folios the split made wait in the per-CPU lru_lazyfree batch until a drain.
      expect(k.events[EV.pglazyfree]).toBe(0);
      expect(folioBatchContents(k).lazyfree.length).toBe(16);
      lruAddDrain(k);
      expect(k.events[EV.pglazyfree]).toBe(16);
      const lazy = Array.from({ length: nr }, (_, i) => !k.folios.test(headAt(k, mm, a + i * ps), PG_swapbacked));
      expect(lazy.filter(Boolean).length).toBe(16);
      expect(lazy.slice(16, 32).every(Boolean)).toBe(true);
      k.exit(mm);
    });

    it("MADV_COLD on part of a THP splits it and ages only those pages", () => {
      const { k, mm, a, nr, ps } = setup("64M");
      expect(k.madvise(mm, a + 32 * ps, 8 * ps, MADV.COLD).ok).toBe(true);
      expect(k.events[EV.thp_split_page]).toBe(1);
      expect(entryAt(k, mm, a + 32 * ps)).toMatchObject({ level: PTE, young: false });
      expect(entryAt(k, mm, a + 39 * ps)).toMatchObject({ level: PTE, young: false });
      expect(entryAt(k, mm, a + 40 * ps)).toMatchObject({ level: PTE, young: true });
      expect(entryAt(k, mm, a)).toMatchObject({ level: PTE, young: true });
      expect(mm.rss[MM_ANONPAGES]).toBe(nr);
      k.exit(mm);
    });

    it("activates a THP referenced from two processes instead of reclaiming it; MADV_COLD then deactivates it whole", () => {
      const { k, mm, a, head, nr, ps } = setup("64M");
      const child = k.fork(mm)!;
      k.touch(child, a, ps, false);
      // A second, cold THP of the parent only, newer on the LRU.
      const b = mapOk(k, mm, { len: nr * ps, prot: RW, flags: ANON });
      k.touch(mm, b, nr * ps, true, 6);
      expect(k.madvise(mm, b, nr * ps, MADV.COLD).ok).toBe(true);
      expect(entryAt(k, mm, b)).toMatchObject({ level: PMD, young: false });
      expect(k.reclaim(nr)).toBe(nr);
      // Young in two VMAs: activated, and still mapped by both.
      expect(k.folios.test(head, PG_active)).toBe(true);
      expect(k.events[EV.pgactivate]).toBe(nr);
      expect(mappedAt(k, mm, a)).toMatchObject({ level: PMD, pfn: head });
      expect(mappedAt(k, child, a)).toMatchObject({ level: PMD, pfn: head });
      expect(k.phys.nodeStats(0)[NS.nr_active_anon]).toBe(nr);
      // The cold one went.
      expect(k.events[EV.thp_swpout]).toBe(1);
      expect(mappedAt(k, mm, b)).toBe("softleaf");
      // Shared, COLD leaves it alone.
      expect(k.madvise(mm, a, nr * ps, MADV.COLD).ok).toBe(true);
      expect(k.folios.test(head, PG_active)).toBe(true);
      k.exit(child);
      k.touch(mm, a, ps, false);
      expect(entryAt(k, mm, a)).toMatchObject({ level: PMD, young: true });
      expect(k.madvise(mm, a, nr * ps, MADV.COLD).ok).toBe(true);
      expect(k.folios.test(head, PG_active)).toBe(false);
      expect(k.events[EV.pgdeactivate]).toBe(nr);
      expect(entryAt(k, mm, a)).toMatchObject({ level: PMD, young: false });
      expect(k.phys.nodeStats(0)[NS.nr_inactive_anon]).toBe(nr);
      k.exit(mm);
    });

    it("does not reclaim a pinned THP", () => {
      const { k, mm, a, head, nr, ps } = setup("64M");
      const pin = k.gup(mm, a + ps, 1, FOLL_PIN | FOLL_WRITE);
      expect(pin.error).toBeNull();
      expect(k.madvise(mm, a, nr * ps, MADV.PAGEOUT).ok).toBe(true);
      expect(k.reclaim(nr)).toBe(0);
      expect(k.events[EV.pswpout]).toBe(0);
      expect(k.swap.slotOf.size).toBe(0);
      expect(mappedAt(k, mm, a)).toMatchObject({ level: PMD, pfn: head });
      expect(k.folios.test(head, PG_active)).toBe(false);
      k.unpin(pin, FOLL_PIN);
      expect(k.madvise(mm, a, nr * ps, MADV.PAGEOUT).ok).toBe(true);
      expect(k.events[EV.thp_swpout]).toBe(1);
      k.exit(mm);
    });
  });
}

describe("mTHP through reclaim", () => {
  function mthpKernel(swap: string): { k: Kernel; mm: Mm; a: number } {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", swap, check: true });
    k.thp.set("enabled", "never");
    k.thp.set("hugepages-64kB/enabled", "always");
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 256 * KiB, prot: RW, flags: ANON });
    expect(k.touch(mm, a, 256 * KiB, true, 3).error).toBe(0);
    expect(mthp(k, 4, MS.anon_fault_alloc)).toBe(4);
    return { k, mm, a };
  }

  it("swaps 64K folios out whole", () => {
    const { k, mm, a } = mthpKernel("16M");
    expect(k.madvise(mm, a, 256 * KiB, MADV.PAGEOUT).ok).toBe(true);
    expect(mthp(k, 4, MS.swpout)).toBe(4);
    expect(mthp(k, 4, MS.swpout_fallback)).toBe(0);
    expect(k.events[EV.thp_swpout]).toBe(0);
    expect(k.events[EV.pswpout]).toBe(64);
    expect(mthp(k, 4, MS.nr_anon)).toBe(0);
    for (let i = 0; i < 4; i++) expect(swapSlotAt(k, mm, a + i * 64 * KiB) % 16).toBe(0);
    k.touch(mm, a, 256 * KiB, false);
    expectTags(k, mm, a, 64, 3);
    k.exit(mm);
  });

  it("maps a large folio still in the swap cache back with all its PTEs on one fault", () => {
    const { k, mm, a } = mthpKernel("16M");
    const head = headAt(k, mm, a);
    // Reclaim stopped between try_to_unmap and __remove_mapping: swap entries in the PTEs, the folio still cached.
    k.op("swap-out", () => {
      expect(folioAllocSwap(k, head)).toBe(true);
      expect(tryToUnmap(k, head, TTU_SPLIT_HUGE_PMD)).toBe(true);
    });
    expect(k.swap.slotOf.has(head)).toBe(true);
    expect(mm.rss[MM_SWAPENTS]).toBe(16);
    const r = k.touch(mm, a + 5 * 4096, 4096, false);
    expect(r.faults).toBe(1);
    expect(r.majorFaults).toBe(0);
    expect(mm.rss[MM_SWAPENTS]).toBe(0);
    expect(mm.rss[MM_ANONPAGES]).toBe(64);
    for (let i = 0; i < 16; i++) expect(mappedAt(k, mm, a + i * 4096)).toEqual({ level: PTE, pfn: head + i });
    expect(k.touch(mm, a, 64 * KiB, false).faults).toBe(0);
    expectTags(k, mm, a, 64, 3);
    k.exit(mm);
  });

  it("falls back to single pages where swap has no free cluster for them", () => {
    // 1 MiB of swap: a single short cluster, already serving single pages (the header).
    const { k, mm, a } = mthpKernel("1M");
    expect(k.madvise(mm, a, 256 * KiB, MADV.PAGEOUT).ok).toBe(true);
    expect(mthp(k, 4, MS.swpout_fallback)).toBe(4);
    expect(mthp(k, 4, MS.split)).toBe(4);
    expect(mthp(k, 4, MS.swpout)).toBe(0);
    expect(k.events[EV.thp_swpout_fallback]).toBe(0);
    expect(k.events[EV.pswpout]).toBe(64);
    k.touch(mm, a, 256 * KiB, false);
    expectTags(k, mm, a, 64, 3);
    k.exit(mm);
  });

  it("discards a lazy-free mTHP with all its PTEs at once, and splits one freed in part", () => {
    const { k, mm, a } = mthpKernel("16M");
    expect(k.madvise(mm, a, 64 * KiB, MADV.FREE).ok).toBe(true);
    expect(k.madvise(mm, a + 64 * KiB + 8 * KiB, 16 * KiB, MADV.FREE).ok).toBe(true);
    expect(mthp(k, 4, MS.split)).toBe(1);
    // The large folio moved at once; the 4 pages split off wait in the lru_lazyfree batch.
    expect(k.events[EV.pglazyfree]).toBe(16);
    expect(folioBatchContents(k).lazyfree.length).toBe(4);
    const deferred = mthp(k, 4, MS.split_deferred);
    expect(k.madvise(mm, a, 128 * KiB, MADV.PAGEOUT).ok).toBe(true);
    // MADV_PAGEOUT drained the batch before reclaiming.
    expect(k.events[EV.pglazyfree]).toBe(16 + 4);
    expect(k.events[EV.pglazyfreed]).toBe(20);
    // Its PTEs went as one batch: the lazy-free folio was never partially mapped on the way.
    expect(mthp(k, 4, MS.split_deferred)).toBe(deferred);
    expect(k.events[EV.pswpout]).toBe(12);
    expect(k.peek(mm, a)).toBe(-1);
    k.touch(mm, a, 128 * KiB, false);
    expect(k.peek(mm, a)).toBe(0);
    expect(k.peek(mm, a + 64 * KiB)).toBe(mixTag(3, (a + 64 * KiB) / 4096));
    k.exit(mm);
  });
});

describe("PUD THP through reclaim (the RFC)", () => {
  function pudKernel(deposit: "pre-deposit" | "at-split", memory: string): { k: Kernel; mm: Mm; a: number; head: number } {
    const k = new Kernel({ backend: createX86_64Backend(), memory, swap: "16M", check: true });
    k.thp.set("hugepages-1048576kB/enabled", "always");
    k.thp.set("pud_deposit", deposit);
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: GiB, prot: RW, flags: ANON });
    k.touch(mm, a, 4096, true, 1);
    k.touch(mm, a + GiB - 4096, 4096, true, 2);
    expect(mappedAt(k, mm, a)).toMatchObject({ level: PUD });
    return { k, mm, a, head: headAt(k, mm, a) };
  }

  it("splits a PUD THP that cannot get swap as a whole: its zero pages go to the zero page, the rest to swap", () => {
    const { k, mm, a, head } = pudKernel("pre-deposit", "4G");
    const slots = k.swap.freePages;
    expect(k.reclaim(1024)).toBe(2);
    expect(k.events[EV.thp_split_pud]).toBe(1);
    expect(mthp(k, 18, MS.split)).toBe(1);
    expect(mthp(k, 18, MS.swpout_fallback)).toBe(1);
    expect(k.events[EV.thp_swpout_fallback]).toBe(1);
    expect(k.events[EV.pswpout]).toBe(2);
    expect(mm.rss[MM_SWAPENTS]).toBe(2);
    expect(mm.rss[MM_ANONPAGES]).toBe(0);
    expect(mappedAt(k, mm, a + 12 * MiB)).toMatchObject({ level: PTE, pfn: k.zeroPfn });
    expect(k.folios.isAllocated(head + 5)).toBe(false);
    expect(k.phys.nodeStats(0)[NS.nr_isolated_anon]).toBe(0);
    expect(k.phys.nodeStats(0)[NS.nr_anon_pud_transparent_hugepages]).toBe(0);
    k.touch(mm, a, 4096, false);
    expect(k.peek(mm, a)).toBe(mixTag(1, a / 4096));
    k.touch(mm, a + GiB - 4096, 4096, false);
    expect(k.peek(mm, a + GiB - 4096)).toBe(mixTag(2, (a + GiB) / 4096 - 1));
    expect(k.peek(mm, a + 12 * MiB)).toBe(0);
    k.exit(mm);
    expect(k.swap.freePages).toBe(slots);
  }, 60_000);

  it("splits a full PUD THP under reclaim and swaps out what fits, activating the rest", () => {
    const { k, mm, a } = pudKernel("pre-deposit", "4G");
    k.touch(mm, a, GiB, true, 4);
    const slots = k.swap.freePages;
    expect(k.reclaim(1024)).toBe(slots);
    expect(k.events[EV.thp_split_pud]).toBe(1);
    expect(k.events[EV.pswpout]).toBe(slots);
    expect(mm.rss[MM_SWAPENTS]).toBe(slots);
    expect(mm.rss[MM_ANONPAGES]).toBe(GiB / 4096 - slots);
    expect(k.events[EV.pgactivate]).toBe(GiB / 4096 - slots);
    expect(k.phys.nodeStats(0)[NS.nr_isolated_anon]).toBe(0);
    k.touch(mm, a, 8 * MiB, false);
    expectTags(k, mm, a, 2048, 4);
    k.exit(mm);
  }, 120_000);

  it("keeps a PUD THP whose split cannot get its page tables (at-split, no memory)", () => {
    const { k, mm, a, head } = pudKernel("at-split", "2G");
    const held: number[] = [];
    for (let p = k.folios.alloc(0, GFP_NOWAIT); p >= 0; p = k.folios.alloc(0, GFP_NOWAIT)) {
      k.holdRef(p, 1);
      held.push(p);
    }
    k.reclaim(1024);
    expect(k.modelEvents[ME.thp_split_pud_failed]).toBeGreaterThan(0);
    expect(mthp(k, 18, MS.split_failed)).toBeGreaterThan(0);
    expect(k.events[EV.pswpout]).toBe(0);
    expect(mappedAt(k, mm, a)).toMatchObject({ level: PUD, pfn: head });
    expect(mm.rss[MM_ANONPAGES]).toBe(GiB / 4096);
    // MADV_PAGEOUT's walk cannot split the PUD either: nothing happens.
    expect(k.madvise(mm, a, GiB, MADV.PAGEOUT).ok).toBe(true);
    expect(k.events[EV.pswpout]).toBe(0);
    expect(mappedAt(k, mm, a)).toMatchObject({ level: PUD, pfn: head });
    for (const p of held.splice(0)) {
      k.holdRef(p, -1);
      folioPut(k, p);
    }
    k.exit(mm);
  });
});
