import { describe, expect, it } from "vitest";
import { parseArch } from "./arch";
import { EXIT_OK, EXIT_USAGE, main } from "./main";

function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let out = "";
  let err = "";
  const code = main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s), stdoutIsTTY: false, env });
  return { code, out, err };
}

describe("hugemm", () => {
  it("runs the demo: a walk on every arch with every entry decoded", () => {
    const r = run(["demo"]);
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
  it("colours only for a terminal without NO_COLOR", () => {
    let out = "";
    main(["demo"], { stdout: (s) => (out += s), stderr: () => {}, stdoutIsTTY: true, env: {} });
    expect(out).toContain("\x1b[1m");
    out = "";
    main(["demo"], { stdout: (s) => (out += s), stderr: () => {}, stdoutIsTTY: true, env: { NO_COLOR: "1" } });
    expect(out).not.toContain("\x1b[");
  });
  it("prints help with examples and exit codes", () => {
    const r = run(["--help"]);
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toContain("examples:");
    expect(r.out).toContain("exit codes:");
    expect(run(["demo", "--help"]).out).toContain("usage: hugemm demo");
  });
  it("rejects an unknown command or argument with exit code 2", () => {
    const r = run(["frobnicate"]);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toBe('hugemm: unknown command "frobnicate": expected demo (see hugemm --help)\n');
    expect(run(["demo", "extra"]).err).toContain('demo takes no arguments (got "extra")');
    expect(run([]).code).toBe(EXIT_USAGE);
  });
});

describe("arch specs", () => {
  it("parse names, variants and arm64 granule shorthands", () => {
    expect(parseArch("x86-64").id).toBe("x86-64:4level");
    expect(parseArch("x86-64:5level").id).toBe("x86-64:5level");
    expect(parseArch("arm64:64k").id).toBe("arm64:64k-48");
    expect(parseArch("arm64:16k").id).toBe("arm64:16k-47");
    expect(parseArch("ppc8xx:16k").id).toBe("ppc8xx:16k");
  });
  it("name the valid choices for an unknown arch or variant", () => {
    expect(() => parseArch("sparc")).toThrow('unknown arch "sparc": expected one of x86-64, arm64, ppc8xx');
    expect(() => parseArch("arm64:8k")).toThrow(/unknown arm64 variant "8k": expected one of 4k-39, 4k-48/);
    expect(() => parseArch("x86-64:3level")).toThrow(/expected one of 4level, 5level/);
  });
});
