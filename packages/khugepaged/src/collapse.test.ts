import { PMD, PTE, entryRegs } from "@hugemm/arch";
import { EV, FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE, MAP_ANONYMOUS, MAP_PRIVATE, MS, MTHP_STRIDE, NS, PG_hwpoison, PG_locked, PROT_READ, PROT_WRITE, Slot, WALK_OK, type Kernel, type Mm } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { collapseHugePageSteps, type CollapseStep } from "./collapse-huge-page";
import { SCAN, scanName } from "./scan-result";
import { KB4, MADV, MB2, anon, machine, madvise, type TestMachine } from "./test-kernel";

const R = entryRegs(1);

/** The PTE-level entry mapping `addr`, or null where there is no PTE table. */
function pteAt(k: Kernel, mm: Mm, addr: number): { present: boolean; cont: boolean } | null {
  const slot = new Slot();
  if (mm.walker.find(addr, PTE, false, slot) !== WALK_OK) return null;
  k.backend.getEntry(slot.table, slot.index, PTE, R, 0);
  return { present: k.backend.present(R, 0, PTE), cont: k.backend.cont(R, 0, PTE) };
}

function pmdNone(k: Kernel, mm: Mm, addr: number): boolean {
  const slot = new Slot();
  mm.walker.find(addr, PMD, false, slot);
  k.backend.readEntry(slot.table, slot.index, PMD, R, 0);
  return k.backend.none(R, 0, PMD);
}

/** A registered mm with `pmds` PMD ranges written whole. */
function populated(t: TestMachine, pmds = 1): number {
  const a = anon(t, pmds * MB2);
  t.k.touch(t.mm, a, pmds * MB2, true, 3);
  madvise(t, a, pmds * MB2, MADV.HUGEPAGE);
  return a;
}

/** Run collapse_huge_page by steps, noting the locks held at each. */
function stepped(t: TestMachine, addr: number, order: number, at?: (step: CollapseStep) => void): { steps: [CollapseStep, string[]][]; result: number } {
  const steps: [CollapseStep, string[]][] = [];
  const result = t.k.op("collapse", () => {
    const it = collapseHugePageSteps(t.k, t.mm, t.kh.cc, addr, 1, 0, order);
    for (;;) {
      const r = it.next();
      if (r.done === true) return r.value;
      steps.push([r.value, t.k.locks.held.map((l) => `${l.cls}${l.holders < 0 ? "(w)" : ""}`)]);
      at?.(r.value);
    }
  });
  return { steps, result };
}

describe("collapse_huge_page, step by step", () => {
  it("PMD order: the kernel's locks in the kernel's order, the anon_vma lock dropped once the table is isolated", () => {
    const t = machine();
    const a = populated(t);
    const { steps, result } = stepped(t, a, 9, (s) => {
      if (s === "pmd-flushed") expect(pmdNone(t.k, t.mm, a)).toBe(true);
    });
    expect(scanName(result)).toBe("succeed");
    expect(steps).toEqual([
      ["allocated", []],
      ["revalidated", ["mmap"]],
      ["mmap-write-locked", ["mmap(w)"]],
      ["anon-vma-locked", ["mmap(w)", "vma(w)", "anonVma(w)"]],
      ["pmd-flushed", ["mmap(w)", "vma(w)", "anonVma(w)"]],
      ["isolated", ["mmap(w)", "vma(w)", "anonVma(w)"]],
      ["anon-vma-unlocked", ["mmap(w)", "vma(w)"]],
      ["copied", ["mmap(w)", "vma(w)"]],
      ["mapped", ["mmap(w)", "vma(w)"]],
    ]);
  });

  it("mTHP order: the anon_vma lock is kept until the table is back and the folio mapped", () => {
    const t = machine("arm64:4k", { enabled: "never" });
    t.k.thp.set("hugepages-64kB/enabled", "madvise");
    const a = populated(t);
    const { steps, result } = stepped(t, a + 64 * KB4, 4);
    expect(result).toBe(SCAN.SUCCEED);
    expect(steps.map(([s]) => s)).toEqual(["allocated", "revalidated", "mmap-write-locked", "anon-vma-locked", "pmd-flushed", "isolated", "copied", "mapped"]);
    expect(steps.find(([s]) => s === "copied")![1]).toEqual(["mmap(w)", "vma(w)", "anonVma(w)"]);
    // set_ptes of the aligned 64K folio folded into a contiguous run; its neighbours are untouched 4K PTEs.
    expect(pteAt(t.k, t.mm, a + 64 * KB4)).toEqual({ present: true, cont: true });
    expect(pteAt(t.k, t.mm, a + 79 * KB4)).toEqual({ present: true, cont: true });
    expect(pteAt(t.k, t.mm, a + 80 * KB4)).toEqual({ present: true, cont: false });
    expect(t.k.mthpStats[4 * MTHP_STRIDE + MS.collapse_alloc]).toBe(1);
  });

  it("revalidates after each dropped lock: an unmapped VMA ends the collapse with SCAN_VMA_NULL", () => {
    const t = machine();
    const a = populated(t);
    const { result } = stepped(t, a, 9, (s) => {
      // Nothing is held between allocating and taking mmap_lock: another thread may unmap the range.
      if (s === "allocated") t.k.munmap(t.mm, a, MB2);
    });
    expect(scanName(result)).toBe("vma_null");
    expect(t.k.events[EV.thp_collapse_alloc]).toBe(1);
  });

  it("a VMA that no longer spans the PMD is SCAN_ADDRESS_RANGE; THP disabled for the process is SCAN_ANY_PROCESS", () => {
    const t = machine();
    const a = populated(t, 2);
    expect(scanName(stepped(t, a, 9, (s) => s === "allocated" && void t.k.munmap(t.mm, a + MB2 - KB4, KB4)).result)).toBe("address_range");
    expect(scanName(stepped(t, a + MB2, 9, (s) => s === "allocated" && void (t.mm.flags |= 2)).result)).toBe("any_process");
  });
});

