import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError, parseArgs } from "./args";

describe("hugemm-bench arguments", () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-args-"));

  it("parses the documented options", () => {
    const out = join(dir, "out.json");
    expect(parseArgs(["--quick", "--only", "arch.x86", "--json", out])).toEqual({ quick: true, only: ["arch.x86"], json: out, html: undefined, compare: undefined, help: false });
    expect(parseArgs(["--", "--quick"]).quick).toBe(true);
    expect(parseArgs([]).quick).toBe(false);
    expect(parseArgs(["--help"]).help).toBe(true);
    expect(parseArgs(["-h"]).help).toBe(true);
  });

  it("takes --opt=value, comma-separated patterns, --html and --compare", () => {
    const html = join(dir, "r.html");
    const a = parseArgs(["--only=fault.anon, munmap", `--html=${html}`, "--compare", "earlier.json"]);
    expect(a.only).toEqual(["fault.anon", "munmap"]);
    expect(a.html).toBe(html);
    expect(a.compare).toBe("earlier.json");
  });

  it("names a bad option, a missing value and what was expected", () => {
    expect(() => parseArgs(["--fast"])).toThrow('unknown option "--fast": expected --quick, --only <pattern>, --json <file>, --html <file>, --compare <file> or --help');
    expect(() => parseArgs(["--json"])).toThrow("--json needs a value: expected --json <file>");
    expect(() => parseArgs(["--compare", "--quick"])).toThrow("--compare needs a value: expected --compare <earlier.json>");
    expect(() => parseArgs(["--only="])).toThrow("--only needs a value: expected --only <pattern>, got an empty string");
    expect(() => parseArgs(["--only", "a,,b"])).toThrow('--only: empty pattern in "a,,b": expected names or parts of names, separated by commas');
    expect(() => parseArgs(["quick"])).toThrow('unexpected argument "quick": hugemm-bench takes only options');
    expect(() => parseArgs(["--quick=yes"])).toThrow('unknown option "--quick=yes"');
    expect(() => parseArgs(["--json", "a.json", "--json", "b.json"])).toThrow("--json given twice");
  });

  it("refuses an output file in a directory that does not exist, or a directory", () => {
    expect(() => parseArgs(["--json", "/nonexistent-dir/x.json"])).toThrow('--json: the directory "/nonexistent-dir" does not exist');
    expect(() => parseArgs(["--html", dir])).toThrow(`--html: ${JSON.stringify(dir)} is a directory, expected a file to write`);
  });

  it("throws UsageError, which the command turns into exit status 2", () => {
    expect(() => parseArgs(["--nope"])).toThrow(UsageError);
  });
});
