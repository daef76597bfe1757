import { PMD, PTE, type ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { mixTag } from "../folio/contents";
import { folioPut } from "../folio/put";
import { GFP_NOWAIT } from "../phys/gfp";
import { FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE } from "../gup/gup";
import { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES } from "../mm/counters";
import { MMF_DISABLE_THP, type Mm } from "../mm/mm";
import { MADV, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { PG_anon_exclusive, PG_partially_mapped } from "../phys/page-flags";
import { EV, MS, MTHP_STRIDE, NS } from "../stats/counters";
import { entryAt, mappedAt, tablePages } from "../testing/inspect";
import { mapOk } from "../testing/vma";

const MiB = 2 ** 20;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const X = 0x4000_0000;

function x86(memory = "1G"): Kernel {
  return new Kernel({ backend: createX86_64Backend(), memory, check: true });
}

function mthp(k: Kernel, order: number, stat: number): number {
  return k.mthpStats[order * MTHP_STRIDE + stat]!;
}

function expectTags(k: Kernel, mm: Mm, start: number, pages: number, seed: number, from = start): void {
  for (let i = 0; i < pages; i++) expect(k.peek(mm, start + i * 4096), `page ${i}`).toBe(mixTag(seed, from / 4096 + i));
}

describe("PMD THP faults", () => {
  it("maps a write fault in an aligned 2 MiB range with one PMD and deposits a PTE table", () => {
    const k = x86();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 4 * MiB, prot: RW, flags: ANON });
    expect(a % (2 * MiB)).toBe(0);
    const tables0 = tablePages(k);
    expect(k.touch(mm, a, 4096, true, 1)).toMatchObject({ faults: 1, error: 0 });
    const m = mappedAt(k, mm, a + 5 * 4096);
    expect(m).toMatchObject({ level: PMD });
    const e = entryAt(k, mm, a)!;
    expect(e).toMatchObject({ level: PMD, write: true, dirty: true });
    expect(mm.rss[MM_ANONPAGES]).toBe(512);
    expect(k.events[EV.thp_fault_alloc]).toBe(1);
    expect(mthp(k, 9, MS.anon_fault_alloc)).toBe(1);
    expect(mthp(k, 9, MS.nr_anon)).toBe(1);
    expect(k.phys.nodeStats(0)[NS.nr_anon_transparent_hugepages]).toBe(512);
    // A PUD table and a PMD table on the way, and the deposited PTE table.
    expect(tablePages(k) - tables0).toBe(3);
    // The rest of the 2 MiB needs no more faults.
    expect(k.touch(mm, a, 2 * MiB, true, 1).faults).toBe(0);
    expectTags(k, mm, a, 512, 1);
    k.exit(mm);
    expect(k.tables.count).toBe(0);
    expect(mthp(k, 9, MS.nr_anon)).toBe(0);
  });

  it("maps the huge zero folio on a read fault and replaces it with a THP on the first write", () => {
    const k = x86();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON });
    expect(k.touch(mm, a, 2 * MiB, false).faults).toBe(1);
    expect(k.events[EV.thp_zero_page_alloc]).toBe(1);
    expect(entryAt(k, mm, a)).toMatchObject({ level: PMD, write: false });
    expect(k.peek(mm, a + 4096)).toBe(0);
    expect(mm.rss[MM_ANONPAGES]).toBe(0);
    expect(k.touch(mm, a + 4096, 4096, true, 3).faults).toBe(1);
    expect(entryAt(k, mm, a)).toMatchObject({ level: PMD, write: true });
    expect(k.events[EV.thp_fault_alloc]).toBe(1);
    expect(mm.rss[MM_ANONPAGES]).toBe(512);
    expect(k.peek(mm, a)).toBe(0);
    // A second process reads: the same zero folio, no new allocation.
    const mm2 = k.createMm();
    const b = mapOk(k, mm2, { len: 2 * MiB, prot: RW, flags: ANON });
    k.touch(mm2, b, 4096, false);
    expect(k.events[EV.thp_zero_page_alloc]).toBe(1);
    expect(k.hugeZero.refcount).toBe(3);
    k.exit(mm);
    k.exit(mm2);
    // Only the shrinker's reference is left: it can free the folio.
    expect(k.hugeZero.shrink(k)).toBe(512);
    expect(k.hugeZero.pfn).toBe(-1);
  });

  it("allocates on read faults when use_zero_page is off", () => {
    const k = x86();
    k.thp.set("use_zero_page", "0");
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON });
    k.touch(mm, a, 4096, false);
    expect(k.events[EV.thp_zero_page_alloc]).toBe(0);
    expect(k.events[EV.thp_fault_alloc]).toBe(1);
  });

  it("follows enabled, MADV_HUGEPAGE, MADV_NOHUGEPAGE and the per-process switch", () => {
    const k = x86();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 8 * MiB, prot: RW, flags: ANON });
    k.thp.set("enabled", "madvise");
    k.touch(mm, a, 4096, true, 1);
    expect(mappedAt(k, mm, a)).toMatchObject({ level: PTE });
    expect(k.madvise(mm, a + 2 * MiB, 2 * MiB, MADV.HUGEPAGE).ok).toBe(true);
    k.touch(mm, a + 2 * MiB, 4096, true, 1);
    expect(mappedAt(k, mm, a + 2 * MiB)).toMatchObject({ level: PMD });
    k.thp.set("enabled", "always");
    expect(k.madvise(mm, a + 4 * MiB, 2 * MiB, MADV.NOHUGEPAGE).ok).toBe(true);
    k.touch(mm, a + 4 * MiB, 4096, true, 1);
    expect(mappedAt(k, mm, a + 4 * MiB)).toMatchObject({ level: PTE });
    mm.flags |= MMF_DISABLE_THP;
    k.touch(mm, a + 6 * MiB, 4096, true, 1);
    expect(mappedAt(k, mm, a + 6 * MiB)).toMatchObject({ level: PTE });
    expect(k.events[EV.thp_fault_alloc]).toBe(1);
  });

  it("falls back to small pages when the 2 MiB block does not fit in the VMA", () => {
    const k = x86();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X + 4096, len: 2 * MiB, prot: RW, flags: ANON | MAP_FIXED });
    k.touch(mm, X + 4096, 2 * MiB, true, 1);
    expect(k.events[EV.thp_fault_alloc]).toBe(0);
    expect(mm.rss[MM_ANONPAGES]).toBe(512);
  });

  it("counts thp_fault_fallback when no huge folio can be had", () => {
    const k = x86("1G");
    // Fragment all of memory: take every free page, then give back every other one.
    const held: number[] = [];
    for (;;) {
      const p = k.folios.alloc(0, GFP_NOWAIT);
      if (p < 0) break;
      k.holdRef(p, 1);
      held.push(p);
    }
    for (let i = 0; i < held.length; i += 2) {
      k.holdRef(held[i]!, -1);
      folioPut(k, held[i]!);
    }
    // Whole 2 MiB blocks may remain in the reserves the watermarks kept back: take those too.
    const blocks: number[] = [];
    for (let p = k.folios.alloc(9, GFP_NOWAIT); p >= 0; p = k.folios.alloc(9, GFP_NOWAIT)) {
      k.holdRef(p, 1);
      blocks.push(p);
    }
    const mm = k.createMm();
    const b = mapOk(k, mm, { len: 8 * MiB, prot: RW, flags: ANON });
    const r = k.touch(mm, b, 8 * MiB, true, 2);
    expect(r.error).toBe(0);
    expect(k.events[EV.thp_fault_alloc]).toBe(0);
    expect(k.events[EV.thp_fault_fallback]).toBe(4);
    expect(mthp(k, 9, MS.anon_fault_fallback)).toBe(4);
    expect(mm.rss[MM_ANONPAGES]).toBe(2048);
    expectTags(k, mm, b, 2048, 2);
    k.exit(mm);
    for (const p of [...held.filter((_, i) => i % 2 === 1), ...blocks]) {
      k.holdRef(p, -1);
      folioPut(k, p);
    }
  });
});

