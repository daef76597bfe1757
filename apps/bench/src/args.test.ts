import { describe, expect, it } from "vitest";
import { parseArgs } from "./args";

describe("hugemm-bench arguments", () => {
  it("parses the documented options", () => {
    expect(parseArgs(["--quick", "--only", "arch.x86", "--json", "out.json"])).toEqual({ quick: true, only: "arch.x86", json: "out.json", help: false });
    expect(parseArgs(["--", "--quick"]).quick).toBe(true);
  });
  it("names a bad option and a missing value", () => {
    expect(() => parseArgs(["--fast"])).toThrow('unknown option "--fast": expected --quick, --only <pattern>, --json <file> or --help');
    expect(() => parseArgs(["--json"])).toThrow("--json needs a value");
  });
});
