import { describe, expect, it } from "vitest";
import { MiB, machine } from "./test-helpers";

describe("the device's allocator", () => {
  it("hands out THPs and pages, breaks a THP block for pages, fails once on request, and takes them back", () => {
    const { k, dev } = machine({ size: 4 * MiB });
    const mem = dev.mem;
    const start = dev.pgmap.startPfn;
    k.op("alloc", () => {
      const t = mem.alloc(9);
      expect(t).toBe(start);
      expect(k.folios.order(t)).toBe(9);
      const p = mem.alloc(0);
      expect(p).toBe(start + 512);
      expect(mem.allocated).toBe(513);
      expect(dev.pgmap.refs).toBe(513);
      expect(mem.alloc(9)).toBe(-1);
      mem.failNext = true;
      expect(mem.alloc(0)).toBe(-1);
      expect(mem.alloc(0)).toBe(start + 513);
      for (const h of [t, p, start + 513]) {
        k.folios.unref(h, 1);
        mem.free(h);
      }
      expect([mem.allocated, dev.pgmap.refs, mem.freePages]).toEqual([0, 0, 1024]);
      expect(mem.alloc(9)).toBe(start);
      k.folios.unref(start, 1);
      mem.free(start);
    });
  });
});
