import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileKexec, findCompiler } from "./compile";
import { runExecutor, executorArgs, type ExecutorPaths } from "./run";

const cc = findCompiler();
const why = process.platform !== "linux" ? "not Linux" : "missing" in cc ? cc.missing : null;
const THP = "/sys/kernel/mm/transparent_hugepage";

/** A fake sysfs tree with the THP files this test writes, and its own lock and journal. */
function fakeMachine(): ExecutorPaths & { root: string; file(rel: string): string } {
  const root = mkdtempSync(join(tmpdir(), "kexec-settings-"));
  const files: Record<string, string> = { [`${THP}/enabled`]: "always [madvise] never\n", [`${THP}/defrag`]: "always defer defer+madvise [madvise] never\n", [`${THP}/khugepaged/scan_sleep_millisecs`]: "10000\n" };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(root + rel), { recursive: true });
    writeFileSync(root + rel, text);
  }
  return { root, sysroot: root, lock: join(root, "lock"), journal: join(root, "journal"), file: (rel) => readFileSync(root + rel, "utf8") };
}

/** Start the executor, feed it `lines`, and resolve once it printed `until`; the child is returned running. */
function startUntil(binary: string, paths: ExecutorPaths, lines: string[], until: RegExp): Promise<{ kill(sig: NodeJS.Signals): Promise<number | null>; out: () => string }> {
  const child = spawn(binary, executorArgs(paths), { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (until.test(out)) resolve({ kill: (sig) => (child.kill(sig), exited), out: () => out });
    });
    child.on("error", reject);
    child.stdin.write(`${lines.join("\n")}\n`);
  });
}

describe.skipIf(why !== null)(`settings are saved, restored and recovered${why === null ? "" : ` (skipped: ${why})`}`, () => {
  const binary = why === null ? compileKexec(cc as Exclude<typeof cc, { missing: string }>) : "";

  it("restores every setting a run wrote, and khugepaged's pause, when the run ends", () => {
    const m = fakeMachine();
    const out = runExecutor(binary, ["-1 spawn 1", `-1 set ${THP}/enabled always`, `0 set ${THP}/defrag never`, `1 set ${THP}/enabled never`], m);
    expect([...out.steps.values()].map((s) => s.outcome)).toEqual(["ok", "ok", "ok"]);
    expect(m.file(`${THP}/enabled`)).toBe("madvise");
    expect(m.file(`${THP}/defrag`)).toBe("madvise");
    expect(m.file(`${THP}/khugepaged/scan_sleep_millisecs`)).toBe("10000");
    expect(existsSync(m.journal!)).toBe(false);
  });

  it("makes a setting the machine lacks unsupported, not an error", () => {
    const m = fakeMachine();
    const out = runExecutor(binary, [`-1 set ${THP}/pud_deposit at-split`], { ...m, noQuiesce: true });
    expect(out.steps.get(-1)).toEqual({ index: -1, outcome: "unsupported", detail: `no such file ${THP}/pud_deposit` });
  });

  it("restores on SIGTERM in the middle of a run", async () => {
    const m = fakeMachine();
    const run = await startUntil(binary, { ...m, noQuiesce: true }, ["-1 spawn 1", `0 set ${THP}/enabled always`], /^ok 0$/m);
    expect(m.file(`${THP}/enabled`)).toBe("always");
    await run.kill("SIGTERM");
    expect(m.file(`${THP}/enabled`)).toBe("madvise");
    expect(existsSync(m.journal!)).toBe(false);
  });

  it("recovers from the journal when a run was killed outright (a crash), at the next run", async () => {
    const m = fakeMachine();
    const run = await startUntil(binary, { ...m, noQuiesce: true }, ["-1 spawn 1", `0 set ${THP}/enabled never`, `1 set ${THP}/defrag always`], /^ok 1$/m);
    await run.kill("SIGKILL");
    // Killed: nothing could restore; the journal holds the originals.
    expect(m.file(`${THP}/enabled`)).toBe("never");
    expect(m.file(`${THP}/defrag`)).toBe("always");
    expect(readFileSync(m.journal!, "utf8")).toBe(`${m.root}${THP}/enabled\tmadvise\n${m.root}${THP}/defrag\tmadvise\n`);
    const next = runExecutor(binary, [], { ...m, noQuiesce: true });
    expect(next.recovered).toEqual([`${m.root}${THP}/defrag madvise ok`, `${m.root}${THP}/enabled madvise ok`]);
    expect(m.file(`${THP}/enabled`)).toBe("madvise");
    expect(m.file(`${THP}/defrag`)).toBe("madvise");
    expect(existsSync(m.journal!)).toBe(false);
  });

  const thpFiles = () => ["enabled", "defrag", "use_zero_page", "hugepages-64kB/enabled", "khugepaged/scan_sleep_millisecs"].map((f) => readFileSync(`${THP}/${f}`, "utf8")).join("");
  const onMachine = process.getuid?.() === 0 && existsSync(`${THP}/hugepages-64kB/enabled`);

  it.skipIf(!onMachine)("leaves this machine's settings as they were after an interrupted run (SIGINT)", async () => {
    const before = thpFiles();
    const run = await startUntil(binary, {}, ["-1 spawn 1", `0 set ${THP}/enabled never`, `1 set ${THP}/hugepages-64kB/enabled always`, `2 set ${THP}/use_zero_page 0`], /^ok 2$/m);
    expect(thpFiles()).not.toBe(before);
    await run.kill("SIGINT");
    expect(thpFiles()).toBe(before);
  });

  it.skipIf(!onMachine)("leaves this machine's settings as they were when the process that started the run dies", async () => {
    const before = thpFiles();
    // A shell stands in for hugemm: the executor is its child, reading the steps from fd 3; killing the shell is hugemm dying.
    const sh = spawn("sh", ["-c", `"$0" --no-quiesce 0<&3 & echo $!; wait`, binary], { stdio: ["ignore", "pipe", "inherit", "pipe"] });
    const steps = sh.stdio[3] as NodeJS.WritableStream;
    steps.write(`-1 spawn 1
0 set ${THP}/defrag never
`);
    let out = "";
    await new Promise<void>((res) => {
      sh.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (/^ok 0$/m.test(out)) res();
      });
    });
    const pid = Number(out.split("\n")[0]);
    expect(thpFiles()).not.toBe(before);
    sh.kill("SIGKILL");
    // The executor gets SIGTERM as its parent dies, puts the settings back and exits.
    for (let i = 0; i < 300 && thpFiles() !== before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(thpFiles()).toBe(before);
    expect(pid).toBeGreaterThan(1);
  });

  it.skipIf(process.getuid?.() !== 0)("reports the kernel's errno for a value it rejects, and leaves the setting as it was", () => {
    const m = fakeMachine();
    const before = readFileSync(`${THP}/enabled`, "utf8");
    // The fake tree points at the real file: the kernel itself refuses the value. The machine-wide lock serialises this with kdiff runs.
    const link = join(m.root, "real-enabled");
    symlinkSync(`${THP}/enabled`, link);
    const out = runExecutor(binary, ["-1 spawn 1", "0 set /real-enabled sometimes"], { sysroot: m.root, journal: m.journal!, noQuiesce: true });
    expect(out.steps.get(0)).toMatchObject({ outcome: "EINVAL" });
    expect(out.steps.get(0)!.detail).toContain('writing "sometimes" to');
    expect(readFileSync(`${THP}/enabled`, "utf8")).toBe(before);
  });
});
