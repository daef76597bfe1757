import { describe, expect, it } from "vitest";
import { flag, int, list, parseArgs, str, type OptionSpec } from "./args";

const OPTS: Record<string, OptionSpec> = {
  arch: { type: "string", multiple: true, help: "" },
  seed: { type: "string", help: "" },
  json: { type: "boolean", short: "j", help: "" },
};
const POS = [{ name: "scenario", help: "a scenario file" }];

describe("argument parsing", () => {
  it("takes --name value, --name=value, short flags, repeats and -- ", () => {
    const a = parseArgs("run", ["x.yaml", "--arch", "x86-64,arm64:4k", "--arch=ppc8xx", "-j", "--seed=7"], OPTS, POS);
    expect(a.positionals).toEqual(["x.yaml"]);
    expect(list(a, "arch", true)).toEqual(["x86-64", "arm64:4k", "ppc8xx"]);
    expect(flag(a, "json")).toBe(true);
    expect(int("run", a, "seed")).toBe(7);
    expect(str(a, "seed")).toBe("7");
    expect(parseArgs("run", ["--", "--odd.yaml"], OPTS, POS).positionals).toEqual(["--odd.yaml"]);
    expect(int("run", parseArgs("run", ["x", "--seed", "0x10"], OPTS, POS), "seed")).toBe(16);
  });

  it("names the bad input and what was expected", () => {
    const err = (argv: string[]) => {
      try {
        parseArgs("run", argv, OPTS, POS);
      } catch (e) {
        return (e as Error).message;
      }
      return "no error";
    };
    expect(err(["x", "--frob"])).toBe('run: unknown option "--frob": expected one of --arch, --seed, --json');
    expect(err(["x", "-z"])).toBe('run: unknown option "-z": expected one of --arch, --seed, --json');
    expect(err(["x", "--seed"])).toBe("run: --seed needs a value: a value");
    expect(err(["x", "--seed", "--json"])).toBe("run: --seed needs a value: a value");
    expect(err(["x", "--json=yes"])).toBe('run: --json takes no value (got "yes")');
    expect(err(["x", "--seed", "1", "--seed", "2"])).toBe('run: --seed given twice ("1" and "2"): expected it once');
    expect(err([])).toBe("run: missing <scenario>: expected a scenario file (see hugemm run --help)");
    expect(err(["x", "y"])).toBe('run: unexpected argument "y": expected only <scenario>');
    expect(() => int("run", parseArgs("run", ["x", "--seed", "-3"], OPTS, POS), "seed")).toThrow('run: --seed "-3": expected a whole number from 0');
    expect(() => int("run", parseArgs("run", ["x", "--seed", "9"], OPTS, POS), "seed", 1, 5)).toThrow('run: --seed "9": expected a whole number from 1 to 5');
  });
});
