import type { ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { FOLL_PIN, FOLL_WRITE } from "../gup/gup";
import { Kernel } from "../kernel/kernel";
import { PG_anon_exclusive } from "../phys/page-flags";
import { insertAnonVma } from "../testing/vma";
import { MM_ANONPAGES } from "./counters";
import type { Mm } from "./mm";
import { VM_DONTCOPY, VM_READ, VM_WIPEONFORK, VM_WRITE } from "./vm-flags";

const BACKENDS: [string, () => ArchBackend][] = [
  ["x86-64", () => createX86_64Backend()],
  ["arm64 4K", () => createArm64Backend("4k-48")],
  ["arm64 64K", () => createArm64Backend("64k-48")],
  ["ppc8xx", () => createPpc8xxBackend("4k")],
];

/** The pfn mapped at `va`, or -1. */
function pfnAt(k: Kernel, mm: Mm, va: number): number {
  const s = mm.slot;
  if (mm.walker.find(va, 0, false, s) !== 0) return -1;
  const r = new Uint32Array(2);
  k.backend.readEntry(s.table, s.index, 0, r, 0);
  return k.backend.present(r, 0, 0) ? k.backend.pfn(r, 0, 0) : -1;
}

for (const [name, make] of BACKENDS) {
  describe(`fork and COW on ${name}`, () => {
    const setup = () => {
      const k = new Kernel({ backend: make(), memory: "1G", check: true });
      const ps = k.pageSize;
      const base = 64 * 2 ** 20;
      const parent = k.createMm();
      insertAnonVma(k, parent, base, 16 * ps);
      k.touch(parent, base, 16 * ps, true, 11);
      return { k, ps, base, parent };
    };

    it("shares anon pages read-only after fork and copies on write in the child only", () => {
      const { k, ps, base, parent } = setup();
      const before = pfnAt(k, parent, base);
      const tag = k.peek(parent, base);
      const child = k.fork(parent)!;
      expect(child).not.toBeNull();
      expect(pfnAt(k, child, base)).toBe(before);
      expect(k.folios.pageMapcount(before)).toBe(2);
      expect(k.folios.pageTest(before, PG_anon_exclusive)).toBe(false);
      expect(child.rss[MM_ANONPAGES]).toBe(16);
      expect(k.peek(child, base)).toBe(tag);
      // The child writes: a new page for it, the parent keeps the original.
      expect(k.touch(child, base, ps, true, 99).faults).toBe(1);
      expect(pfnAt(k, child, base)).not.toBe(before);
      expect(pfnAt(k, parent, base)).toBe(before);
      expect(k.peek(parent, base)).toBe(tag);
      expect(k.folios.pageMapcount(before)).toBe(1);
      // The parent's page is still shared-marked, but with the child gone from it a write reuses it.
      expect(k.touch(parent, base, ps, true).faults).toBe(1);
      expect(pfnAt(k, parent, base)).toBe(before);
      // Another page: the parent writes first while the child still maps it, so it copies.
      const p2 = pfnAt(k, parent, base + ps);
      k.touch(parent, base + ps, ps, true);
      expect(pfnAt(k, parent, base + ps)).not.toBe(p2);
      expect(pfnAt(k, child, base + ps)).toBe(p2);
      k.exit(child);
      k.exit(parent);
      expect(k.folios.heads()).toEqual([]);
    });

    it("skips VM_DONTCOPY and empties VM_WIPEONFORK", () => {
      const k = new Kernel({ backend: make(), memory: "1G", check: true });
      const ps = k.pageSize;
      const parent = k.createMm();
      insertAnonVma(k, parent, 2 ** 26, 4 * ps, VM_READ | VM_WRITE | VM_DONTCOPY);
      insertAnonVma(k, parent, 2 ** 27, 4 * ps, VM_READ | VM_WRITE | VM_WIPEONFORK);
      k.touch(parent, 2 ** 26, 4 * ps, true, 1);
      k.touch(parent, 2 ** 27, 4 * ps, true, 2);
      const child = k.fork(parent)!;
      expect(child.vmas.count).toBe(1);
      expect(child.rss[MM_ANONPAGES]).toBe(0);
      expect(k.touch(child, 2 ** 27, ps, false).error).toBe(0);
      expect(k.peek(child, 2 ** 27)).toBe(0);
      k.exit(child);
      k.exit(parent);
    });

    it("copies a pinned page at fork so the pin keeps seeing the parent's page", () => {
      const { k, ps, base, parent } = setup();
      const pin = k.gup(parent, base, 1, FOLL_PIN | FOLL_WRITE);
      expect(pin.pages).toEqual([pfnAt(k, parent, base)]);
      const child = k.fork(parent)!;
      const c = pfnAt(k, child, base);
      expect(c).not.toBe(pin.pages[0]);
      expect(k.peek(child, base)).toBe(k.peek(parent, base));
      // The parent's PTE stays writable: no fault on write.
      expect(k.touch(parent, base, ps, true).faults).toBe(0);
      // Unpinned pages were shared as usual.
      expect(pfnAt(k, child, base + ps)).toBe(pfnAt(k, parent, base + ps));
      k.unpin(pin, FOLL_PIN);
      k.exit(child);
      k.exit(parent);
    });

    it("unshares a shared anon page before a read-only pin", () => {
      const { k, base, parent } = setup();
      const child = k.fork(parent)!;
      const shared = pfnAt(k, child, base);
      const pin = k.gup(child, base, 1, FOLL_PIN);
      expect(pin.fast).toBe(0);
      expect(pin.pages[0]).not.toBe(shared);
      expect(pfnAt(k, child, base)).toBe(pin.pages[0]);
      expect(k.folios.pageTest(pin.pages[0]!, PG_anon_exclusive)).toBe(true);
      expect(pfnAt(k, parent, base)).toBe(shared);
      expect(k.peek(child, base)).toBe(k.peek(parent, base));
      k.unpin(pin, FOLL_PIN);
      k.exit(child);
      k.exit(parent);
    });
  });
}

describe("GUP", () => {
  it("takes present writable pages on the fast path and faults the rest on the slow one", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", check: true });
    const mm = k.createMm();
    insertAnonVma(k, mm, 2 ** 26, 8 * 4096);
    k.touch(mm, 2 ** 26, 4 * 4096, true);
    const r = k.gup(mm, 2 ** 26, 8, FOLL_PIN | FOLL_WRITE);
    expect(r).toMatchObject({ fast: 4, error: null });
    expect(r.pages.length).toBe(8);
    expect(k.folios.refcount(r.pages[0]!)).toBe(1 + 1024);
    k.unpin(r, FOLL_PIN, true);
    expect(k.folios.refcount(r.pages[0]!)).toBe(1);
    k.exit(mm);
  });
  it("refuses a write pin of a read-only mapping and stops at a hole", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", check: true });
    const mm = k.createMm();
    insertAnonVma(k, mm, 2 ** 26, 4 * 4096, VM_READ);
    expect(k.gup(mm, 2 ** 26, 1, FOLL_PIN | FOLL_WRITE)).toMatchObject({ pages: [], error: "EFAULT" });
    const r = k.gup(mm, 2 ** 26, 6, FOLL_PIN);
    expect(r.pages.length).toBe(4);
    expect(r.error).toBe("EFAULT");
    // Read pins of never-written anonymous memory pin the shared zero page: no reference is taken.
    expect(r.pages.every((p) => p === k.zeroPfn)).toBe(true);
    k.unpin(r, FOLL_PIN);
    k.exit(mm);
  });
});