describe("collapse_huge_page against another thread at its lock points", () => {
  /** The head of the folio mapped at `addr`. */
  function folioAt(t: TestMachine, addr: number): number {
    const slot = new Slot();
    t.mm.walker.find(addr, PTE, false, slot);
    t.k.backend.readEntry(slot.table, slot.index, PTE, R, 0);
    return t.k.folios.head(t.k.backend.pfn(R, 0, PTE));
  }

  it("MADV_NOHUGEPAGE while the lock was dropped: SCAN_VMA_CHECK", () => {
    const t = machine();
    const a = populated(t);
    expect(scanName(stepped(t, a, 9, (s) => s === "allocated" && void madvise(t, a, MB2, MADV.NOHUGEPAGE)).result)).toBe("vma_check");
  });

  it("a folio locked by someone else: SCAN_PAGE_LOCK, and everything isolated so far put back", () => {
    const t = machine();
    const a = populated(t);
    const head = folioAt(t, a + 100 * KB4);
    const { result } = stepped(t, a, 9, (s) => {
      if (s === "revalidated") t.k.folios.set(head, PG_locked);
    });
    expect(scanName(result)).toBe("page_lock");
    t.k.folios.clear(head, PG_locked);
    expect(t.k.phys.nodeStats(0)[NS.nr_isolated_anon]).toBe(0);
    expect(pteAt(t.k, t.mm, a)).toEqual({ present: true, cont: false });
  });
});

