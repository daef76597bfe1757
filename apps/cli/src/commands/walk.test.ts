import { describe, expect, it } from "vitest";
import { EXIT_OK, EXIT_USAGE } from "../cli/errors";
import { cli, testdata } from "../testing/cli";

const THP = testdata("thp.yaml");
const walk = (...args: string[]) => cli(["walk", THP, "--at", "forked", ...args]);

describe("hugemm walk", () => {
  it("goes level by level to a PMD leaf and shows the folio it reaches", () => {
    const r = walk("--pid", "1", "--addr", "buf+2M+8K");
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toBe(
      [
        "pid 1 0x7dffffe02000 on x86-64:4level: vma 0x7dffffbc0000-0x7e0000000000 rw-p",
        "pgd/p4d [251] 0x0000000000002067  P4D table -> 0x2000 user",
        "pud     [511] 0x0000000000003067  PUD table -> 0x3000 user",
        // fork write-protected the parent's PMD too; the dirty bit moved to saved-dirty.
        "pmd     [511] 0x84000000006008a5  PMD 2M leaf pfn 0x600 r-- user young saved-dirty soft-dirty",
        "ends: leaf at pmd mapping 2M, page pfn 0x602",
        "hardware: pa 0x602000, 2M page, 2M TLB entry, r-- user young",
        "folio: head pfn 0x600, order 9, anon, node 0; page pfn 0x602 (+2)",
        "  refcount 2, mapcount 2 (large 2, entire 2, page 0), pincount 0",
        "  flags: uptodate|lru|swapbacked|anon; page: -",
        "  lru: inactive_anon, deferred split: yes, swap slot: none",
        "",
      ].join("\n"),
    );
  });

  it("shows the child's PTE after its write split the shared PMD, under the scenario's pid", () => {
    const r = walk("--pid", "2", "--addr", "buf+4K");
    expect(r.out).toContain("pid 2 0x7dffffc01000");
    expect(r.out).toContain("ends: leaf at pte mapping 4K, page pfn 0x401\n");
    expect(r.out).toContain("  refcount 512, mapcount 512 (large 512, entire 1, page 1), pincount 0\n");
  });

  it("decodes every bit field with --fields, on another arch, and prints JSON", () => {
    const f = walk("--pid", "1", "--addr", "small", "--fields", "--arch", "arm64:4k").out;
    expect(f).toContain("        0 PTE_VALID = 1: valid for the MMU\n");
    const j = JSON.parse(walk("--pid", "1", "--addr", "buf", "--json").out) as { pid: number; leaf: { level: number; size: number } };
    expect(j.pid).toBe(1);
    expect(j.leaf.size).toBe(2 ** 21);
  });

  it("reports an unmapped address as a walk that ends at none", () => {
    const r = walk("--pid", "1", "--addr", "0x1000");
    expect(r.out).toContain("pid 1 0x1000 on x86-64:4level: no vma\n");
    expect(r.out).toContain("hardware: translation fault at pgd/p4d: entry is none\n");
  });

  it("names a bad address or process and what was expected", () => {
    const err = (...args: string[]) => {
      const r = walk(...args);
      expect(r.code).toBe(EXIT_USAGE);
      return r.err;
    };
    expect(err("--pid", "1")).toBe("hugemm: walk: --addr is needed: expected an address such as 0x7f0000200000 or a bound name (buf+2M)\n");
    expect(err("--pid", "1", "--addr", "nope")).toBe('hugemm: walk: --addr "nope": process 1 has no name "nope": expected a name bound by mmap "as:" (it has buf, small)\n');
    expect(err("--pid", "1", "--addr", "buf+")).toMatch(/^hugemm: walk: --addr "buf\+": expected an address such as/);
    expect(err("--pid", "1", "--addr", "0x800000000000")).toBe('hugemm: walk: --addr "0x800000000000": invalid address 140737488355328 (0x800000000000): expected a user address in [0, 0x800000000000)\n');
    expect(err("--addr", "buf")).toBe("hugemm: walk: --pid is needed: the live processes are 1, 2\n");
  });
});
