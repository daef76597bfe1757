import { getHeapSpaceStatistics } from "node:v8";
import { forceGc } from "../gc";
import { GiB, PAGE, PAGES_PER_FAULT, arena, populate } from "../workloads/arena";

/** What the footprint counts per unit: a mapped 4K page, a PMD THP or a PUD THP. */
export type FootprintKind = "4k" | "pmd" | "pud";
export const FOOTPRINT_KINDS: readonly FootprintKind[] = ["4k", "pmd", "pud"];

/** The model's memory for one mapping size. */
export interface FootprintPoint {
  readonly kind: FootprintKind;
  /** Bytes mapped and populated. */
  readonly mappedBytes: number;
  /** Memory of the modelled machine. */
  readonly memoryBytes: number;
  /** Pages (4k) or folios (pmd, pud) mapped. */
  readonly units: number;
  /** Growth of heapUsed + external (ArrayBuffers included) from the empty mapping to the populated one. */
  readonly deltaBytes: number;
  readonly heapUsedDelta: number;
  readonly arrayBuffersDelta: number;
  readonly bytesPerUnit: number;
}

export interface HeapBytes {
  /** The V8 heap in use, compiled code excluded (see heapAfterGc). */
  readonly heapUsed: number;
  /** Memory of C++ objects V8 points at: ArrayBuffers (typed arrays live off the V8 heap) are part of it. */
  readonly external: number;
  readonly arrayBuffers: number;
}

/**
 * Heap statistics after a full collection (twice: the first can leave
 * weakly-held garbage for the second). heapUsed leaves out the code spaces:
 * when the JIT finishes compiling something is timing, not model state, and
 * it moved the figures by tens of KiB from run to run.
 */
export function heapAfterGc(): HeapBytes {
  forceGc();
  forceGc();
  let heapUsed = 0;
  for (const s of getHeapSpaceStatistics()) if (!s.space_name.startsWith("code_")) heapUsed += s.space_used_size;
  const m = process.memoryUsage();
  return { heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

/**
 * Memory for the machine: the mapping and room to spare. A PUD THP with
 * pre-deposit also takes 513 table pages per GiB, and tables placed in a
 * gigantic block keep it from holding a 1 GiB folio.
 */
export function footprintMemory(kind: FootprintKind, bytes: number): number {
  return kind === "pud" ? bytes + Math.ceil(bytes / 64 / GiB) * GiB + 2 * GiB : bytes + GiB;
}

/**
 * The heap one populated mapping costs: a machine with an empty mapping of
 * `bytes`, measured, then written whole (every page, with data) and
 * measured again, both after a full GC. Run it in a fresh process so that
 * nothing else allocates in between.
 */
export function measureFootprint(kind: FootprintKind, bytes: number): FootprintPoint {
  // The first run of the fault path compiles it and fills inline caches on the V8 heap: do that on a
  // throwaway machine, so the measurement holds model state only.
  const warm = kind === "pud" ? GiB : 64 * 2 ** 20;
  for (let i = 0; i < 3; i++) populate(arena(warm, kind, { check: false }, footprintMemory(kind, warm)), `heap.${kind}`);
  const a = arena(bytes, kind, { check: false }, footprintMemory(kind, bytes));
  const before = heapAfterGc();
  populate(a, `heap.${kind}`);
  const after = heapAfterGc();
  const units = bytes / PAGE / PAGES_PER_FAULT[kind];
  const deltaBytes = after.heapUsed + after.external - (before.heapUsed + before.external);
  // Keep the machine alive until after the second measurement.
  if (a.mm.rss.length === 0) throw new Error("unreachable");
  return {
    kind,
    mappedBytes: bytes,
    memoryBytes: a.k.config.memoryBytes,
    units,
    deltaBytes,
    heapUsedDelta: after.heapUsed - before.heapUsed,
    arrayBuffersDelta: after.arrayBuffers - before.arrayBuffers,
    bytesPerUnit: deltaBytes / units,
  };
}
