import { describe, expect, it } from "vitest";
import { runText } from "./test-helpers";
import { formatRunSummary } from "./summary";

const SCENARIO = `name: summary
description: what run prints
machine: { memory: 1G }
steps:
  - mmap: { pid: 1, as: buf, addr: 0x40000000, len: 4M, prot: rw, flags: private|anonymous|fixed }
  - write: { pid: 1, at: buf, len: 4K, pattern: 1 }
  - munmap: { pid: 1, at: buf+1, len: 4096, expectError: EINVAL }
  - madvise: { pid: 1, at: 0x1000, len: 4K, advice: dontneed }
  - checkpoint: c1
  - expect:
      - counter: pgfault
        since: c1
        equals: 0
      - mapped: { pid: 1, at: buf, level: pte }
`;

describe("formatRunSummary", () => {
  it("prints each step, each expect with PASS/FAIL and what it found, and the totals", () => {
    expect(formatRunSummary(runText(SCENARIO), { color: false })).toBe(`summary on x86-64:4level, seed 1 — what run prints
step  line  op          result
   0     5  mmap        ok       mapped at 0x40000000
   1     6  write       ok       1 page, 1 fault
   2     7  munmap      EINVAL   addr 0x40000001 is not aligned to the page size (4096 bytes) (expects EINVAL)
   3     8  madvise     ENOMEM   [0x1000, 0x40000000) is not mapped
   4     9  checkpoint  ok       counters saved as "c1"
   5    10  expect      ok       1 of 2 passed
expects
  PASS  line 7  munmap expectError: EINVAL  munmap ended with EINVAL
  PASS  line 11  { counter: pgfault, since: c1, equals: 0 }  pgfault since c1 is 0
  FAIL  line 14  { mapped: { pid: 1, at: buf, level: pte } }  0x40000000 in pid 1 is mapped by a pmd entry, expected pte
6 of 6 steps run, 2 with errors (1 expected); 3 expects: 2 passed, 1 failed — FAILED
`);
  });

  it("colours results with ANSI escapes when asked", () => {
    const text = formatRunSummary(runText(SCENARIO), { color: true });
    expect(text).toContain("\x1b[32mPASS\x1b[0m");
    expect(text).toContain("\x1b[31mFAIL\x1b[0m");
    expect(text).toContain("\x1b[33mENOMEM  \x1b[0m");
    expect(text.endsWith("\x1b[31mFAILED\x1b[0m\n")).toBe(true);
  });
});
