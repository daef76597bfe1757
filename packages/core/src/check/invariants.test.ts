import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES } from "../mm/counters";
import { PG_lru } from "../phys/page-flags";
import { NS } from "../stats/counters";
import { insertAnonVma } from "../testing/vma";
import { checkInvariants, InvariantViolation } from "./invariants";

const MiB = 2 ** 20;

function setup() {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", check: true });
  const mm = k.createMm();
  insertAnonVma(k, mm, 0x4000_0000, MiB);
  k.touch(mm, 0x4000_0000, 64 * 4096, true, 3);
  const slot = mm.slot;
  mm.walker.find(0x4000_0000, 0, false, slot);
  const r = new Uint32Array(2);
  k.backend.readEntry(slot.table, slot.index, 0, r, 0);
  const pfn = k.backend.pfn(r, 0, 0);
  return { k, mm, pfn };
}

const checksOf = (k: Kernel) => checkInvariants(k, "test").map((v) => v.check);

describe("the invariant checker", () => {
  it("finds nothing wrong in a consistent state", () => {
    expect(checkInvariants(setup().k, "test")).toEqual([]);
  });
  it("catches a mapcount that disagrees with the page tables", () => {
    const { k, pfn } = setup();
    k.folios.addPageMapcount(pfn, 1, 1);
    expect(checksOf(k)).toContain("mapcount");
  });
  it("catches a leaked reference", () => {
    const { k, pfn } = setup();
    k.folios.ref(pfn);
    const vs = checkInvariants(k, "test");
    expect(vs.map((v) => v.check)).toEqual(["refcount"]);
    expect(vs[0]).toMatchObject({ pfn, expected: 1, found: 2 });
  });
  it("catches a folio that claims to be on the LRU but is not", () => {
    const { k, pfn } = setup();
    k.lru.del(pfn);
    k.folios.set(pfn, PG_lru);
    expect(checksOf(k)).toContain("lru");
  });
  it("catches an rss counter that drifted", () => {
    const { k, mm } = setup();
    mm.rss[MM_ANONPAGES]!++;
    expect(checksOf(k)).toEqual(["rss"]);
  });
  it("catches a node counter that drifted", () => {
    const { k } = setup();
    k.phys.nodeStats(0)[NS.nr_anon_pages]!--;
    expect(checksOf(k)).toEqual(["counters"]);
  });
  it("catches a page-table page nobody links to", () => {
    const { k, mm } = setup();
    k.tables.alloc(0, mm.id);
    expect(checksOf(k)).toContain("pgtable");
  });
  it("catches a page lost from the allocator's accounting", () => {
    const { k } = setup();
    k.phys.allocPages(0, 0);
    expect(checksOf(k)).toContain("memory");
  });
  it("catches a folio its rmap does not reach where the tables map it: a wrong index, or an anon_vma the VMA is not linked to", () => {
    const { k, mm, pfn } = setup();
    const index = k.folios.index(pfn);
    const mine = k.folios.mapping(pfn);
    k.folios.setMapping(pfn, mine, index + 1);
    const vs = checkInvariants(k, "test");
    expect(vs.map((v) => v.check)).toEqual(["rmap"]);
    expect(vs[0]!.message).toBe(`0x40000000 maps page ${pfn} of folio ${pfn}, which its rmap (anon_vma or i_mmap, and index) does not reach there`);
    k.folios.setMapping(pfn, k.folios.mapping(pfn), index);
    expect(checkInvariants(k, "test")).toEqual([]);
    // A second process's anon_vma: the first VMA is not on its chains.
    const other = k.createMm();
    insertAnonVma(k, other, 0x4000_0000, MiB);
    k.touch(other, 0x4000_0000, 4096, true);
    const slot = other.slot;
    other.walker.find(0x4000_0000, 0, false, slot);
    const r = new Uint32Array(2);
    k.backend.readEntry(slot.table, slot.index, 0, r, 0);
    const theirs = k.folios.mapping(k.backend.pfn(r, 0, 0));
    k.folios.setMapping(pfn, theirs, index);
    expect(checksOf(k)).toEqual(["rmap"]);
    k.folios.setMapping(pfn, mine, index);
    k.exit(other);
    expect(mm.id).not.toBe(other.id);
  });
  it("throws after an operation when installed", () => {
    const { k, mm } = setup();
    mm.rss[MM_ANONPAGES]!++;
    expect(() => k.touch(mm, 0x4000_0000, 4096, false)).toThrow(InvariantViolation);
  });
});
