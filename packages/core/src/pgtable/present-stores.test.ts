import { createArm64Backend } from "@hugemm/arch-arm64";
import { PTE, type ArchBackend } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { MADV, MAP_ANONYMOUS, MAP_PRIVATE, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { mapOk } from "../testing/vma";

const KiB = 1024;
const MiB = 2 ** 20;

/**
 * The backend as the core sees it, recording every writeEntry() of a present
 * PTE made by the core itself rather than from inside a backend operation:
 * such a store skips set_ptes() and with it arm64's contpte folding.
 */
function auditing(b: ArchBackend): { backend: ArchBackend; direct: string[] } {
  const direct: string[] = [];
  let depth = 0;
  const backend = new Proxy(b, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== "function") return v;
      const fn = v as (...a: unknown[]) => unknown;
      if (prop === "writeEntry") {
        return function (this: unknown, table: Uint32Array, index: number, level: number, r: Uint32Array, o: number) {
          if (depth === 0 && level === PTE && target.present(r, o, PTE)) direct.push(new Error().stack!.split("\n")[2]!.trim());
          return fn.call(this, table, index, level, r, o);
        };
      }
      return function (this: unknown, ...args: unknown[]) {
        depth++;
        try {
          return fn.apply(this, args);
        } finally {
          depth--;
        }
      };
    },
  });
  return { backend, direct };
}

describe("every store of a present PTE goes through the backend's set_ptes", () => {
  it("faults, COW, fork, mprotect, mremap, migration, splits, pageout and swap-in on arm64 4K", () => {
    const { backend, direct } = auditing(createArm64Backend("4k-48"));
    const k = new Kernel({ backend, memory: "256M", nodes: 2, swap: "64M", check: true });
    k.thp.set("hugepages-64kB/enabled", "always");
    const mm = k.createMm();
    const RW = PROT_READ | PROT_WRITE;
    const a = mapOk(k, mm, { len: 8 * MiB, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    const h = a + ((2 * MiB - (a % (2 * MiB))) % (2 * MiB));
    k.touch(mm, h, 4 * MiB, true, 1);
    const child = k.fork(mm)!;
    k.touch(child, h, 256 * KiB, true, 2);
    k.touch(mm, h + 64 * KiB, 64 * KiB, true, 3);
    expect(k.mprotect(mm, h, 128 * KiB, PROT_READ).ok).toBe(true);
    expect(k.mprotect(mm, h, 128 * KiB, RW).ok).toBe(true);
    k.migrateRange(mm, h, 2 * MiB, 1);
    k.splitHugePages(mm, h + 2 * MiB, h + 4 * MiB, 4);
    k.splitHugePages(mm, h + 2 * MiB, h + 3 * MiB, 0);
    expect(k.madvise(mm, h + 3 * MiB, 256 * KiB, MADV.PAGEOUT).ok).toBe(true);
    k.touch(mm, h + 3 * MiB, 256 * KiB, false);
    const moved = k.mremap(mm, h + 3 * MiB, 512 * KiB, 512 * KiB, MREMAP_MAYMOVE, 0);
    expect(moved.ok).toBe(true);
    // Read faults, then a partial mprotect over them.
    k.touch(mm, h + 4 * MiB, 2 * MiB, false);
    expect(k.mprotect(mm, h + 4 * MiB, 64 * KiB, PROT_READ).ok).toBe(true);
    k.exit(child);
    k.exit(mm);
    expect(direct).toEqual([]);
  });
});
