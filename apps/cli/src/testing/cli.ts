import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "../cli/command";
import { COMMANDS, main } from "../main";

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Run `hugemm argv` in-process, capturing stdout and stderr. */
export function cli(argv: readonly string[], opts: { env?: NodeJS.ProcessEnv; stdoutIsTTY?: boolean; stderrIsTTY?: boolean; commands?: readonly Command[] } = {}): CliRun {
  let out = "";
  let err = "";
  const code = main(argv, {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    stdoutIsTTY: opts.stdoutIsTTY ?? false,
    stderrIsTTY: opts.stderrIsTTY ?? false,
    env: opts.env ?? {},
  }, opts.commands ?? COMMANDS);
  return { code, out, err };
}

/** The path of a test scenario in src/testdata. */
export function testdata(name: string): string {
  return new URL(`../testdata/${name}`, import.meta.url).pathname;
}

/** A fresh temporary directory. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "hugemm-cli-"));
}

/** Write `text` to a file in a fresh temporary directory and return its path. */
export function tempScenario(text: string, name = "s.yaml"): string {
  const p = join(tempDir(), name);
  writeFileSync(p, text);
  return p;
}
