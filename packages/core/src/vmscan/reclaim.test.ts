import { folioBatchContents, lruAddDrain } from "../folio/lru-batch";
import type { ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS } from "../mm/counters";
import { Vma } from "../mm/vma";
import { VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE } from "../mm/vm-flags";
import type { Mm } from "../mm/mm";
import { PG_swapbacked } from "../phys/page-flags";
import { EV, NS } from "../stats/counters";
import { insertAnonVma } from "../testing/vma";
import { allocContig } from "../migrate/contig";
import { madvColdOrPageout, madvFree } from "./madvise";

const MiB = 2 ** 20;
const BASE = 0x4000_0000;

function fileVma(k: Kernel, mm: Mm, start: number, len: number, as: ReturnType<Kernel["createFile"]>, shared: boolean): Vma {
  const v = new Vma(mm.id, start, start + len, VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | (shared ? VM_SHARED | VM_MAYSHARE : 0), 0);
  v.file = as;
  as.iMmap.add(v);
  mm.vmas.insert(v);
  return v;
}

const BACKENDS: [string, () => ArchBackend][] = [
  ["x86-64", () => createX86_64Backend()],
  ["arm64 4K", () => createArm64Backend("4k-48")],
  ["ppc8xx", () => createPpc8xxBackend("4k")],
];

