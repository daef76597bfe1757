import { PMD, PTE, PUD } from "@hugemm/arch";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { mixTag } from "../folio/contents";
import { folioPut } from "../folio/put";
import { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES } from "../mm/counters";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { GFP_NOWAIT } from "../phys/gfp";
import { FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE } from "../gup/gup";
import { EV, ME, MS, MTHP_STRIDE, NS } from "../stats/counters";
import { entryAt, mappedAt, tablePages } from "../testing/inspect";
import { mapOk } from "../testing/vma";

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
/** Pages one PUD THP maps, and the tables its pre-deposit holds (a PMD table and 512 PTE tables). */
const PUD_PAGES = GiB / 4096;
const PUD_DEPOSIT = 513;

function pudKernel(deposit: "pre-deposit" | "at-split" = "pre-deposit", memory = "4G"): Kernel {
  const k = new Kernel({ backend: createX86_64Backend(), memory, check: true });
  k.thp.set("hugepages-1048576kB/enabled", "always");
  k.thp.set("pud_deposit", deposit);
  return k;
}

describe("anonymous PUD THP (the 2026 RFC)", () => {
  it("aligns a 1 GiB mapping to 1 GiB and maps a fault with one PUD, pre-depositing 513 tables", () => {
    const k = pudKernel();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: GiB, prot: RW, flags: ANON });
    expect(a % GiB).toBe(0);
    const t0 = tablePages(k);
    expect(k.touch(mm, a + 12345 * 4096, 4096, true, 7)).toMatchObject({ faults: 1, error: 0 });
    expect(mappedAt(k, mm, a)).toMatchObject({ level: PUD });
    expect(entryAt(k, mm, a)).toMatchObject({ level: PUD, write: true, dirty: true });
    expect(mm.rss[MM_ANONPAGES]).toBe(PUD_PAGES);
    expect(k.modelEvents[ME.thp_fault_alloc_pud]).toBe(1);
    expect(k.mthpStats[18 * MTHP_STRIDE + MS.anon_fault_alloc]).toBe(1);
    expect(k.phys.nodeStats(0)[NS.nr_anon_pud_transparent_hugepages]).toBe(PUD_PAGES);
    expect(k.phys.nodeStats(0)[NS.nr_anon_transparent_hugepages]).toBe(0);
    // The PUD table on the way, and the deposit: the cost of never failing a split.
    expect(tablePages(k) - t0).toBe(1 + PUD_DEPOSIT);
    expect(k.peek(mm, a + 12345 * 4096)).toBe(mixTag(7, a / 4096 + 12345));
    k.exit(mm);
    expect(k.tables.count).toBe(0);
    expect(k.phys.nodeStats(0)[NS.nr_anon_pud_transparent_hugepages]).toBe(0);
  });

  it("does not align or map PUDs while the 1 GiB size is off", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "4G", check: true });
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: GiB, prot: RW, flags: ANON });
    k.touch(mm, a, 4096, true, 1);
    expect(mappedAt(k, mm, a)).toMatchObject({ level: PMD });
    k.exit(mm);
  });

  it("splits a PUD into PTEs on partial munmap, using the deposited tables", () => {
    const k = pudKernel();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: GiB, prot: RW, flags: ANON });
    k.touch(mm, a, 4096, true, 1);
    const head = (mappedAt(k, mm, a) as { pfn: number }).pfn;
    const t0 = tablePages(k);
    expect(k.munmap(mm, a + 2 * MiB, 2 * MiB).ok).toBe(true);
    expect(k.events[EV.thp_split_pud]).toBe(1);
    // No table was allocated: the deposit became the PMD table and its PTE tables (and one PTE table emptied by the zap went).
    expect(tablePages(k)).toBeLessThanOrEqual(t0);
    expect(mappedAt(k, mm, a)).toMatchObject({ level: PTE, pfn: head });
    expect(mappedAt(k, mm, a + 2 * MiB)).toBe("none");
    expect(mm.rss[MM_ANONPAGES]).toBe(PUD_PAGES - 512);
    expect(k.deferredSplit.heads()).toContain(head);
    expect(k.peek(mm, a)).toBe(mixTag(1, a / 4096));
    k.exit(mm);
    expect(k.tables.count).toBe(0);
  });

  it("with the at-split policy keeps no tables until a split, and the split fails cleanly without memory", () => {
    const k = pudKernel("at-split", "2G");
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: GiB, prot: RW, flags: ANON });
    const t0 = tablePages(k);
    k.touch(mm, a, 4096, true, 1);
    expect(mappedAt(k, mm, a)).toMatchObject({ level: PUD });
    expect(tablePages(k) - t0).toBe(1);
    // Take every free page so the split cannot get its 513 tables.
    const held: number[] = [];
    for (let p = k.folios.alloc(0, GFP_NOWAIT); p >= 0; p = k.folios.alloc(0, GFP_NOWAIT)) {
      k.holdRef(p, 1);
      held.push(p);
    }
    const r = k.munmap(mm, a + 2 * MiB, 2 * MiB);
    expect(r).toMatchObject({ ok: false, errno: "ENOMEM" });
    expect(k.modelEvents[ME.thp_split_pud_failed]).toBe(1);
    expect(mappedAt(k, mm, a + 2 * MiB)).toMatchObject({ level: PUD });
    expect(mm.rss[MM_ANONPAGES]).toBe(PUD_PAGES);
    for (const p of held.splice(0)) {
      k.holdRef(p, -1);
      folioPut(k, p);
    }
    // With memory back the same call succeeds, allocating the tables at split time.
    expect(k.munmap(mm, a + 2 * MiB, 2 * MiB).ok).toBe(true);
    expect(k.events[EV.thp_split_pud]).toBe(1);
    expect(mm.rss[MM_ANONPAGES]).toBe(PUD_PAGES - 512);
    k.exit(mm);
    expect(k.tables.count).toBe(0);
  });

  it("with the at-split policy reclaims memory for the split's tables before taking any lock", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "2G", swap: "1G", check: true });
    k.thp.set("hugepages-1048576kB/enabled", "always");
    k.thp.set("pud_deposit", "at-split");
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: GiB, prot: RW, flags: ANON });
    k.touch(mm, a, 4096, true, 1);
    // Another process fills what is left with pages reclaim can swap out.
    const hog = k.createMm();
    const h = mapOk(k, hog, { len: GiB, prot: RW, flags: ANON });
    k.madvise(hog, h, GiB, 15 /* MADV_NOHUGEPAGE */);
    const left = k.phys.freePagesWithPcp;
    k.touch(hog, h, Math.min(GiB, (left - 256) * 4096), true, 2);
    const r = k.madvise(mm, a + 2 * MiB, 2 * MiB, 4 /* MADV_DONTNEED */);
    expect(r.ok).toBe(true);
    expect(k.events[EV.thp_split_pud]).toBe(1);
    expect(k.events[EV.pswpout]).toBeGreaterThan(0);
    expect(k.peek(mm, a)).toBe(mixTag(1, a / 4096));
    k.exit(hog);
    k.exit(mm);
  }, 60_000);

  it("shares a PUD THP at fork; the child's write splits its PUD and copies one page", () => {
    const k = pudKernel();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: GiB, prot: RW, flags: ANON });
    k.touch(mm, a, 4096, true, 1);
    k.touch(mm, a + GiB - 4096, 4096, true, 1);
    const head = (mappedAt(k, mm, a) as { pfn: number }).pfn;
    const child = k.fork(mm)!;
    expect(entryAt(k, child, a)).toMatchObject({ level: PUD, write: false });
    expect(entryAt(k, mm, a)).toMatchObject({ level: PUD, write: false });
    expect(k.folios.refcount(head)).toBe(2);
    k.touch(child, a + GiB - 4096, 4096, true, 9);
    expect(k.events[EV.thp_split_pud]).toBe(1);
    expect(k.peek(child, a + GiB - 4096)).toBe(mixTag(9, (a + GiB) / 4096 - 1));
    expect(k.peek(mm, a + GiB - 4096)).toBe(mixTag(1, (a + GiB) / 4096 - 1));
    expect(k.peek(child, a)).toBe(mixTag(1, a / 4096));
    // The parent, sole owner again once the child exits, reuses its PUD in place.
    k.exit(child);
    k.touch(mm, a, 4096, true, 2);
    expect(entryAt(k, mm, a)).toMatchObject({ level: PUD, write: true });
    k.exit(mm);
  });

  it("copies a pinned PUD THP for the child at fork, splitting the parent's PUD", () => {
    const k = pudKernel("pre-deposit", "4G");
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: GiB, prot: RW, flags: ANON });
    k.touch(mm, a, 4096, true, 1);
    const pin = k.gup(mm, a, 1, FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM);
    expect(pin.error).toBeNull();
    const child = k.fork(mm)!;
    expect(k.events[EV.thp_split_pud]).toBe(1);
    expect(mappedAt(k, mm, a)).toMatchObject({ level: PTE });
    // Every page was exclusive and the folio may be pinned: the child got copies.
    expect(child.rss[MM_ANONPAGES]).toBe(PUD_PAGES);
    expect((mappedAt(k, child, a) as { pfn: number }).pfn).not.toBe((mappedAt(k, mm, a) as { pfn: number }).pfn);
    expect(k.peek(child, a)).toBe(mixTag(1, a / 4096));
    k.unpin(pin, FOLL_PIN);
    k.exit(child);
    k.exit(mm);
  }, 60_000);

  it("changes a whole PUD's protection in place", () => {
    const k = pudKernel();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: GiB, prot: RW, flags: ANON });
    k.touch(mm, a, 4096, true, 1);
    expect(k.mprotect(mm, a, GiB, PROT_READ).ok).toBe(true);
    expect(entryAt(k, mm, a)).toMatchObject({ level: PUD, write: false });
    expect(k.touch(mm, a, 4096, false).error).toBe(0);
    k.exit(mm);
  });

  it("maps a read fault with a PUD THP too (there is no PUD zero folio)", () => {
    const k = pudKernel();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: GiB, prot: RW, flags: ANON });
    k.touch(mm, a, 4096, false);
    expect(mappedAt(k, mm, a)).toMatchObject({ level: PUD });
    expect(k.peek(mm, a)).toBe(0);
    expect(k.events[EV.thp_zero_page_alloc]).toBe(0);
    k.exit(mm);
  });
});
