import type { ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { checkInvariants } from "../check/invariants";
import { VM_FAULT_SIGSEGV } from "../fault/codes";
import { mixTag } from "../folio/contents";
import { FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE } from "../gup/gup";
import type { Mm } from "../mm/mm";
import { MADV, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { EV, NS } from "../stats/counters";
import { Kernel } from "./kernel";

/** Each backend with a memory size of whole pageblocks on two nodes (arm64 64K pageblocks are 512 MiB). */
const BACKENDS: [string, () => ArchBackend, string][] = [
  ["x86-64", () => createX86_64Backend(), "256M"],
  ["arm64 4k", () => createArm64Backend("4k-48"), "256M"],
  ["arm64 64k", () => createArm64Backend("64k-48"), "1G"],
  ["ppc8xx 4k", () => createPpc8xxBackend("4k"), "256M"],
  ["ppc8xx 16k", () => createPpc8xxBackend("16k"), "256M"],
];

const RW = PROT_READ | PROT_WRITE;

/** The contents a store with `seed` left at `va` (touch writes mixTag(seed, page number)). */
function tagAt(k: Kernel, seed: number, va: number): number {
  return mixTag(seed, va / k.pageSize);
}

function expectContents(k: Kernel, mm: Mm, start: number, pages: number, expected: (va: number) => number): void {
  for (let i = 0; i < pages; i++) {
    const va = start + i * k.pageSize;
    expect(k.peek(mm, va), `contents at 0x${va.toString(16)} of pid ${mm.id}`).toBe(expected(va));
  }
}

function ok<T>(r: { ok: true; value: T } | { ok: false; errno: string; reason: string }): T {
  if (!r.ok) throw new Error(`${r.errno}: ${r.reason}`);
  return r.value;
}

describe.each(BACKENDS)("a process's life on %s", (_name, make, memory) => {
  it("maps, forks, copies on write, swaps, protects, moves, pins, migrates and exits without leaking", () => {
    const k = new Kernel({ backend: make(), memory, nodes: 2, swap: "32M", check: true });
    const ps = k.pageSize;
    const free0 = k.phys.freePagesWithPcp;
    const N = 64;
    const parent = k.createMm();

    // Private anonymous memory written with one pattern.
    const a = ok(k.mmap(parent, { len: N * ps, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS }));
    expect(k.touch(parent, a, N * ps, true, 1).error).toBe(0);
    expectContents(k, parent, a, N, (va) => tagAt(k, 1, va));

    // Shared anonymous memory (shmem underneath).
    const s = ok(k.mmap(parent, { len: 8 * ps, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS }));
    expect(k.touch(parent, s, 8 * ps, true, 2).error).toBe(0);

    // A private file mapping: reads share the page cache, writes copy.
    const file = k.createFile("data", 16 * ps);
    const m = ok(k.mmap(parent, { len: 16 * ps, prot: RW, flags: MAP_PRIVATE, file }));
    expect(k.touch(parent, m, 16 * ps, false).error).toBe(0);
    const fileTag = k.peek(parent, m);
    expect(k.touch(parent, m, 4 * ps, true, 3).error).toBe(0);
    expect(k.phys.nodeStats(0)[NS.nr_file_pages]! + k.phys.nodeStats(1)[NS.nr_file_pages]!).toBeGreaterThanOrEqual(16);

    // Page out half of the private memory; reading it back swaps it in intact.
    const out0 = k.events[EV.pswpout]!;
    ok(k.madvise(parent, a + 32 * ps, 32 * ps, MADV.PAGEOUT));
    expect(k.events[EV.pswpout]! - out0).toBe(32);
    expect(k.peek(parent, a + 40 * ps)).toBe(-1);
    const back = k.touch(parent, a + 32 * ps, 16 * ps, false);
    expect(back.error).toBe(0);
    expect(back.majorFaults).toBeGreaterThan(0);
    expectContents(k, parent, a, 48, (va) => tagAt(k, 1, va));

    // fork: the child sees the parent's data; its writes are its own, except in shared memory.
    const child = k.fork(parent)!;
    expect(child).not.toBeNull();
    // Pages still in swap are shared through their swap entries; reading them in gives both the same data.
    expect(k.touch(child, a, N * ps, false).error).toBe(0);
    expectContents(k, child, a, N, (va) => tagAt(k, 1, va));
    expect(k.touch(child, a, 8 * ps, true, 4).error).toBe(0);
    expectContents(k, child, a, 8, (va) => tagAt(k, 4, va));
    expectContents(k, parent, a, 8, (va) => tagAt(k, 1, va));
    expect(k.touch(child, s, 8 * ps, true, 5).error).toBe(0);
    expectContents(k, parent, s, 8, (va) => tagAt(k, 5, va));
    expect(k.touch(child, m + 8 * ps, ps, false).error).toBe(0);
    expect(k.peek(child, m + 8 * ps)).toBe(k.peek(parent, m + 8 * ps));
    expect(k.touch(child, m, 4 * ps, false).error).toBe(0);
    expectContents(k, child, m, 4, (va) => tagAt(k, 3, va));
    expect(fileTag).not.toBe(tagAt(k, 3, m));

    // The second half is shared with the child now: MADV_PAGEOUT leaves shared folios alone.
    const out1 = k.events[EV.pswpout]!;
    ok(k.madvise(parent, a + 32 * ps, 32 * ps, MADV.PAGEOUT));
    expect(k.events[EV.pswpout]).toBe(out1);

    // Read-only: stores fault with SIGSEGV until the protection is restored.
    ok(k.mprotect(parent, a, 16 * ps, PROT_READ));
    expect(k.touch(parent, a, ps, true).error).toBe(VM_FAULT_SIGSEGV);
    ok(k.mprotect(parent, a, 16 * ps, RW));
    expect(k.touch(parent, a, ps, true, 1).error).toBe(0);

    // Move the last quarter elsewhere: the data travels with it.
    const target = a + 256 * ps;
    const moved = ok(k.mremap(parent, a + 48 * ps, 16 * ps, 16 * ps, MREMAP_MAYMOVE | MREMAP_FIXED, target));
    expect(moved).toBe(target);
    // Some of these pages were still in swap: their swap entries moved too.
    expect(k.touch(parent, moved, 16 * ps, false).error).toBe(0);
    expectContents(k, parent, moved, 16, (va) => tagAt(k, 1, va - moved + a + 48 * ps));
    expect(k.peek(parent, a + 48 * ps)).toBe(-1);

    // A long-term pin: a later fork copies the pinned pages instead of sharing them.
    const pin = k.gup(parent, a + 16 * ps, 4, FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM);
    expect(pin.pages.length).toBe(4);
    const child2 = k.fork(parent)!;
    expect(k.touch(child2, a + 16 * ps, 4 * ps, true, 6).error).toBe(0);
    expectContents(k, parent, a + 16 * ps, 4, (va) => tagAt(k, 1, va));
    k.unpin(pin, FOLL_PIN, true);

    // Migrate the parent's first half to node 1.
    const job = k.migrateRange(parent, a, 32 * ps, 1);
    expect(job.moved).toBeGreaterThan(0);
    expectContents(k, parent, a, 32, (va) => tagAt(k, 1, va));
    expect(checkInvariants(k, "workload")).toEqual([]);

    // Everyone exits: only the regular file's page cache stays.
    k.exit(child2);
    k.exit(child);
    k.exit(parent);
    let anon = 0;
    let tables = 0;
    let filePages = 0;
    for (const nid of [0, 1]) {
      const st = k.phys.nodeStats(nid);
      anon += st[NS.nr_anon_pages]!;
      tables += st[NS.nr_page_table_pages]!;
      filePages += st[NS.nr_file_pages]!;
    }
    expect(anon).toBe(0);
    expect(tables).toBe(0);
    expect(k.tables.count).toBe(0);
    expect(filePages).toBe(file.nrpages);
    expect(k.swap.freePages).toBe(k.swap.totalPages);
    expect(k.phys.freePagesWithPcp + filePages).toBe(free0);
  });
});