describe("SCAN results of a PMD range", () => {
  /** khugepaged's result for the first range of a freshly written, registered mapping after `prepare`. */
  function khugepagedResult(prepare: (t: TestMachine, a: number) => void, t = machine()): string {
    const a = populated(t);
    prepare(t, a);
    const r = t.kh.run({ scans: 1 }, true);
    return scanName(r.ranges[0]!.result);
  }

  it("no PTE table, PMD-mapped, and the three limits", () => {
    const t = machine();
    const a = anon(t, 2 * MB2);
    t.k.touch(t.mm, a + MB2, KB4, true, 1);
    madvise(t, a, 2 * MB2, MADV.HUGEPAGE);
    t.kh.s.set("max_ptes_none", "0");
    expect(t.kh.run({ scans: 1 }, true).ranges.map((x) => scanName(x.result))).toEqual(["no_pte_table", "exceed_none_pte"]);
    t.kh.s.set("max_ptes_none", "511");
    t.kh.run({ passes: 2 });
    expect(t.kh.run({ passes: 1 }, true).ranges.map((x) => scanName(x.result))).toEqual(["no_pte_table", "pmd_mapped"]);
  });

  it("PTEs not referenced since MADV_COLD: SCAN_LACK_REFERENCED_PAGE for khugepaged, not for MADV_COLLAPSE", () => {
    expect(khugepagedResult((t, a) => madvise(t, a, MB2, MADV.COLD))).toBe("lack_referenced_page");
    const t = machine();
    const a = populated(t);
    madvise(t, a, MB2, MADV.COLD);
    expect(madvise(t, a, MB2, MADV.COLLAPSE)).toBe(0);
  });

  it("lazily freed pages: SCAN_PAGE_LAZYFREE for khugepaged; MADV_COLLAPSE keeps them", () => {
    expect(khugepagedResult((t, a) => madvise(t, a, MB2, MADV.FREE))).toBe("page_lazyfree");
    const t = machine();
    const a = populated(t);
    madvise(t, a, MB2, MADV.FREE);
    expect(madvise(t, a, MB2, MADV.COLLAPSE)).toBe(0);
  });

  it("a pinned page: SCAN_PAGE_COUNT", () => {
    const t = machine();
    let pin: ReturnType<Kernel["gup"]> | undefined;
    expect(khugepagedResult((_, a) => void (pin = t.k.gup(t.mm, a + 5 * KB4, 1, FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM)), t)).toBe("page_count");
    t.k.unpin(pin!, FOLL_PIN);
    expect(scanName(t.kh.run({ scans: 1 }, true).ranges[0]!.result)).toBe("succeed");
  });

  it("MADV_COLLAPSE of a range inside one PMD is EINVAL, of one ending on a PMD boundary a no-op success (as measured on Linux 6.18)", () => {
    const t = machine();
    const a = populated(t);
    const inside = t.k.madvise(t.mm, a + 256 * KB4, 128 * KB4, MADV.COLLAPSE);
    expect(inside.ok ? 0 : inside.errno).toBe("EINVAL");
    expect(t.k.madvise(t.mm, a + 256 * KB4, 256 * KB4, MADV.COLLAPSE).ok).toBe(true);
    expect(t.k.events[EV.thp_collapse_alloc]).toBe(0);
  });

  it("a page under a held migration: its migration entry counts as swap at scan, and isolation finds it non-present", () => {
    const t = machine("x86-64", { memory: "512M", nodes: 2 });
    const a = anon(t, MB2);
    t.k.touch(t.mm, a, MB2, true, 1);
    madvise(t, a, MB2, MADV.HUGEPAGE);
    const job = t.k.migrateRange(t.mm, a + 7 * KB4, KB4, 1, true);
    const r = t.k.madvise(t.mm, a, MB2, MADV.COLLAPSE);
    expect(r.ok ? 0 : r.errno).toBe("EINVAL");
    expect(t.kh.madv.counters.results[SCAN.PTE_NON_PRESENT]).toBe(1);
    t.k.finishMigration(job);
    expect(t.k.madvise(t.mm, a, MB2, MADV.COLLAPSE).ok).toBe(true);
  });

  it("a poisoned source page: SCAN_COPY_MC, the table back in place, every page kept", () => {
    const t = machine();
    const a = populated(t);
    const slot = new Slot();
    t.mm.walker.find(a + 9 * KB4, PTE, false, slot);
    t.k.backend.readEntry(slot.table, slot.index, PTE, R, 0);
    const pfn = t.k.backend.pfn(R, 0, PTE);
    t.k.folios.pageSet(pfn, PG_hwpoison, true);
    const r = t.k.madvise(t.mm, a, MB2, MADV.COLLAPSE);
    expect(r.ok ? 0 : r.errno).toBe("EINVAL");
    expect(t.kh.madv.counters.results[SCAN.COPY_MC]).toBe(1);
    expect(pteAt(t.k, t.mm, a)).toEqual({ present: true, cont: false });
    expect(t.k.peek(t.mm, a + 10 * KB4)).not.toBe(-1);
    t.k.folios.pageSet(pfn, PG_hwpoison, false);
  });

  it("no memory for the folio: SCAN_ALLOC_HUGE_PAGE_FAIL, ENOMEM for MADV_COLLAPSE, the back-off sleep for khugepaged", () => {
    const t = machine("x86-64", { memory: "32M", swap: "0" });
    const a = anon(t, 4 * MB2);
    t.k.touch(t.mm, a, 4 * MB2, true, 1);
    madvise(t, a, 4 * MB2, MADV.HUGEPAGE);
    // Fill the rest of memory with 4K pages, 1M at a time, until a fault runs out.
    for (let i = 0; i < 64; i++) {
      const m = t.k.mmap(t.mm, { addr: 0, len: 1 << 20, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
      if (!m.ok || t.k.touch(t.mm, m.value, 1 << 20, true, 2).error !== 0) break;
    }
    const r = t.k.madvise(t.mm, a, MB2, MADV.COLLAPSE);
    expect(r.ok ? 0 : r.errno).toBe("ENOMEM");
    expect(t.k.events[EV.thp_collapse_alloc_failed]).toBeGreaterThan(0);
    t.kh.s.set("alloc_sleep_millisecs", "500");
    t.kh.s.set("scan_sleep_millisecs", "100");
    t.kh.run({ scans: 1 });
    expect(t.kh.allocSleeps).toBe(1);
    expect(t.kh.clockMs).toBe(600);
  });
});
