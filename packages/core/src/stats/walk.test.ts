import { P4D, PMD, PTE, PUD, entryHex, entryRegs, type ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { MADV, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { mappedAt } from "../testing/inspect";
import { mapOk } from "../testing/vma";
import { formatWalk, walkAddress } from "./walk";

const KiB = 1024;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const PS = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function kernel(backend: ArchBackend = createX86_64Backend(), opts: { memory?: string; nodes?: number; swap?: string } = {}): Kernel {
  return new Kernel({ backend, memory: opts.memory ?? "1G", check: true, ...(opts.nodes === undefined ? {} : { nodes: opts.nodes }), ...(opts.swap === undefined ? {} : { swap: opts.swap }) });
}

function written(k: Kernel, mm: Mm, len: number): number {
  const a = mapOk(k, mm, { len, prot: RW, flags: ANON });
  expect(k.touch(mm, a, len, true, 1).error).toBe(0);
  return a;
}

const hex = (n: number) => `0x${n.toString(16)}`;
const raw64 = (v: bigint) => `0x${v.toString(16).padStart(16, "0")}`;
const raw32 = (v: number) => `0x${v.toString(16).padStart(8, "0")}`;
/** x86 _PAGE_TABLE: present, rw, user, accessed, dirty. */
const X86_TABLE = 0x67n;

/** The softleaf entry the backend encodes, as the walk shows it. */
function softleafHex(b: ArchBackend, level: typeof PTE | typeof PMD, type: number, offset: number, mark: (v: Uint32Array) => void): string {
  const v = entryRegs(1);
  b.softleafEntry(v, 0, level, type, offset);
  mark(v);
  return entryHex(v, 0, b.geometry.entryBytes === 4 ? 32 : 64);
}

describe("the walk of a PMD THP on x86-64", () => {
  it("goes table by table to the PMD leaf, then shows the MMU's 2M translation and the folio", () => {
    const k = kernel();
    const mm = k.createMm();
    const a = written(k, mm, 2 * MiB);
    const head = (mappedAt(k, mm, a) as { pfn: number }).pfn;
    const addr = a + 5 * PS + 0x123;
    const w = walkAddress(k, mm, addr);
    const idx = [Math.floor(a / 2 ** 39) % 512, Math.floor(a / GiB) % 512, Math.floor(a / (2 * MiB)) % 512];
    expect(w.levels.map((l) => [l.name, l.level, l.index, l.kind, l.ends])).toEqual([
      ["pgd/p4d", P4D, idx[0], "table", "table"],
      ["pud", PUD, idx[1], "table", "table"],
      ["pmd", PMD, idx[2], "leaf", "leaf"],
    ]);
    const [l0, l1, l2] = w.levels as [(typeof w.levels)[0], (typeof w.levels)[0], (typeof w.levels)[0]];
    expect(l0.tablePa).toBe(mm.rootPa);
    expect(l0.raw).toBe(raw64(BigInt(l1.tablePa) | X86_TABLE));
    expect(l1.raw).toBe(raw64(BigInt(l2.tablePa) | X86_TABLE));
    // NX; present, rw, user, accessed, dirty, PSE and soft-dirty over the 2M-aligned pfn.
    expect(l2.raw).toBe(raw64((1n << 63n) | (BigInt(head) << 12n) | 0x8e7n));
    expect(l2.entryPa).toBe(l2.tablePa + 8 * idx[2]!);
    expect(w).toMatchObject({ pid: 1, addr, arch: "x86-64:4level", vma: { start: a, end: a + 2 * MiB, perms: "rw-p" }, end: "leaf", leaf: { level: PMD, size: 2 * MiB, pfn: head + 5 }, softleaf: null });
    expect(w.hardware).toEqual({ ok: true, pa: (head + 5) * PS + 0x123, level: PMD, pageSize: 2 * MiB, tlbSize: 2 * MiB, read: true, write: true, exec: false, user: true, young: true, dirty: true });
    // A new PMD THP is queued for the underused check; PageAnonExclusive lives on its head page only.
    expect(w.folio).toMatchObject({
      pfn: head + 5,
      head,
      order: 9,
      nid: 0,
      type: "anon",
      refcount: 1,
      mapcount: 1,
      largeMapcount: 1,
      entireMapcount: 1,
      pageMapcount: 0,
      pincount: 0,
      maybeDmaPinned: false,
      flags: ["uptodate", "lru", "swapbacked", "anon"],
      anonExclusive: false,
      hwpoison: false,
      index: a / PS,
      lru: "inactive_anon",
      deferredSplit: true,
      swapSlot: null,
    });
    expect(walkAddress(k, mm, a).folio).toMatchObject({ pfn: head, anonExclusive: true });

    const pad = (i: number) => String(i).padStart(3);
    expect(formatWalk(w)).toBe(
      [
        `pid 1 ${hex(addr)} on x86-64:4level: vma ${hex(a)}-${hex(a + 2 * MiB)} rw-p`,
        `pgd/p4d [${pad(idx[0]!)}] ${l0.raw}  P4D table -> ${hex(l1.tablePa)} user`,
        `pud     [${pad(idx[1]!)}] ${l1.raw}  PUD table -> ${hex(l2.tablePa)} user`,
        `pmd     [${pad(idx[2]!)}] ${l2.raw}  PMD 2M leaf pfn ${hex(head)} rw- user young dirty soft-dirty`,
        `ends: leaf at pmd mapping 2M, page pfn ${hex(head + 5)}`,
        `hardware: pa ${hex((head + 5) * PS + 0x123)}, 2M page, 2M TLB entry, rw- user young dirty`,
        `folio: head pfn ${hex(head)}, order 9, anon, node 0; page pfn ${hex(head + 5)} (+5)`,
        "  refcount 1, mapcount 1 (large 1, entire 1, page 0), pincount 0",
        "  flags: uptodate|lru|swapbacked|anon; page: -",
        "  lru: inactive_anon, deferred split: yes, swap slot: none",
        "",
      ].join("\n"),
    );
    // With fields, every named bit of each entry follows its line.
    expect(formatWalk(w, { fields: true })).toContain(`${l2.raw}  PMD 2M leaf pfn ${hex(head)} rw- user young dirty soft-dirty\n        0 _PAGE_PRESENT = 1: valid for the MMU\n`);
  });

  it("stops at a PUD leaf for a PUD THP", () => {
    const k = kernel(createX86_64Backend(), { memory: "4G" });
    k.thp.set("hugepages-1048576kB/enabled", "always");
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: GiB, prot: RW, flags: ANON });
    k.touch(mm, a, PS, true, 1);
    const w = walkAddress(k, mm, a + 3 * MiB);
    expect(w.levels.map((l) => l.ends)).toEqual(["table", "leaf"]);
    expect(w.hardware).toMatchObject({ ok: true, level: PUD, pageSize: GiB, tlbSize: GiB });
    expect(w.folio).toMatchObject({ order: 18, pageMapcount: 0, entireMapcount: 1, largeMapcount: 1, pfn: w.folio!.head + 768 });
    expect(formatWalk(w)).toContain("ends: leaf at pud mapping 1G, page pfn ");
  });
});

