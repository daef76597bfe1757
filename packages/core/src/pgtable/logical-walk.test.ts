import { createArm64Backend } from "@hugemm/arch-arm64";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { logicalCensus, walkLogical } from "./logical-walk";

const X = 0x4000_0000;

describe("walkLogical", () => {
  it("hands over base pages one by one and a PMD THP as one entry", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", check: true });
    k.thp.set("enabled", "always");
    const mm = k.createMm();
    expect(k.mmap(mm, { addr: X, len: 4 << 20, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED }).ok).toBe(true);
    k.touch(mm, X, 2 << 20, true, 1);
    k.thp.set("enabled", "never");
    k.touch(mm, X + (2 << 20), 3 * 4096, true, 2);
    expect([...logicalCensus(k, mm, X, X + (4 << 20))].sort((a, b) => a[0] - b[0])).toEqual([
      [4096, 3],
      [2 << 20, 1],
    ]);
    const got: [number, number][] = [];
    walkLogical(k, mm, X + 4096, X + (2 << 20) + 8192, (e) => got.push([e.addr - X, e.size]));
    expect(got).toEqual([
      [0, 2 << 20],
      [2 << 20, 4096],
      [(2 << 20) + 4096, 4096],
    ]);
  });

  it("hands over a transparent arm64 cont-PTE run as its 16 PTEs (each may change alone)", () => {
    const k = new Kernel({ backend: createArm64Backend(), memory: "64M", check: true });
    k.thp.set("enabled", "never");
    k.thp.set("hugepages-64kB/enabled", "always");
    const mm = k.createMm();
    expect(k.mmap(mm, { addr: X, len: 64 << 10, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED }).ok).toBe(true);
    k.touch(mm, X, 64 << 10, true, 1);
    expect([...logicalCensus(k, mm, X, X + (64 << 10))]).toEqual([[4096, 16]]);
  });
});