describe("mTHP", () => {
  it("maps the highest enabled size whose PTEs are all none, and falls back order by order", () => {
    const k = x86();
    k.thp.set("hugepages-64kB/enabled", "always");
    k.thp.set("hugepages-32kB/enabled", "always");
    const mm = k.createMm();
    // 1 MiB is too small for a PMD: mTHP sizes apply.
    const a = mapOk(k, mm, { addr: X, len: MiB, prot: RW, flags: ANON | MAP_FIXED });
    k.touch(mm, a + 4096, 4096, true, 1);
    expect(mthp(k, 4, MS.anon_fault_alloc)).toBe(1);
    expect(mm.rss[MM_ANONPAGES]).toBe(16);
    const f = k.folios.head((mappedAt(k, mm, a) as { pfn: number }).pfn);
    expect(k.folios.order(f)).toBe(4);
    expect(k.folios.refcount(f)).toBe(16);
    // One PTE of the next 64 KiB is filled: the 64 KiB block no longer fits, 32 KiB does.
    k.touch(mm, a + 64 * 1024, 4096, true, 1);
    expect(mthp(k, 4, MS.anon_fault_alloc)).toBe(2);
    k.touch(mm, a + 128 * 1024 + 32 * 1024, 4096, false);
    k.touch(mm, a + 128 * 1024, 4096, true, 1);
    expect(mthp(k, 3, MS.anon_fault_alloc)).toBe(1);
    expectTags(k, mm, a + 4096, 1, 1);
    expect(k.peek(mm, a)).toBe(0);
    k.exit(mm);
  });

  it("lets arm64 fold a 64 KiB folio into one contiguous block", () => {
    const k = new Kernel({ backend: createArm64Backend("4k-48"), memory: "1G", check: true });
    k.thp.set("hugepages-64kB/enabled", "always");
    const mm = k.createMm();
    const a = mapOk(k, mm, { addr: X, len: MiB, prot: RW, flags: ANON | MAP_FIXED });
    k.touch(mm, a, 4096, true, 1);
    for (let i = 0; i < 16; i++) expect(entryAt(k, mm, a + i * 4096)?.cont, `PTE ${i}`).toBe(true);
    expect(entryAt(k, mm, a + 16 * 4096)).toBeNull();
    k.exit(mm);
  });

  it("reuses an mTHP on a write fault once no other process maps it, and copies one page while one does", () => {
    const k = x86();
    k.thp.set("hugepages-64kB/enabled", "always");
    const mm = k.createMm();
    const a = mapOk(k, mm, { addr: X, len: MiB, prot: RW, flags: ANON | MAP_FIXED });
    k.touch(mm, a, 64 * 1024, true, 1);
    const child = k.fork(mm)!;
    k.touch(child, a, 4096, true, 2);
    // The child copied one page; the rest of its mapping still shares the folio.
    expect(k.peek(child, a)).toBe(mixTag(2, a / 4096));
    expectTags(k, mm, a, 16, 1);
    k.exit(child);
    const pfn = (mappedAt(k, mm, a + 4096) as { pfn: number }).pfn;
    const reuse0 = k.events[EV.pgreuse]!;
    k.touch(mm, a + 4096, 4096, true, 3);
    expect(k.events[EV.pgreuse]).toBe(reuse0 + 1);
    expect((mappedAt(k, mm, a + 4096) as { pfn: number }).pfn).toBe(pfn);
    k.exit(mm);
  });
});

