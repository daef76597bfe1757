import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { MADV, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { EV } from "../stats/counters";
import { smaps } from "../stats/smaps";
import { mapOk } from "../testing/vma";
import { FOLIO_BATCH_SIZE, folioBatchContents, lruAddDrain } from "./lru-batch";

const KiB = 1024;

function setup(thp: "never" | "always") {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "256M", nodes: 2, check: true });
  k.thp.set("enabled", thp);
  const mm = k.createMm();
  const a = mapOk(k, mm, { len: 4 * 1024 * KiB, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  const h = a + ((2048 * KiB - (a % (2048 * KiB))) % (2048 * KiB));
  return { k, mm, h };
}

const lazyFreeKb = (k: Kernel, mm: ReturnType<Kernel["createMm"]>) => smaps(k, mm).entries.reduce((n, e) => n + e.stats.lazyfree / 1024, 0);

describe("per-CPU LRU batches", () => {
  it("MADV_FREE of small folios waits in lru_lazyfree: LazyFree and pglazyfree move at the drain", () => {
    const { k, mm, h } = setup("never");
    k.touch(mm, h, 64 * KiB, true, 1);
    expect(k.madvise(mm, h, 16 * KiB, MADV.FREE).ok).toBe(true);
    expect([lazyFreeKb(k, mm), k.events[EV.pglazyfree]]).toEqual([0, 0]);
    expect(folioBatchContents(k).lazyfree.length).toBe(4);
    // The batch holds a reference on each folio; the checker accounts it.
    lruAddDrain(k);
    expect([lazyFreeKb(k, mm), k.events[EV.pglazyfree]]).toEqual([16, 4]);
    expect(folioBatchContents(k).lazyfree.length).toBe(0);
  });

  it("a large folio moves at once, taking the small ones queued before it along", () => {
    const { k, mm, h } = setup("always");
    k.touch(mm, h, 2048 * KiB, true, 1);
    k.touch(mm, h + 2048 * KiB, 2048 * KiB, true, 2);
    // Split the second THP and free one page of it: batched.
    expect(k.splitHugePages(mm, h + 2048 * KiB, h + 4096 * KiB, 0)).toEqual([1, 1]);
    expect(k.madvise(mm, h + 2048 * KiB, 4 * KiB, MADV.FREE).ok).toBe(true);
    expect(lazyFreeKb(k, mm)).toBe(0);
    // MADV_FREE over the whole THP: its madvise drains first, then the THP moves at once.
    expect(k.madvise(mm, h, 2048 * KiB, MADV.FREE).ok).toBe(true);
    expect(lazyFreeKb(k, mm)).toBe(2048 + 4);
    expect(k.events[EV.pglazyfree]).toBe(512 + 1);
  });

  it("a full batch moves by itself", () => {
    const { k, mm, h } = setup("never");
    k.touch(mm, h, 40 * 4 * KiB, true, 1);
    expect(k.madvise(mm, h, 40 * 4 * KiB, MADV.FREE).ok).toBe(true);
    expect(k.events[EV.pglazyfree]).toBe(FOLIO_BATCH_SIZE);
    expect(folioBatchContents(k).lazyfree.length).toBe(40 - FOLIO_BATCH_SIZE);
  });

  it("munmap, reclaim and migration drain the batch; migration then succeeds despite the batch's reference", () => {
    const { k, mm, h } = setup("never");
    k.touch(mm, h, 64 * KiB, true, 1);
    expect(k.madvise(mm, h, 16 * KiB, MADV.FREE).ok).toBe(true);
    k.munmap(mm, h + 2048 * KiB, 4 * KiB);
    expect(k.events[EV.pglazyfree]).toBe(4);
    expect(k.madvise(mm, h + 16 * KiB, 16 * KiB, MADV.FREE).ok).toBe(true);
    k.reclaim(1, 1);
    expect(k.events[EV.pglazyfree]).toBe(8);
    expect(k.madvise(mm, h + 32 * KiB, 16 * KiB, MADV.FREE).ok).toBe(true);
    expect(folioBatchContents(k).lazyfree.length).toBe(4);
    const job = k.migrateRange(mm, h + 32 * KiB, 16 * KiB, 1);
    expect([job.moved, job.failed.length]).toEqual([4, 0]);
    expect(k.events[EV.pglazyfree]).toBe(12);
  });
});
