import { propertyRuns } from "@hugemm/vitest-config/runs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { newEvents, newNodeStats } from "../stats/counters";
import { GFP_HIGHUSER_MOVABLE } from "./gfp";
import { MIGRATE_PCPTYPES } from "./migratetype";
import { PhysMem, type PhysConfig } from "./phys";

const MiB = 2 ** 20;
const cfg: PhysConfig = { pageShift: 12, maxOrder: 10, pbOrder: 9, memoryBytes: 64 * MiB, nodes: 1, movableBytesPerNode: 0, physBits: 46 };

/** Every free list in list order, the pcp lists in order, and the counters. */
function state(p: PhysMem): string {
  const out: unknown[] = [[...p.events]];
  for (const z of p.zones) {
    out.push(z.freePages, [...z.freePagesMt], z.allocatedPages, z.pcp.count, z.pcp.lists.map((l) => [...l]));
    for (let o = 0; o <= cfg.maxOrder; o++) for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) out.push([...z.freeBlocks(o, mt)]);
  }
  out.push([...p.nodeStats(0)]);
  return JSON.stringify(out);
}

/**
 * Freeing order-0 pages in a batch (one pcp hand-over; a bulk free merging
 * runs of consecutive pages as whole blocks) leaves every free list, pcp
 * list and counter exactly as freeing them one by one.
 */
describe("batched order-0 freeing", () => {
  const order = fc.constantFrom("up", "down", "shuffled", "runs");
  it("leaves the buddy and pcp lists of page-by-page freeing", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), order, fc.integer({ min: 1, max: 64 }), fc.nat(), (n, how, chunk, seed) => {
        const a = new PhysMem(cfg, newEvents(), newNodeStats);
        const b = new PhysMem(cfg, newEvents(), newNodeStats);
        b.fastPaths = false;
        const pa: number[] = [];
        const pb: number[] = [];
        for (let i = 0; i < n; i++) {
          pa.push(a.allocPages(0, GFP_HIGHUSER_MOVABLE));
          pb.push(b.allocPages(0, GFP_HIGHUSER_MOVABLE));
        }
        expect(pa).toEqual(pb);
        let pfns = [...pa];
        if (how === "up") pfns.sort((x, y) => x - y);
        else if (how === "down") pfns.sort((x, y) => y - x);
        else if (how === "shuffled") {
          let r = seed;
          for (let i = pfns.length - 1; i > 0; i--) {
            r = (r * 1103515245 + 12345) >>> 0;
            const j = r % (i + 1);
            [pfns[i], pfns[j]] = [pfns[j]!, pfns[i]!];
          }
        } else {
          // Ascending runs in a shuffled order of runs.
          const sorted = pfns.sort((x, y) => x - y);
          const runs: number[][] = [];
          for (let i = 0; i < sorted.length; i += chunk) runs.push(sorted.slice(i, i + chunk));
          pfns = runs.reverse().flat();
        }
        for (let i = 0; i < pfns.length; i += chunk) {
          const part = pfns.slice(i, i + chunk);
          a.freeOrder0Pages(part, part.length);
          b.freeOrder0Pages(part, part.length);
          expect(state(a)).toBe(state(b));
        }
        a.drainPcp();
        b.drainPcp();
        expect(state(a)).toBe(state(b));
      }),
      { seed: 77, numRuns: propertyRuns(25) },
    );
  });
});