describe("PMD THP through fork, COW, zap, mprotect and mremap", () => {
  it("shares a THP with the child; a write splits the writer's PMD and copies one page", () => {
    const k = x86();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON });
    k.touch(mm, a, 2 * MiB, true, 1);
    const child = k.fork(mm)!;
    expect(entryAt(k, mm, a)).toMatchObject({ level: PMD, write: false });
    expect(entryAt(k, child, a)).toMatchObject({ level: PMD, write: false });
    const head = (mappedAt(k, mm, a) as { pfn: number }).pfn;
    expect(k.folios.refcount(head)).toBe(2);
    expect(k.rmap.maybeMappedShared(head)).toBe(true);
    k.touch(child, a + 4096, 4096, true, 2);
    expect(k.events[EV.thp_split_pmd]).toBe(1);
    expect(mappedAt(k, child, a)).toMatchObject({ level: PTE, pfn: head });
    expect(k.peek(child, a + 4096)).toBe(mixTag(2, a / 4096 + 1));
    expectTags(k, mm, a, 512, 1);
    // The parent's PMD still maps it whole: the write there reuses nothing until the child is gone.
    k.exit(child);
    k.touch(mm, a, 4096, true, 4);
    expect(entryAt(k, mm, a)).toMatchObject({ level: PMD, write: true });
    expect(k.folios.pageTest(head, PG_anon_exclusive)).toBe(true);
    k.exit(mm);
  });

  it("reuses a THP in place after the child exits without counting pgreuse, which only the PTE path counts", () => {
    const k = x86();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON });
    k.touch(mm, a, 2 * MiB, true, 1);
    const child = k.fork(mm)!;
    k.exit(child);
    const alloc0 = k.events[EV.pgalloc_normal]!;
    expect(k.touch(mm, a, 4096, true, 2).faults).toBe(1);
    expect(entryAt(k, mm, a)).toMatchObject({ level: PMD, write: true });
    expect(k.events[EV.pgalloc_normal]).toBe(alloc0);
    expect(k.events[EV.thp_split_pmd]).toBe(0);
    expect(k.events[EV.pgreuse]).toBe(0);
    k.exit(mm);
  });

  it("copies a pinned THP for the child at fork instead of sharing it", () => {
    const k = x86();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON });
    k.touch(mm, a, 2 * MiB, true, 1);
    const pin = k.gup(mm, a, 1, FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM);
    expect(pin.error).toBeNull();
    const child = k.fork(mm)!;
    // The parent's PMD was split so the pages could be copied one by one.
    expect(mappedAt(k, mm, a)).toMatchObject({ level: PTE });
    const pp = (mappedAt(k, mm, a) as { pfn: number }).pfn;
    const cp = (mappedAt(k, child, a) as { pfn: number }).pfn;
    expect(cp).not.toBe(pp);
    expectTags(k, child, a, 512, 1);
    k.unpin(pin, FOLL_PIN);
    k.exit(child);
    k.exit(mm);
  });

  it("splits on partial munmap and keeps the memory until the deferred split", () => {
    const k = x86();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON });
    k.touch(mm, a, 2 * MiB, true, 1);
    const head = (mappedAt(k, mm, a) as { pfn: number }).pfn;
    expect(k.munmap(mm, a + MiB, MiB).ok).toBe(true);
    expect(k.events[EV.thp_split_pmd]).toBe(1);
    expect(mm.rss[MM_ANONPAGES]).toBe(256);
    expect(k.folios.nrPages(head)).toBe(512);
    expect(k.folios.test(head, PG_partially_mapped)).toBe(true);
    expect(k.deferredSplit.heads()).toContain(head);
    expect(k.events[EV.thp_deferred_split_page]).toBe(1);
    expect(mthp(k, 9, MS.split_deferred)).toBe(1);
    expect(mthp(k, 9, MS.nr_anon_partially_mapped)).toBe(1);
    expectTags(k, mm, a, 256, 1);
    k.exit(mm);
    expect(mthp(k, 9, MS.nr_anon_partially_mapped)).toBe(0);
    expect(k.deferredSplit.length).toBe(0);
  });

  it("MADV_DONTNEED inside a THP splits the PMD and zaps the range", () => {
    const k = x86();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON });
    k.touch(mm, a, 2 * MiB, true, 1);
    expect(k.madvise(mm, a, 64 * 1024, MADV.DONTNEED).ok).toBe(true);
    expect(mm.rss[MM_ANONPAGES]).toBe(512 - 16);
    expect(k.peek(mm, a)).toBe(-1);
    expectTags(k, mm, a + 64 * 1024, 512 - 16, 1);
    k.exit(mm);
  });

  it("changes a whole THP's protection in place and splits one covered in part", () => {
    const k = x86();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 4 * MiB, prot: RW, flags: ANON });
    k.touch(mm, a, 4 * MiB, true, 1);
    expect(k.mprotect(mm, a, 2 * MiB, PROT_READ).ok).toBe(true);
    expect(entryAt(k, mm, a)).toMatchObject({ level: PMD, write: false, dirty: true });
    expect(k.mprotect(mm, a, 2 * MiB, RW).ok).toBe(true);
    // Exclusive anon: made writable without a fault.
    expect(entryAt(k, mm, a)).toMatchObject({ level: PMD, write: true });
    expect(k.mprotect(mm, a + 2 * MiB + 4096, 4096, PROT_READ).ok).toBe(true);
    expect(mappedAt(k, mm, a + 2 * MiB)).toMatchObject({ level: PTE });
    expect(entryAt(k, mm, a + 2 * MiB + 4096)).toMatchObject({ level: PTE, write: false });
    expect(entryAt(k, mm, a + 2 * MiB)).toMatchObject({ level: PTE, write: true });
    expectTags(k, mm, a, 1024, 1);
    k.exit(mm);
  });

  it("flushes the TLB once for a whole THP's mprotect on x86 (pmdp_invalidate_ad), twice where the invalidation flushes (arm64)", () => {
    for (const [backend, want] of [
      [createX86_64Backend(), 1],
      [createArm64Backend("4k-48"), 2],
    ] as const) {
      const k = new Kernel({ backend, memory: "1G", check: true });
      const mm = k.createMm();
      const a = mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON });
      k.touch(mm, a, 2 * MiB, true, 1);
      expect(mappedAt(k, mm, a)).toMatchObject({ level: PMD });
      const before = k.tlb.flushes;
      expect(k.mprotect(mm, a, 2 * MiB, PROT_READ).ok).toBe(true);
      expect(k.tlb.flushes - before, backend.id).toBe(want);
      expect(entryAt(k, mm, a)).toMatchObject({ level: PMD, write: false });
      k.exit(mm);
    }
  });

  it("moves whole PMDs with mremap when aligned, and splits when not", () => {
    const k = x86();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 4 * MiB, prot: RW, flags: ANON });
    k.touch(mm, a, 4 * MiB, true, 1);
    const to = a + 64 * MiB;
    const r = k.mremap(mm, a, 4 * MiB, 4 * MiB, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    expect(r).toEqual({ ok: true, value: to });
    expect(mappedAt(k, mm, to)).toMatchObject({ level: PMD });
    expect(k.events[EV.thp_split_pmd]).toBe(0);
    expectTags(k, mm, to, 1024, 1, a);
    const to2 = to + 64 * MiB + 4096;
    expect(k.mremap(mm, to, 2 * MiB, 2 * MiB, MREMAP_MAYMOVE | MREMAP_FIXED, to2).ok).toBe(true);
    expect(k.events[EV.thp_split_pmd]).toBe(1);
    expect(mappedAt(k, mm, to2)).toMatchObject({ level: PTE });
    expectTags(k, mm, to2, 512, 1, a);
    k.exit(mm);
  });

  it("pins a page of a PMD-mapped THP, unsharing a shared one first", () => {
    const k = x86();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON });
    k.touch(mm, a, 2 * MiB, true, 1);
    const g = k.gup(mm, a + 5 * 4096, 2, FOLL_PIN);
    const head = (mappedAt(k, mm, a) as { pfn: number }).pfn;
    expect(g.pages).toEqual([head + 5, head + 6]);
    expect(k.folios.large.pincount[k.folios.lid(head) - 1]).toBe(2);
    k.unpin(g, FOLL_PIN);
    const child = k.fork(mm)!;
    // A read-only pin of a shared anon THP page must unshare: the PMD splits and the page is copied.
    const g2 = k.gup(mm, a, 1, FOLL_PIN);
    expect(g2.pages[0]).not.toBe(head);
    expect(k.peek(mm, a)).toBe(mixTag(1, a / 4096));
    k.unpin(g2, FOLL_PIN);
    k.exit(child);
    k.exit(mm);
  });
});

describe("PMD THP on other granules", () => {
  const cases: [string, () => ArchBackend, string, number][] = [
    ["arm64 16k (32 MiB PMD)", () => createArm64Backend("16k-47"), "2G", 32 * MiB],
    ["arm64 64k (512 MiB PMD)", () => createArm64Backend("64k-48"), "4G", 512 * MiB],
  ];
  it.each(cases)("faults, forks and unmaps a PMD THP on %s", (_n, make, memory, pmdSize) => {
    const k = new Kernel({ backend: make(), memory, check: true });
    const ps = k.pageSize;
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: pmdSize, prot: RW, flags: ANON });
    expect(a % pmdSize).toBe(0);
    k.touch(mm, a, ps, true, 1);
    expect(mappedAt(k, mm, a)).toMatchObject({ level: PMD });
    expect(mm.rss[MM_ANONPAGES]).toBe(pmdSize / ps);
    const child = k.fork(mm)!;
    k.touch(child, a, ps, true, 2);
    expect(k.events[EV.thp_split_pmd]).toBe(1);
    expect(k.peek(mm, a)).toBe(mixTag(1, a / ps));
    k.exit(child);
    k.exit(mm);
    expect(k.tables.count).toBe(0);
  });
});
