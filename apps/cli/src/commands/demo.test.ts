import { describe, expect, it } from "vitest";
import { EXIT_OK } from "../cli/errors";
import { cli } from "../testing/cli";

describe("hugemm demo", () => {
  const r = cli(["demo"]);
  const out = r.out;

  it("runs the tour and prints every section in order, with what it changed", () => {
    expect(r.code).toBe(EXIT_OK);
    expect(r.err).toBe("");
    expect(out).toMatch(/^hugemm demo: A tour of the model on x86-64/);
    expect(out).toContain("x86-64:4level, 4G in 2 nodes");
    const sections = [...out.matchAll(/^(\d+)\. ([a-z-]+) — /gm)].map((m) => m[2]);
    expect(sections).toEqual(["base-pages", "mthp", "pmd-thp", "pud-thp", "fork-cow", "split", "migration", "reclaim", "exit", "shrink"]);
    expect(out).toContain("   changed: pgfault +4, meminfo.AnonPages +256 kB, hugepages-64kB.anon_fault_alloc +4\n");
    expect(out).toMatch(/changed: pgfault \+1, model\.thp_fault_alloc_pud \+1, .*meminfo\.PageTables \+2052 kB/);
    expect(out).toContain("changed: pgmigrate_success +528, thp_migration_success +1\n");
    expect(out).not.toContain("\x1b[");
  });

  it("shows each process's memory by mapping size, a walk to the 1G leaf, and thpmaps", () => {
    expect(out).toContain("   pid 1: 1G by 1G (1), 6M by 2M (3), 320K by 4K (80); 520 page-table pages; 84 TLB entries\n");
    expect(out).toContain('   walk of "huge" in pid 1:\n');
    expect(out).toMatch(/ {5}pud {5}\[510\] 0x80000000400008e7 {2}PUD 1G leaf pfn 0x40000 rw- user young dirty soft-dirty\n/);
    expect(out).toContain("     folio: head pfn 0x40000, order 18, anon, node 0; page pfn 0x40000 (+0)\n");
    expect(out).toContain("   anon-thp-pud-aligned-1048576kB:  1048576 kB (100%)\n");
  });

  it("ends with every expect passing and nothing leaked", () => {
    expect(out).toMatch(/expects: \d+ passed, 0 failed\n/);
    expect(out).toMatch(/leaks: 0 pages, 0 swap slots, 0 page-table pages held after every process exited\n$/);
  });
});