for (const [name, make] of BACKENDS) {
  describe(`reclaim and swap on ${name}`, () => {
    it("MADV_PAGEOUT swaps pages out; reading them back swaps them in intact and exclusive", () => {
      const k = new Kernel({ backend: make(), memory: "64M", swap: "16M", check: true });
      const ps = k.pageSize;
      const mm = k.createMm();
      const vma = insertAnonVma(k, mm, BASE, 64 * ps);
      k.touch(mm, BASE, 64 * ps, true, 21);
      const tags = Array.from({ length: 64 }, (_, i) => k.peek(mm, BASE + i * ps));
      const freed = madvColdOrPageout(k, mm, vma, BASE, BASE + 64 * ps, true);
      expect(freed).toBe(64);
      expect(mm.rss[MM_ANONPAGES]).toBe(0);
      expect(mm.rss[MM_SWAPENTS]).toBe(64);
      expect(k.events[EV.pswpout]).toBe(64);
      expect(k.swap.freePages).toBe(k.swap.totalPages - 64);
      expect(k.peek(mm, BASE)).toBe(-1);
      const r = k.touch(mm, BASE, 64 * ps, false);
      expect(r).toMatchObject({ faults: 64, majorFaults: 64, error: 0 });
      expect(k.events[EV.pswpin]).toBe(64);
      for (let i = 0; i < 64; i++) expect(k.peek(mm, BASE + i * ps)).toBe(tags[i]);
      // Exclusive swap entries come back writable: no write faults.
      expect(k.touch(mm, BASE, 64 * ps, true).faults).toBe(0);
      expect(mm.rss[MM_SWAPENTS]).toBe(0);
      k.exit(mm);
      expect(k.swap.freePages).toBe(k.swap.totalPages);
    });

    it("shares swap entries across fork and swaps them in separately", () => {
      const k = new Kernel({ backend: make(), memory: "64M", swap: "16M", check: true });
      const ps = k.pageSize;
      const mm = k.createMm();
      const vma = insertAnonVma(k, mm, BASE, 8 * ps);
      k.touch(mm, BASE, 8 * ps, true, 4);
      const tag = k.peek(mm, BASE);
      madvColdOrPageout(k, mm, vma, BASE, BASE + 8 * ps, true);
      const child = k.fork(mm)!;
      expect(child.rss[MM_SWAPENTS]).toBe(8);
      const off = k.swap.device!;
      expect([...Array(8).keys()].map((i) => off.count(i + 1))).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
      k.touch(child, BASE, ps, false);
      expect(k.peek(child, BASE)).toBe(tag);
      // The parent's entry is no longer exclusive: its write after swap-in copies or reuses as do_wp_page decides.
      k.touch(mm, BASE, ps, true, 77);
      expect(k.peek(mm, BASE)).not.toBe(tag);
      expect(k.peek(child, BASE)).toBe(tag);
      k.exit(child);
      k.exit(mm);
      expect(k.swap.freePages).toBe(k.swap.totalPages);
    });

    it("reclaims under memory pressure: touching more than memory swaps the excess", () => {
      const k = new Kernel({ backend: make(), memory: "32M", swap: "32M", check: true });
      const ps = k.pageSize;
      const mm = k.createMm();
      const pages = Math.floor((40 * MiB) / ps);
      insertAnonVma(k, mm, BASE, pages * ps);
      const r = k.touch(mm, BASE, pages * ps, true, 8);
      expect(r.error).toBe(0);
      expect(k.events[EV.pswpout]).toBeGreaterThan(0);
      expect(mm.rss[MM_ANONPAGES]! + mm.rss[MM_SWAPENTS]!).toBe(pages);
      // Everything reads back.
      for (let i = 0; i < pages; i += Math.max(1, Math.floor(pages / 64))) {
        k.touch(mm, BASE + i * ps, ps, false);
        expect(k.peek(mm, BASE + i * ps)).not.toBe(0);
      }
      k.exit(mm);
    });

    it("discards lazy-free pages at reclaim unless they were written again", () => {
      const k = new Kernel({ backend: make(), memory: "64M", swap: "16M", check: true });
      const ps = k.pageSize;
      const mm = k.createMm();
      const vma = insertAnonVma(k, mm, BASE, 16 * ps);
      k.touch(mm, BASE, 16 * ps, true, 2);
      madvFree(k, mm, vma, BASE, BASE + 16 * ps);
      // Small folios wait in the per-CPU lru_lazyfree batch: still swap-backed, on the anon list.
      expect(k.events[EV.pglazyfree]).toBe(0);
      expect(folioBatchContents(k).lazyfree.length).toBe(16);
      lruAddDrain(k);
      expect(k.events[EV.pglazyfree]).toBe(16);
      expect(k.phys.nodeStats(0)[NS.nr_inactive_file]).toBe(16);
      // Write two pages again: they must survive.
      k.touch(mm, BASE, 2 * ps, true, 3);
      k.reclaim(1000);
      expect(k.events[EV.pglazyfreed]).toBe(14);
      expect(k.events[EV.pswpout]).toBe(0);
      expect(mm.rss[MM_ANONPAGES]).toBe(2);
      // A discarded page refaults as zeroes.
      expect(k.touch(mm, BASE + 5 * ps, ps, false).faults).toBe(1);
      expect(k.peek(mm, BASE + 5 * ps)).toBe(0);
      expect(k.peek(mm, BASE)).not.toBe(0);
      k.exit(mm);
    });

    it("counts no page isolated once reclaim is done, lazy-free pages written again included", () => {
      const k = new Kernel({ backend: make(), memory: "64M", swap: "16M", check: true });
      const ps = k.pageSize;
      const mm = k.createMm();
      const vma = insertAnonVma(k, mm, BASE, 16 * ps);
      const isolated = () => [k.phys.nodeStats(0)[NS.nr_isolated_anon], k.phys.nodeStats(0)[NS.nr_isolated_file]];
      k.touch(mm, BASE, 16 * ps, true, 2);
      madvFree(k, mm, vma, BASE, BASE + 16 * ps);
      // Isolated from the file list as lazy-free, found dirty, put back as swap-backed anon.
      k.touch(mm, BASE, 2 * ps, true, 3);
      k.reclaim(1000);
      expect(isolated()).toEqual([0, 0]);
      madvFree(k, mm, vma, BASE, BASE + 2 * ps);
      k.touch(mm, BASE, ps, true, 4);
      madvColdOrPageout(k, mm, vma, BASE, BASE + 2 * ps, true);
      expect(isolated()).toEqual([0, 0]);
      expect(k.peek(mm, BASE)).not.toBe(0);
      k.exit(mm);
    });

    it("drops clean file pages, writes back dirty ones, and swaps shmem", () => {
      const k = new Kernel({ backend: make(), memory: "64M", swap: "16M", check: true });
      const ps = k.pageSize;
      const mm = k.createMm();
      const file = k.createFile("data.bin", 32 * ps, { seed: 5 });
      const shm = k.createFile("/dev/shm/x", 8 * ps, { shmem: true });
      fileVma(k, mm, BASE, 32 * ps, file, true);
      fileVma(k, mm, BASE + 64 * MiB, 8 * ps, shm, true);
      const r = k.touch(mm, BASE, 32 * ps, false);
      expect(r.majorFaults).toBeGreaterThan(0);
      expect(mm.rss[MM_FILEPAGES]).toBe(32);
      const orig = k.peek(mm, BASE + ps);
      k.touch(mm, BASE, ps, true, 66);
      const written = k.peek(mm, BASE);
      k.touch(mm, BASE + 64 * MiB, 8 * ps, true, 67);
      const shmTag = k.peek(mm, BASE + 64 * MiB);
      // Unmap everything, then reclaim: the caches must give up their pages.
      k.exit(mm);
      expect(k.phys.nodeStats(0)[NS.nr_file_pages]).toBe(40);
      k.reclaim(100);
      expect(k.phys.nodeStats(0)[NS.nr_file_pages]).toBe(0);
      expect(file.disk.get(0)).toBe(written);
      expect(shm.swapped.size).toBe(8);
      // Read back through a new mapping.
      const mm2 = k.createMm();
      fileVma(k, mm2, BASE, 32 * ps, file, true);
      fileVma(k, mm2, BASE + 64 * MiB, 8 * ps, shm, true);
      k.touch(mm2, BASE, 2 * ps, false);
      expect(k.peek(mm2, BASE)).toBe(written);
      expect(k.peek(mm2, BASE + ps)).toBe(orig);
      k.touch(mm2, BASE + 64 * MiB, ps, false);
      expect(k.peek(mm2, BASE + 64 * MiB)).toBe(shmTag);
      expect(mm2.rss[MM_SHMEMPAGES]).toBe(1);
      const shmFolio = k.pagecache.lookup(shm, 0);
      expect(k.folios.test(shmFolio, PG_swapbacked)).toBe(true);
      k.exit(mm2);
    });
  });
}

