import { describe, expect, it } from "vitest";
import { EXIT_OK, EXIT_USAGE } from "./cli/errors";
import { COMMANDS } from "./main";
import { cli, testdata } from "./testing/cli";

describe("hugemm", () => {
  it("lists every command with examples and the exit codes", () => {
    const r = cli(["--help"]);
    expect(r.code).toBe(EXIT_OK);
    for (const c of COMMANDS) expect(r.out).toContain(`  ${c.name.padEnd(10)} ${c.summary}\n`);
    expect(r.out).toContain("examples:\n  hugemm demo\n");
    expect(r.out).toContain("exit codes: 0 success; 1 a failed expect, an invariant violation or a fuzz finding; 2 bad usage or input; 3 an internal error in hugemm");
    expect(cli([]).code).toBe(EXIT_USAGE);
  });

  it.each(COMMANDS.map((c) => [c.name]))("%s --help: usage, every option, examples, exit codes", (name) => {
    const r = cli([name, "--help"]);
    expect(r.code).toBe(EXIT_OK);
    expect(r.out.startsWith(`usage: hugemm ${name}`)).toBe(true);
    const c = COMMANDS.find((x) => x.name === name)!;
    for (const o of Object.keys(c.options)) expect(r.out).toContain(`--${o}`);
    expect(r.out).toMatch(/\nexamples:\n {2}hugemm /);
    expect(r.out).toContain("exit codes: 0 success");
    expect(cli([name, "-h"]).out).toBe(r.out);
  });

  it("rejects an unknown command or option with exit code 2, naming the choices", () => {
    const r = cli(["frobnicate"]);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toBe(`hugemm: unknown command "frobnicate": expected one of ${COMMANDS.map((c) => c.name).join(", ")} (see hugemm --help)\n`);
    expect(cli(["run", testdata("thp.yaml"), "--frob"]).err).toMatch(/^hugemm: run: unknown option "--frob": expected one of --arch, --set, --seed, --no-check, --at, --json, --html, --help, --quiet\n$/);
    expect(cli(["run"]).err).toBe("hugemm: run: missing <scenario>: expected a scenario file (.yaml or .json), or the name of a shipped scenario (pmd-thp, tour, ...) (see hugemm run --help)\n");
    expect(cli(["arches", "extra"]).err).toBe('hugemm: arches: unexpected argument "extra": arches takes no arguments\n');
  });

  it("colours stdout only for a terminal without NO_COLOR", () => {
    const thp = testdata("thp.yaml");
    expect(cli(["run", thp], { stdoutIsTTY: true }).out).toContain("\x1b[32mPASS\x1b[0m");
    expect(cli(["run", thp], { stdoutIsTTY: true, env: { NO_COLOR: "1" } }).out).not.toContain("\x1b[");
    expect(cli(["run", thp]).out).not.toContain("\x1b[");
  });

  it("draws a progress bar on a terminal's stderr, never with --quiet or off a terminal", () => {
    const thp = testdata("thp.yaml");
    const tty = cli(["run", thp], { stderrIsTTY: true });
    expect(tty.err).toContain("\r[");
    expect(tty.err.endsWith("\r")).toBe(true);
    expect(cli(["run", thp, "--quiet"], { stderrIsTTY: true }).err).toBe("");
    expect(cli(["run", thp]).err).toBe("");
  });
});
