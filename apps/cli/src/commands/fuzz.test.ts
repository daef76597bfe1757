import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "../cli/errors";
import { leakyMprotect } from "../fuzz/testing/planted";
import { COMMANDS } from "../main";
import { cli, tempDir } from "../testing/cli";
import { fuzzCommand, makeFuzzCommand } from "./fuzz";

/** The shipped commands with `fuzz` over a kernel whose mprotect leaks a THP reference. */
const planted = COMMANDS.map((c) => (c === fuzzCommand ? makeFuzzCommand(leakyMprotect) : c));

describe("hugemm fuzz", () => {
  it("runs sequences with the checker on and exits 0 when nothing breaks", { timeout: 30_000 }, () => {
    const r = cli(["fuzz", "--ops", "60", "--runs", "2", "--seed", "5", "--arch", "arm64:4k"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toBe(
      "fuzz on arm64:4k-48: 2 of 2 sequences of 60 steps (seeds 5..6), 120 steps run with the invariant checker after every operation\nno violation, crash or refused sequence found\n",
    );
  });

  it("shrinks a planted bug, writes the reproducer, and exits 1; the reproducer passes with the real kernel", { timeout: 60_000 }, () => {
    const dir = tempDir();
    const out = join(dir, "repro.yaml");
    const r = cli(["fuzz", "--runs", "20", "--out", out], { commands: planted });
    expect(r.code).toBe(EXIT_FAILED);
    expect(r.out).toMatch(/^fuzz on x86-64:4level: 2 of 20 sequences of 200 steps \(seeds 1\.\.2\)/);
    expect(r.out).toContain("INVARIANT VIOLATION in sequence 1 (seed 2)");
    expect(r.out).toMatch(/shrunk from \d+ to [1-5] steps in \d+ runs:/);
    expect(r.out.trimEnd().endsWith(`reproducer written to ${out}: hugemm run ${out}`)).toBe(true);
    const text = readFileSync(out, "utf8");
    expect(text).toMatch(/^name: fuzz-x86-64-seed-2\n/);
    // The shipped run command uses the real kernel, where the planted leak does not exist.
    const replay = cli(["run", out]);
    expect(replay.code).toBe(EXIT_OK);
    expect(replay.out).toContain("PASSED");
  });

  it("names the reproducer after the failing sequence's seed when no --out is given", { timeout: 60_000 }, () => {
    const dir = tempDir();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = cli(["fuzz", "--runs", "3", "--quiet"], { commands: planted });
      expect(r.code).toBe(EXIT_FAILED);
      expect(existsSync(join(dir, "fuzz-x86-64-seed-2.yaml"))).toBe(true);
    } finally {
      process.chdir(cwd);
    }
  });

  it("refuses bad options, naming them and what was expected", () => {
    const cases: [string[], RegExp][] = [
      [["--ops", "0"], /^hugemm: fuzz: --ops/],
      [["--runs", "x"], /^hugemm: fuzz: --runs/],
      [["--seed", "-1"], /^hugemm: fuzz: --seed/],
      [["--arch", "sparc"], /^hugemm: fuzz: --arch: .*sparc.*expected/],
    ];
    for (const [args, err] of cases) {
      const r = cli(["fuzz", ...args]);
      expect(r.code, args.join(" ")).toBe(EXIT_USAGE);
      expect(r.err).toMatch(err);
      expect(r.out).toBe("");
    }
  });

  it("reports an unwritable --out as a usage error after printing the finding", { timeout: 60_000 }, () => {
    const r = cli(["fuzz", "--runs", "3", "--out", "/nonexistent-dir/x.yaml"], { commands: planted });
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.out).toContain("INVARIANT VIOLATION");
    expect(r.err).toMatch(/^hugemm: fuzz: cannot write --out \/nonexistent-dir\/x\.yaml \(ENOENT\): expected a writable file path/);
  });
});