describe("the walk of PTE-mapped memory", () => {
  it("arm64 4K: a PTE of a 64K mTHP carries PTE_CONT and the MMU caches the whole run in one 64K entry", () => {
    const k = kernel(createArm64Backend("4k-48"));
    k.thp.set("enabled", "never");
    k.thp.set("hugepages-64kB/enabled", "always");
    const mm = k.createMm();
    const a = written(k, mm, 64 * KiB);
    const head = (mappedAt(k, mm, a) as { pfn: number }).pfn;
    const w = walkAddress(k, mm, a + 5 * PS);
    expect(w.levels.map((l) => [l.name, l.ends])).toEqual([
      ["pgd/p4d", "table"],
      ["pud", "table"],
      ["pmd", "table"],
      ["pte", "leaf"],
    ]);
    // Valid page, user, inner shareable, AF, nG; DBM (writable), CONT, PXN, UXN and the software dirty bit.
    expect(w.levels[3]!.raw).toBe(raw64((0xf8n << 48n) | (BigInt(head + 5) << 12n) | 0xf43n));
    expect(w.levels[3]!.fields.find((f) => f.name === "PTE_CONT")).toMatchObject({ lo: 52, hi: 52, value: 1 });
    expect(w.hardware).toMatchObject({ ok: true, level: PTE, pageSize: PS, tlbSize: 64 * KiB, pa: (head + 5) * PS });
    expect(w.folio).toMatchObject({ head, order: 4, refcount: 16, mapcount: 16, largeMapcount: 16, entireMapcount: 0, pageMapcount: 1, pincount: 0, anonExclusive: true, deferredSplit: false });
    expect(formatWalk(w)).toContain("hardware: pa " + hex((head + 5) * PS) + ", 4K page, 64K TLB entry, rw- user young dirty\n");
  });

  it("ppc8xx: two tables, 32-bit entries; 16K pages are 16K leaves", () => {
    for (const [variant, size, bits] of [["4k", 4 * KiB, 0x121], ["16k", 16 * KiB, 0x129]] as const) {
      const k = kernel(createPpc8xxBackend(variant), { memory: "64M" });
      const mm = k.createMm();
      const a = written(k, mm, 64 * KiB);
      const w = walkAddress(k, mm, a + 5 * PS);
      const pfn = (mappedAt(k, mm, a + 5 * PS) as { pfn: number }).pfn;
      expect(w.levels.map((l) => [l.name, l.ends])).toEqual([
        ["pgd/p4d/pud/pmd", "table"],
        ["pte", "leaf"],
      ]);
      // Present, accessed, dirty (and SPS for 16K) over the page's physical address.
      expect(w.levels[1]!.raw).toBe(raw32(pfn * size + bits));
      expect(w.leaf).toEqual({ level: PTE, size, pfn });
      // A 16K entry is four replicated 4-byte cells.
      expect(w.levels[1]!.entryPa).toBe(w.levels[1]!.tablePa + w.levels[1]!.index * (size / PS) * 4);
      expect(w.hardware).toMatchObject({ ok: true, pageSize: size, tlbSize: size, pa: pfn * size + ((a + 5 * PS) % size) });
      expect(w.folio).toMatchObject({ pfn, order: 0, refcount: 1, mapcount: 1, largeMapcount: null, entireMapcount: null, pincount: null, anonExclusive: true });
    }
  });

  it("shows the zero page, and a permission fault for a write to it", () => {
    const k = kernel();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 64 * KiB, prot: PROT_READ, flags: ANON });
    k.touch(mm, a, PS, false);
    const w = walkAddress(k, mm, a, { write: true });
    expect(w.leaf).toEqual({ level: PTE, size: PS, pfn: k.zeroPfn });
    expect(w.hardware).toEqual({ ok: false, fault: "permission", level: PTE, reason: "write to a read-only mapping (RW clear at some level)" });
    expect(w.folio).toMatchObject({ type: "zero", flags: ["reserved", "zero"], lru: null, mapcount: 0 });
  });
});

