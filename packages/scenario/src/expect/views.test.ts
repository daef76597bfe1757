import { describe, expect, it } from "vitest";
import { ScenarioError } from "../errors";
import { parseScenario } from "../parse";
import { runText, verdicts } from "../test-helpers";

function parseError(text: string): string {
  try {
    parseScenario(text, "bad.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as Error).message;
  }
  throw new Error("parsed without an error");
}

const THP = `
name: views
machine: { memory: 1G, nodes: 2 }
settings:
  transparent_hugepage/enabled: always
steps:
  - mmap: { pid: 1, as: buf, len: 8M, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: "align(buf, 2M)", len: 2M, pattern: 7 }
  - write: { pid: 1, at: "align(buf, 2M)+2M", len: 4K, pattern: 8, expectOk: true }
  - pin: { pid: 1, at: "align(buf, 2M)", len: 16K, as: dma }
  - migrate: { pid: 1, at: "align(buf, 2M)+2M", len: 2M, node: 1, hold: mig }
  - expect:
      - smaps: { pid: 1, at: buf, field: AnonHugePages, equals: 4096 }
      - smaps: { pid: 1, at: buf, field: Size, equals: 8192 }
      - smaps: { pid: 1, at: buf, field: THPeligible, equals: 1 }
      - smaps: { pid: 1, at: buf, field: Rss, atLeast: 4096 }
      - pagemap: { pid: 1, at: "align(buf, 2M)+4K", entry: present, level: pmd, node: 0, order: 9, dirty: true, young: true, write: true }
      - pagemap: { pid: 1, at: "align_down(buf+6M, 2M)+4K", entry: none }
      - mapped: { pid: 1, at: "align(buf, 2M)+2M", level: migration, entry: pmd }
      - mapped: { pid: 1, at: "align(buf, 2M)", level: pmd, entry: pmd }
      - pin: { name: dma, pattern: 7 }
      - pin: { name: dma, pattern: 8 }
  - migrate_finish: { hold: mig }
  - write: { pid: 1, at: "align(buf, 2M)", len: 4K, pattern: zero }
  - expect:
      - pin: { name: dma, pattern: zero }
      - data: { pid: 1, at: "align(buf, 2M)", len: 4K, pattern: zero }
      - pagemap: { pid: 1, at: "align(buf, 2M)+2M", entry: present, level: pmd, node: 1 }
  - munmap: { pid: 1, at: 0x1001, len: 4K, expectOk: true }
`;

describe("scenario views: smaps, pagemap, pins, mapped entry levels", () => {
  it("reads what the kernel's views would show", () => {
    const r = runText(THP);
    const v = verdicts(r);
    expect(v.slice(0, 10)).toEqual([
      ["expectOk", true, "success"],
      ["smaps", true, 4096],
      ["smaps", true, 8192],
      ["smaps", true, 1],
      ["smaps", true, 4096],
      ["pagemap", true, "entry: present, level: pmd, node: 0, order: 9, dirty: true, young: true, write: true"],
      ["pagemap", true, "entry: none"],
      ["mapped", true, "migration at pmd"],
      ["mapped", true, "pmd at pmd"],
      ["pin", true, "pattern 7"],
    ]);
    expect(v[10]).toEqual(["pin", false, "4 of 4 pages differ"]);
    // After the zero store through the mapping, the device reads zeroes on the first page only.
    expect(v[11]).toEqual(["pin", false, "3 of 4 pages differ"]);
    expect(v.slice(12)).toEqual([
      ["data", true, "zero"],
      ["pagemap", true, "entry: present, level: pmd, node: 1"],
      ["expectOk", false, "EINVAL"],
    ]);
  });

  it("align rounds up and down to a power of two", () => {
    const r = runText(`
name: align
steps:
  - mmap: { pid: 1, as: buf, len: 8M, prot: rw, flags: private|anonymous, addr: 0x40100000 }
  - write: { pid: 1, at: "align(buf, 2M)", len: 4K, pattern: 1 }
  - write: { pid: 1, at: "align_down(buf+2M, 2M)+4K", len: 4K, pattern: 2 }
  - expect:
      - data: { pid: 1, at: 0x40200000, len: 4K, pattern: 1 }
      - data: { pid: 1, at: 0x40201000, len: 4K, pattern: 2 }
      - data: { pid: 1, at: "align(0x40200000, 2M)", len: 4K, pattern: 1 }
`);
    expect(verdicts(r).map(([, p]) => p)).toEqual([true, true, true]);
  });
});

describe("parse errors of the views", () => {
  const wrap = (clause: string) => `name: x\nsteps:\n  - mmap: { pid: 1, as: buf, len: 8M, prot: rw, flags: private|anonymous }\n  - expect:\n      - ${clause}\n`;
  it("an unknown smaps field, with the known ones", () => {
    expect(parseError(wrap("smaps: { pid: 1, at: buf, field: AnonHuge, equals: 1 }"))).toMatch(/^bad\.yaml:5:42: steps\[1\]\.expect\[0\]\.smaps\.field: expected an smaps field: one of Size, KernelPageSize, MMUPageSize, Rss, .*THPeligible, got "AnonHuge"$/);
  });
  it("an smaps clause without exactly one comparison", () => {
    expect(parseError(wrap("smaps: { pid: 1, at: buf, field: Rss }"))).toBe("bad.yaml:5:16: steps[1].expect[0].smaps: expected exactly one of equals, atLeast, atMost, greaterThan, lessThan, got 0");
  });
  it("a bad pagemap value and an unknown pagemap field", () => {
    expect(parseError(wrap("pagemap: { pid: 1, at: buf, dirty: yes }"))).toBe('bad.yaml:5:44: steps[1].expect[0].pagemap.dirty: expected true or false, got "yes"');
    expect(parseError(wrap("pagemap: { pid: 1, at: buf, entry: mapped }"))).toBe(
      'bad.yaml:5:44: steps[1].expect[0].pagemap.entry: expected an entry state: one of present, none, swap, migration, device-private, device-exclusive, hwpoison, marker, got "mapped"',
    );
    expect(parseError(wrap("pagemap: { pid: 1, at: buf, dirt: true }"))).toMatch(/^bad\.yaml:5:37: steps\[1\]\.expect\[0\]\.pagemap\.dirt: unknown field "dirt": expected one of pid, at, entry, level/);
  });
  it("a pin clause naming no held pin", () => {
    expect(parseError(wrap("pin: { name: dma, pattern: 1 }"))).toBe('bad.yaml:5:22: steps[1].expect[0].pin.name: unknown pin "dma": expected a pin held here (none)');
  });
  it("a bad mapped entry level", () => {
    expect(parseError(wrap("mapped: { pid: 1, at: buf, level: migration, entry: p4d }"))).toBe('bad.yaml:5:61: steps[1].expect[0].mapped.entry: expected one of pte, pmd, pud, got "p4d"');
  });
  it("expectOk takes only true, and not with expectError", () => {
    expect(parseError("name: x\nsteps:\n  - mmap: { pid: 1, len: 4K, prot: rw, flags: private|anonymous, expectOk: yes }\n")).toBe(
      'bad.yaml:3:76: steps[0].mmap.expectOk: expected true (the step must succeed), got "yes"',
    );
    expect(parseError("name: x\nsteps:\n  - mmap: { pid: 1, len: 4K, prot: rw, flags: private|anonymous, expectOk: true, expectError: EINVAL }\n")).toBe(
      "bad.yaml:3:76: steps[0].mmap.expectOk: expected either expectOk or expectError, got both",
    );
  });
  it("a bad alignment or a bad store pattern", () => {
    expect(parseError("name: x\nsteps:\n  - read: { pid: 1, at: \"align(buf, 3M)\", len: 4K }\n")).toMatch(/^bad\.yaml:3:25: steps\[0\]\.read\.at: expected an address: .*"align\(buf, 2M\)".*, got "align\(buf, 3M\)"$/);
    expect(parseError("name: x\nsteps:\n  - write: { pid: 1, at: 4096, len: 4K, pattern: zeros }\n")).toBe(
      'bad.yaml:3:50: steps[0].write.pattern: expected a pattern seed (a whole number in [0, 2^32)) or "zero" (zero bytes), got "zeros"',
    );
  });
});
