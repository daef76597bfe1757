import { describe, expect, it } from "vitest";
import { parseScenario } from "../parse";
import { runText, verdicts } from "../test-helpers";

describe("clear_refs", () => {
  it("4 clears soft-dirty: pagemap shows only the pages written since", () => {
    const r = runText(`
name: soft-dirty
settings:
  transparent_hugepage/enabled: never
steps:
  - mmap: { pid: 1, as: buf, len: 64K, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: buf, len: 64K, pattern: 1 }
  - expect:
      - pagemap: { pid: 1, at: buf+8K, softDirty: true }
  - clear_refs: { pid: 1, value: 4 }
  - expect:
      - pagemap: { pid: 1, at: buf+8K, softDirty: false, write: false }
      - pagemap: { pid: 1, at: buf+12K, softDirty: false }
  - write: { pid: 1, at: buf+8K, len: 4K, pattern: 2 }
  - expect:
      - pagemap: { pid: 1, at: buf+8K, softDirty: true, write: true }
      - pagemap: { pid: 1, at: buf+12K, softDirty: false }
      - counter: pgfault
        equals: 17
`);
    expect(r.steps[3]!.detail).toBe("cleared the soft-dirty bits");
    expect(verdicts(r)).toEqual([
      ["pagemap", true, "softDirty: true"],
      ["pagemap", true, "write: false, softDirty: false"],
      ["pagemap", true, "softDirty: false"],
      ["pagemap", true, "write: true, softDirty: true"],
      ["pagemap", true, "softDirty: false"],
      ["counter", true, 17],
    ]);
  });

  it("a value outside 1-5 is an error at the field", () => {
    expect(() => parseScenario("name: x\nsteps:\n  - clear_refs: { pid: 1, value: 6 }\n", "bad.yaml")).toThrow(
      "bad.yaml:3:34: steps[0].clear_refs.value: expected a clear_refs value: 1 (all), 2 (anon), 3 (mapped), 4 (soft-dirty) or 5 (mm hiwater rss), got 6",
    );
  });
});

describe("lru_add_drain", () => {
  it("moves the lru_lazyfree batch: LazyFree shows the pages only after it", () => {
    const r = runText(`
name: drain
settings:
  transparent_hugepage/enabled: never
steps:
  - mmap: { pid: 1, as: buf, len: 64K, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: buf, len: 64K, pattern: 1 }
  - madvise: { pid: 1, at: buf, len: 16K, advice: free }
  - expect:
      - smaps: { pid: 1, at: buf, field: LazyFree, equals: 0 }
  - lru_add_drain: {}
  - expect:
      - smaps: { pid: 1, at: buf, field: LazyFree, equals: 16 }
      - counter: pglazyfree
        equals: 4
`);
    expect(verdicts(r)).toEqual([
      ["smaps", true, 0],
      ["smaps", true, 16],
      ["counter", true, 4],
    ]);
  });
});