describe("the walk of softleaves", () => {
  it("ends at a swap entry with its slot; a page swapped back in shows its swap-cache slot", () => {
    const k = kernel(createX86_64Backend(), { memory: "64M", swap: "16M" });
    const mm = k.createMm();
    const a = written(k, mm, 64 * KiB);
    expect(k.madvise(mm, a, 32 * KiB, MADV.PAGEOUT).ok).toBe(true);
    const b = k.backend;
    const w = walkAddress(k, mm, a + PS);
    // Slot 0 is the swap header: the eight pages went to slots 1 to 8 in order.
    expect(w.levels[3]).toMatchObject({ name: "pte", kind: "softleaf", ends: "softleaf", raw: softleafHex(b, PTE, 0, 2, (v) => (b.swpMkExclusive(v, 0, PTE), b.swpMkSoftDirty(v, 0, PTE))) });
    expect(w.softleaf).toEqual({ type: "swap", swpType: 0, offset: 2, pfn: null, exclusive: true, softDirty: true, uffdWp: false, young: false, dirty: false, markers: [], swap: { count: 1, cached: -1 } });
    expect(w.hardware).toMatchObject({ ok: false, fault: "translation", level: PTE });
    expect(w.folio).toBeNull();
    expect(formatWalk(w)).toContain("ends: softleaf at pte: swap (swap type 0, offset 0x2), exclusive soft-dirty; swap_count 1, swap cache: none\n");

    // A child shares the entry; the parent's read brings the page into the swap cache and maps it.
    const child = k.fork(mm)!;
    expect(k.touch(mm, a + PS, PS, false).error).toBe(0);
    const p = walkAddress(k, mm, a + PS);
    expect(p.end).toBe("leaf");
    expect(p.folio).toMatchObject({ swapSlot: 2, mapcount: 1 });
    expect(p.folio!.flags).toContain("swapcache");
    const c = walkAddress(k, child, a + PS);
    expect(c.softleaf).toMatchObject({ type: "swap", offset: 2, swap: { count: 1, cached: p.folio!.head } });
    expect(c.folio).toMatchObject({ head: p.folio!.head, swapSlot: 2 });
  });

  it("ends at a migration entry held open: the source folio is locked, isolated and unmapped", () => {
    const k = kernel(createX86_64Backend(), { nodes: 2 });
    const mm = k.createMm();
    const a = written(k, mm, 64 * KiB);
    const src = (mappedAt(k, mm, a + 8 * PS) as { pfn: number }).pfn;
    const job = k.migrateRange(mm, a + 8 * PS, PS, 1, true);
    const w = walkAddress(k, mm, a + 8 * PS);
    expect(w.end).toBe("softleaf");
    expect(w.softleaf).toMatchObject({ type: "migration-write", swpType: 27, pfn: src, young: true, dirty: true, exclusive: false, swap: null });
    expect(w.folio).toMatchObject({ head: src, nid: 0, refcount: 1, mapcount: 0, lru: null, flags: ["locked", "uptodate", "dirty", "swapbacked", "anon", "isolated"] });
    expect(formatWalk(w)).toContain(`ends: softleaf at pte: migration-write (swap type 27, offset ${hex(w.softleaf!.offset)}), pfn ${hex(src)}, young dirty soft-dirty\n`);
    expect(k.finishMigration(job)).toBe(1);
    expect(walkAddress(k, mm, a + 8 * PS).folio).toMatchObject({ nid: 1, mapcount: 1, lru: "inactive_anon", anonExclusive: true });
  });

  it("ends at a PMD migration entry for a THP, reaching the page of the address", () => {
    const k = kernel(createX86_64Backend(), { nodes: 2 });
    const mm = k.createMm();
    const a = written(k, mm, 2 * MiB);
    const head = (mappedAt(k, mm, a) as { pfn: number }).pfn;
    const job = k.migrateRange(mm, a, 2 * MiB, 1, true);
    const w = walkAddress(k, mm, a + 3 * PS);
    expect(w.levels.map((l) => l.ends)).toEqual(["table", "table", "softleaf"]);
    expect(w.softleaf).toMatchObject({ type: "migration-write", pfn: head + 3 });
    expect(w.hardware).toMatchObject({ ok: false, fault: "translation", level: PMD });
    expect(w.folio).toMatchObject({ head, pfn: head + 3, order: 9, mapcount: 0, entireMapcount: 0, lru: null });
    k.finishMigration(job);
  });
});

