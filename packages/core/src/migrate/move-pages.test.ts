import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { NS } from "../stats/counters";
import { mapOk } from "../testing/vma";
import { MPOL_MF_MOVE, MPOL_MF_MOVE_ALL } from "./move-pages";

const KiB = 1024;

function forked() {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "128M", nodes: 2, check: true });
  k.thp.set("enabled", "never");
  const mm = k.createMm();
  const a = mapOk(k, mm, { len: 64 * KiB, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  k.touch(mm, a, 64 * KiB, true, 1);
  const child = k.fork(mm)!;
  // The parent's first four pages are its own again after COW.
  k.touch(mm, a, 16 * KiB, true, 2);
  return { k, mm, child, a };
}

describe("move_pages flags", () => {
  it("MPOL_MF_MOVE leaves folios another process maps, -EACCES for each of their pages", () => {
    const { k, mm, a } = forked();
    const job = k.migrateRange(mm, a, 64 * KiB, 1, false, MPOL_MF_MOVE);
    expect(job.moved).toBe(4);
    expect(job.shared.length).toBe(12);
    expect(job.eaccesPages).toBe(12);
    expect(k.phys.nodeStats(1)[NS.nr_anon_pages]).toBe(4);
  });

  it("MPOL_MF_MOVE_ALL moves them too (and is the core's default)", () => {
    const { k, mm, a } = forked();
    const job = k.migrateRange(mm, a, 64 * KiB, 1, false, MPOL_MF_MOVE_ALL);
    expect(job.moved).toBe(16);
    expect(job.eaccesPages).toBe(0);
    const again = forked();
    expect(again.k.migrateRange(again.mm, again.a, 64 * KiB, 1).moved).toBe(16);
  });

  it("refuses other flags", () => {
    const { k, mm, a } = forked();
    expect(() => k.migrateRange(mm, a, 64 * KiB, 1, false, 0)).toThrow("invalid move_pages flags 0: expected MPOL_MF_MOVE (2) or MPOL_MF_MOVE_ALL (4)");
  });
});
