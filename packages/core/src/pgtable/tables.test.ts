import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { checkInvariants } from "../check/invariants";
import { Kernel } from "../kernel/kernel";
import { GFP_PGTABLE_USER } from "../phys/gfp";
import { NS } from "../stats/counters";
import { insertAnonVma } from "../testing/vma";

const MiB = 2 ** 20;

describe("page-table fragments (8xx 16K pages: four 4K PTE tables to a page)", () => {
  it("keeps a page none of whose handed-out fragments is left while others remain to hand out", () => {
    const k = new Kernel({ backend: createPpc8xxBackend("16k"), memory: "64M", check: true });
    const free0 = k.phys.freePagesWithPcp;
    const mm = k.createMm();
    insertAnonVma(k, mm, 0x1000_0000, 16 * MiB);
    // The PGD and three PTE tables (one per 4M) fill a page; the fourth PTE table starts the next.
    for (let i = 0; i < 4; i++) k.touch(mm, 0x1000_0000 + i * 4 * MiB, k.pageSize, true);
    const tables = [...k.tables.info.values()];
    expect(tables.length).toBe(5);
    const last = tables[4]!.pfn;
    expect(new Set(tables.slice(0, 4).map((i) => i.pfn)).size).toBe(1);
    expect(last).not.toBe(tables[0]!.pfn);
    expect(k.phys.nodeStats(0)[NS.nr_page_table_pages]).toBe(2);
    // Unmapping the last 4M frees its PTE table, the only fragment handed out of the second page.
    expect(k.munmap(mm, 0x1000_0000 + 12 * MiB, 4 * MiB).ok).toBe(true);
    expect([...k.tables.info.values()].some((i) => i.pfn === last)).toBe(false);
    expect(k.tables.pages().has(last)).toBe(true);
    expect(k.tables.fragmentMiscounts()).toEqual([]);
    expect(checkInvariants(k, "test")).toEqual([]);
    expect(k.phys.nodeStats(0)[NS.nr_page_table_pages]).toBe(2);
    // The next PTE table comes from that page.
    insertAnonVma(k, mm, 0x1000_0000 + 12 * MiB, 4 * MiB);
    k.touch(mm, 0x1000_0000 + 12 * MiB, k.pageSize, true);
    expect([...k.tables.info.values()].filter((i) => i.pfn === last).length).toBe(1);
    k.exit(mm);
    expect(k.phys.nodeStats(0)[NS.nr_page_table_pages]).toBe(0);
    expect(k.tables.pages().size).toBe(0);
    expect(k.phys.freePagesWithPcp).toBe(free0);
  });
});

describe("allocating many tables", () => {
  it("gives what single allocations would, and keeps nothing when memory runs out", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", check: false });
    const tables: number[] = [];
    expect(k.tables.allocMany(0, 7, 100, 0, GFP_PGTABLE_USER, tables)).toBe(true);
    expect(tables.length).toBe(100);
    expect(tables.every((pa) => k.tables.info.get(pa)?.mm === 7 && k.tables.info.get(pa)?.level === 0)).toBe(true);
    expect(k.phys.nodeStats(0)[NS.nr_page_table_pages]).toBe(100);
    for (const pa of tables) k.tables.free(pa);
    // Leave fewer free pages than asked for.
    const held: number[] = [];
    for (let pfn = k.phys.allocPages(0, GFP_PGTABLE_USER); pfn >= 0; pfn = k.phys.allocPages(0, GFP_PGTABLE_USER)) held.push(pfn);
    for (const pfn of held.splice(0, 50)) k.phys.freePages(pfn, 0);
    const free = k.phys.freePagesWithPcp;
    const more: number[] = [7];
    expect(k.tables.allocMany(0, 7, 100, 0, GFP_PGTABLE_USER, more)).toBe(false);
    expect(more).toEqual([7]);
    expect(k.phys.freePagesWithPcp).toBe(free);
    expect(k.phys.nodeStats(0)[NS.nr_page_table_pages]).toBe(0);
  });
});