describe("the walk of an unmapped address", () => {
  it("ends at the first none entry", () => {
    const k = kernel();
    const mm = k.createMm();
    const w = walkAddress(k, mm, 0x1000);
    expect(w).toMatchObject({ vma: null, end: "none", leaf: null, softleaf: null, folio: null, hardware: { ok: false, fault: "translation", level: P4D } });
    expect(formatWalk(w)).toBe(
      "pid 1 0x1000 on x86-64:4level: no vma\npgd/p4d [0] 0x0000000000000000  P4D none\nends: none at pgd/p4d\nhardware: translation fault at pgd/p4d: entry is none\nfolio: none\n",
    );
    // Inside a VMA, next to a mapped page: the walk reaches the PTE table and ends at the none PTE.
    const a = written(k, mm, PS);
    const v = mapOk(k, mm, { len: 64 * KiB, prot: RW, flags: ANON });
    expect(v + 64 * KiB).toBe(a);
    const n = walkAddress(k, mm, v);
    expect(n.levels.map((l) => [l.name, l.ends])).toEqual([
      ["pgd/p4d", "table"],
      ["pud", "table"],
      ["pmd", "table"],
      ["pte", "none"],
    ]);
    expect(n).toMatchObject({ vma: { start: v, end: a + PS, perms: "rw-p" }, end: "none", folio: null });
  });
});

describe("walk bad input", () => {
  it("names a bad address and an exited process", () => {
    const k = kernel(createX86_64Backend(), { memory: "64M" });
    const mm = k.createMm();
    expect(() => walkAddress(k, mm, -4096)).toThrow("invalid address -4096: expected a user address in [0, 0x800000000000)");
    expect(() => walkAddress(k, mm, 2 ** 47)).toThrow("invalid address 140737488355328 (0x800000000000): expected a user address in [0, 0x800000000000)");
    expect(() => walkAddress(k, mm, 1.5)).toThrow("invalid address 1.5");
    k.exit(mm);
    expect(() => walkAddress(k, mm, 0)).toThrow("invalid process 1: expected a live process of this kernel");
  });
});
