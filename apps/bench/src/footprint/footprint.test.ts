import { describe, expect, it } from "vitest";
import { GiB, MiB } from "../workloads/arena";
import { runFootprint } from "./index";
import { footprintMemory, heapAfterGc, measureFootprint, type FootprintKind, type FootprintPoint } from "./measure";
import { runLimited } from "./run";
import { scalingSizes, sizeLabel } from "./sizes";

describe("footprint", () => {
  it("scales from 1 GiB to 64 GiB, to 512 GiB for PUD THPs; quick mode measures two sizes", () => {
    expect(scalingSizes("4k", false).map(sizeLabel)).toEqual(["1G", "2G", "4G", "8G", "16G", "32G", "64G"]);
    expect(scalingSizes("pmd", false)).toHaveLength(7);
    expect(scalingSizes("pud", false).map(sizeLabel).at(-1)).toBe("512G");
    expect(scalingSizes("4k", true).map(sizeLabel)).toEqual(["1G", "2G"]);
    expect(scalingSizes("pud", true).map(sizeLabel)).toEqual(["2G", "4G"]);
    expect(sizeLabel(512 * MiB)).toBe("512M");
  });

  it("gives the machine room for the mapping and, for PUD THPs, their page tables", () => {
    expect(footprintMemory("4k", GiB)).toBe(2 * GiB);
    expect(footprintMemory("pud", 512 * GiB)).toBe((512 + 8 + 2) * GiB);
  });

  it("measures the heap a populated mapping adds (ArrayBuffers included)", () => {
    const h = heapAfterGc();
    expect(h.heapUsed).toBeGreaterThan(0);
    expect(h.external).toBeGreaterThanOrEqual(h.arrayBuffers);
    const p = measureFootprint("4k", 64 * MiB);
    expect(p).toMatchObject({ kind: "4k", mappedBytes: 64 * MiB, units: 16384 });
    // Tables and the memmap live in typed arrays: off the V8 heap, but counted. At least the 32 PTE
    // tables of 4 KiB; the V8 heap part is left unasserted (this process runs the test runner too).
    expect(p.arrayBuffersDelta).toBeGreaterThanOrEqual(32 * 4096);
    expect(Number.isFinite(p.bytesPerUnit)).toBe(true);
    expect(p.deltaBytes).toBeCloseTo(p.bytesPerUnit * p.units, 3);
  });

  it("runs every size of every kind, in order, at most two at a time", async () => {
    let running = 0;
    let peak = 0;
    const fake = async (kind: FootprintKind, bytes: number): Promise<FootprintPoint> => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 2));
      running--;
      return { kind, mappedBytes: bytes, memoryBytes: 0, units: 1, deltaBytes: 1, heapUsedDelta: 0, arrayBuffersDelta: 0, bytesPerUnit: 1 };
    };
    const pts = await runFootprint(["4k", "pud"], true, fake);
    expect(pts.map((p) => `${p.kind}:${sizeLabel(p.mappedBytes)}`)).toEqual(["4k:1G", "4k:2G", "pud:2G", "pud:4G"]);
    expect(peak).toBeLessThanOrEqual(2);
    expect(await runLimited([], 2)).toEqual([]);
  });
});
