import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const script = join(here, "..", "new-arch.mjs");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const work = mkdtempSync(join(tmpdir(), "hugemm-new-arch-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd = root) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Link the workspace packages the generated package depends on, as pnpm install would. */
function link(pkgDir: string) {
  const links: [string, string][] = [
    ["@hugemm/arch", join(root, "packages", "arch")],
    ["@hugemm/tsconfig", join(root, "tooling", "typescript")],
    ["@hugemm/vitest-config", join(root, "tooling", "vitest")],
    ["@hugemm/eslint-config", join(root, "tooling", "eslint")],
    ["@types/node", realpathSync(join(root, "packages", "arch", "node_modules", "@types", "node"))],
    ["tsup", realpathSync(join(root, "node_modules", "tsup"))],
    ["vitest", realpathSync(join(root, "node_modules", "vitest"))],
    ["fast-check", realpathSync(join(root, "node_modules", "fast-check"))],
  ];
  for (const [name, target] of links) {
    const at = join(pkgDir, "node_modules", name);
    mkdirSync(dirname(at), { recursive: true });
    symlinkSync(target, at, "dir");
  }
}

describe("pnpm new:arch", () => {
  it("creates a backend that typechecks, builds and passes the conformance kit out of the box", () => {
    const out = join(work, "arch-gentest");
    const gen = run("node", [script, "gentest", "--out", out, "--no-install"]);
    expect(gen.status, gen.out).toBe(0);
    expect(gen.out).toContain("@hugemm/arch-gentest");
    const pkg = JSON.parse(readFileSync(join(out, "package.json"), "utf8"));
    expect(pkg.name).toBe("@hugemm/arch-gentest");
    expect(pkg.exports["."].types).toBe("./src/index.ts");
    expect(readFileSync(join(out, "src", "backend.ts"), "utf8")).toContain('readonly arch = "gentest"');
    expect(readFileSync(join(out, "src", "index.ts"), "utf8")).toContain("createGentestBackend");
    link(out);

    const tsc = run(bin("tsc"), ["--noEmit", "-p", join(out, "tsconfig.json")]);
    expect(tsc.status, tsc.out).toBe(0);

    const build = run(bin("tsup"), [], out);
    expect(build.status, build.out).toBe(0);
    expect(existsSync(join(out, "dist", "index.js"))).toBe(true);
    expect(existsSync(join(out, "dist", "index.d.ts"))).toBe(true);

    const report = join(work, "kit.json");
    const test = run(bin("vitest"), ["run", "--root", out, "--reporter=json", `--outputFile=${report}`]);
    expect(test.status, test.out).toBe(0);
    const r = JSON.parse(readFileSync(report, "utf8"));
    expect(r.numFailedTests).toBe(0);
    expect(r.numPassedTests).toBeGreaterThan(60);
    const names: string[] = r.testResults.flatMap((f: { assertionResults: { fullName: string }[] }) => f.assertionResults.map((a) => a.fullName));
    expect(names.some((n) => n.includes("arch conformance: gentest:4level"))).toBe(true);
  });

  it("rejects a bad name or an existing folder with a clear message", () => {
    const bad = run("node", [script, "Bad_Name", "--out", join(work, "x"), "--no-install"]);
    expect(bad.status).toBe(2);
    expect(bad.out).toContain('invalid backend name "Bad_Name": expected lowercase letters, digits and dashes');
    const none = run("node", [script]);
    expect(none.status).toBe(2);
    expect(none.out).toContain("missing backend name");
    const flag = run("node", [script, "x", "--frobnicate"]);
    expect(flag.out).toContain("unknown option --frobnicate");
    mkdirSync(join(work, "exists"));
    const exists = run("node", [script, "exists", "--out", join(work, "exists"), "--no-install"]);
    expect(exists.status).toBe(1);
    expect(exists.out).toContain("already exists");
  });
});
