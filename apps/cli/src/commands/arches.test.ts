import { describe, expect, it } from "vitest";
import { EXIT_OK, EXIT_USAGE } from "../cli/errors";
import { cli } from "../testing/cli";

describe("hugemm arches", () => {
  it("walks a table chain on every arch with every entry decoded", () => {
    const r = cli(["arches"]);
    expect(r.code).toBe(EXIT_OK);
    for (const id of ["x86-64:4level", "arm64:4k-48", "ppc8xx:4k"]) expect(r.out).toContain(`== ${id}`);
    // x86: the PTE of the first page, pfn and bits as the kernel defines them.
    expect(r.out).toMatch(/pte\[ {3}0\] @0x103000 {3}0x8000000100045867 {2}leaf {2}_PAGE_PRESENT _PAGE_RW _PAGE_USER _PAGE_ACCESSED _PAGE_DIRTY/);
    expect(r.out).toContain("=> pa 0x100045123  4K page at pte level, rw-u young dirty");
    expect(r.out).toContain("permission fault at pte");
    expect(r.out).toContain("one TLB entry covers 64K");
    expect(r.out).toContain("8M page at pmd level");
    expect(r.out).not.toContain("\x1b[");
  });

  it("takes the arches to show, and refuses an unknown one", () => {
    const r = cli(["arches", "--arch", "arm64:64k,x86-64:5level"]);
    expect(r.out.match(/^== .*$/gm)?.map((l) => l.split(":").slice(0, 2).join(":"))).toEqual(["== arm64:64k-48", "== x86-64:5level"]);
    const bad = cli(["arches", "--arch", "x86-64:3level"]);
    expect(bad.code).toBe(EXIT_USAGE);
    expect(bad.err).toMatch(/^hugemm: arches: --arch: unknown x86-64 variant "3level": expected one of 4level, 5level/);
  });
});