describe("compaction and contiguous allocation", () => {
  it("compaction moves scattered movable pages so a large block frees up", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", check: true });
    const mm = k.createMm();
    // Fill memory with pages, then free every other one: no order-9 block is left.
    const pages = 16000;
    insertAnonVma(k, mm, BASE, pages * 4096);
    expect(k.touch(mm, BASE, pages * 4096, true, 1).error).toBe(0);
    for (let i = 0; i < pages; i += 2) madvFree(k, mm, mm.vmas.lookup(BASE)!, BASE + i * 4096, BASE + (i + 1) * 4096);
    k.reclaim(pages);
    k.phys.drainPcp();
    const before = k.phys.zones[0]!.largestFreeOrder();
    expect(before).toBeLessThan(9);
    k.compactMemory();
    expect(k.phys.zones[0]!.largestFreeOrder()).toBeGreaterThanOrEqual(9);
    expect(k.events[EV.pgmigrate_success]).toBeGreaterThan(0);
    expect(k.events[EV.compact_migrate_scanned]).toBeGreaterThan(0);
    // Nothing was lost.
    expect(mm.rss[MM_ANONPAGES]).toBe(pages / 2);
    // The data moved with the pages.
    expect(k.peek(mm, BASE + 4096)).not.toBe(0);
    k.exit(mm);
  });
  it("allocates a block above MAX_PAGE_ORDER, moving the folios in its way", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", check: true });
    const mm = k.createMm();
    insertAnonVma(k, mm, BASE, 6000 * 4096);
    k.touch(mm, BASE, 6000 * 4096, true, 31);
    const tags = [0, 1000, 4500, 5999].map((i) => k.peek(mm, BASE + i * 4096));
    const before = k.events[EV.pgmigrate_success]!;
    const pfn = allocContig(k, 12, 0);
    expect(pfn).toBeGreaterThanOrEqual(0);
    expect(pfn % 4096).toBe(0);
    expect(k.events[EV.pgmigrate_success]).toBeGreaterThan(before);
    // Nothing of the process lives in the block any more, and its data survived the moves.
    for (const head of k.folios.heads()) expect(head < pfn || head >= pfn + 4096).toBe(true);
    expect([0, 1000, 4500, 5999].map((i) => k.peek(mm, BASE + i * 4096))).toEqual(tags);
    k.phys.freePages(pfn, 12);
    k.exit(mm);
  });
});
