#!/usr/bin/env node
// Entry point for the README's two commands. On a fresh machine it fetches
// the pinned pnpm through npx, installs the workspace from the lockfile, then
// runs the demo or the tests; later runs skip straight to the work.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PNPM = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager; // "pnpm@10.x.y"
const [task, ...args] = process.argv.slice(2);

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: "inherit", shell: false, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

/** The pinned pnpm: the one on PATH if its major matches, else a private copy under .cache/pnpm. */
function pnpmCommand() {
  const want = PNPM.split("@")[1];
  const probe = spawnSync("pnpm", ["--version"], { encoding: "utf8" });
  if (probe.status === 0 && probe.stdout.trim().split(".")[0] === want.split(".")[0]) return ["pnpm", []];
  const local = join(root, ".cache", "pnpm", "node_modules", ".bin", "pnpm");
  if (!existsSync(local)) {
    process.stderr.write(`hugemm: fetching ${PNPM} into .cache/pnpm...\n`);
    const status = run("npm", ["install", "--prefix", join(root, ".cache", "pnpm"), "--no-save", "--no-audit", "--no-fund", "--loglevel=error", PNPM], { stdio: ["ignore", "ignore", "inherit"] });
    if (status !== 0) process.exit(status);
  }
  return [local, []];
}

function installed() {
  const marker = join(root, "node_modules", ".pnpm", "lock.yaml");
  if (!existsSync(marker)) return false;
  return statSync(marker).mtimeMs >= statSync(join(root, "pnpm-lock.yaml")).mtimeMs;
}

function ensureInstalled(pnpm) {
  if (installed()) return;
  process.stderr.write("hugemm: installing the workspace (first run)...\n");
  const status = run(pnpm[0], [...pnpm[1], "install", "--frozen-lockfile", "--reporter=append-only"], { stdio: ["ignore", "ignore", "inherit"] });
  if (status !== 0) process.exit(status);
}

const pnpm = pnpmCommand();
ensureInstalled(pnpm);
const bin = (name) => join(root, "node_modules", ".bin", name);

switch (task) {
  case "demo":
    process.exit(run(bin("tsx"), [join(root, "apps", "cli", "src", "bin.ts"), "demo", ...args]));
    break;
  case "install":
    // Prints the pnpm to use, for .ci/run.
    process.stdout.write(`${pnpm[0]}\n`);
    break;
  case "test":
    process.exit(run(bin("vitest"), ["run", ...args]));
    break;
  case "hugemm":
    process.exit(run(bin("tsx"), [join(root, "apps", "cli", "src", "bin.ts"), ...args]));
    break;
  default:
    process.stderr.write(`usage: node tooling/scripts/run.mjs demo|test|hugemm [args...] (got ${JSON.stringify(task ?? "")})\n`);
    process.exit(2);
}
