import { describe, expect, it } from "vitest";
import { ScenarioError } from "../errors";
import { parseScenario } from "../parse";
import { runText, verdicts } from "../test-helpers";

const SHMEM = `
name: shmem-data
files:
  tmp: { size: 64K, shmem: true }
  blocks: { size: 64K, seed: 5 }
steps:
  - mmap: { pid: 1, as: s, len: 64K, prot: rw, flags: shared, file: tmp }
  - mmap: { pid: 1, as: f, len: 64K, prot: r, flags: private, file: blocks }
  - write: { pid: 1, at: s, len: 16K, pattern: 4 }
  - read: { pid: 1, at: s+16K, len: 16K }
  - read: { pid: 1, at: f, len: 16K }
  - expect:
      - data: { pid: 1, at: s, len: 16K, pattern: 4 }
      - data: { pid: 1, at: s+16K, len: 48K, pattern: file }
      - data: { pid: 1, at: s+16K, len: 48K, pattern: zero }
      - data: { pid: 1, at: f, len: 64K, pattern: file }
`;

describe("data: pattern: file", () => {
  it("a shmem file's original contents are zeroes, read or not; a regular file's are its blocks", () => {
    const r = runText(SHMEM);
    expect(verdicts(r)).toEqual([
      ["data", true, "pattern 4"],
      ["data", true, "file"],
      ["data", true, "zero"],
      ["data", true, "file"],
    ]);
  });

  it("a seed on a shmem file is an error at the field", () => {
    const text = "name: x\nfiles:\n  tmp: { size: 64K, shmem: true, seed: 5 }\nsteps: []\n";
    expect(() => parseScenario(text, "bad.yaml")).toThrow(ScenarioError);
    expect(() => parseScenario(text, "bad.yaml")).toThrow(
      "bad.yaml:3:40: files.tmp.seed: a seed gives a regular file's blocks: expected none on a shmem file, which starts zero-filled as a new shmem/memfd file does",
    );
  });
});
