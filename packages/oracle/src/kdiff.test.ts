import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kernel, type KernelConfig } from "@hugemm/core";
import { parseScenario } from "@hugemm/scenario";
import { describe, expect, it } from "vitest";
import { kdiff, KernelRunError, OracleUnavailable, unavailableReason } from "./kdiff";
import type { MachineProbe } from "./machine";
import { compileKexec, findCompiler } from "./native/compile";

const cc = findCompiler();
const machine: MachineProbe = { linux: true, root: true, swap: false, nodes: 1, damon: false, exists: () => true };
const why = unavailableReason({ ...machine, linux: process.platform === "linux", root: process.getuid?.() === 0 }, cc);

const MPROTECT = `name: planted
machine: { arch: x86-64, memory: 1G }
settings: { transparent_hugepage/enabled: always }
steps:
  - mmap: { pid: 1, as: buf, len: 4M, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: buf, len: 4M, pattern: 1 }
  - checkpoint: written
  - mprotect: { pid: 1, at: buf+1M, len: 4K, prot: r }
  - checkpoint: mprotected
`;

/** A test double with a planted divergence: a partial mprotect splits the VMA but leaves the PMD (and the protection) alone. */
function noPmdSplit(cfg: KernelConfig): Kernel {
  const k = new Kernel(cfg);
  k.hugeVmaOps = { ...k.hugeVmaOps, splitAt() {}, changeProtection: (_k, _mm, _vma, _level, addr, end) => end - addr };
  return k;
}

describe("when the oracle can run", () => {
  it("names why not: not Linux, no compiler, not root", () => {
    expect(unavailableReason({ ...machine, linux: false }, { argv: ["cc"], version: "cc" })).toMatch(/^the kernel oracle needs Linux/);
    expect(unavailableReason(machine, { missing: "no C compiler: \"cc\" was not found on PATH" })).toBe('no C compiler: "cc" was not found on PATH');
    expect(unavailableReason({ ...machine, root: false }, { argv: ["cc"], version: "cc" })).toMatch(/^not root: /);
    expect(() => kdiff(parseScenario(MPROTECT, "p.yaml"), { probe: { ...machine, root: false }, compiler: { argv: ["cc"], version: "cc" } })).toThrow(OracleUnavailable);
  });
});

describe("a run the kernel stops", () => {
  /** An executor double: a script that prints what a real one would on such a run. */
  function fakeExecutor(output: string): string {
    const dir = mkdtempSync(join(tmpdir(), "kexec-fake-"));
    const file = join(dir, "kexec");
    writeFileSync(file, `#!/bin/sh\ncat > /dev/null\ncat <<'EOF'\n${output}\nEOF\nexit 1\n`);
    chmodSync(file, 0o755);
    return file;
  }

  it.skipIf(process.platform !== "linux")("names the step and the kernel's errno for a rejected setting", () => {
    const s = parseScenario(MPROTECT.replace("  - checkpoint: mprotected\n", "  - set: { transparent_hugepage/defrag: never }\n"), "p.yaml");
    const exe = fakeExecutor("ok -1\nok -1\nok -1\ncheckpoint start\nendcheckpoint\nok 0\nok 1 1024\ncheckpoint written\nendcheckpoint\nok 3\nerr 4 EINVAL writing \"never\" to /sys/kernel/mm/transparent_hugepage/defrag: Invalid argument\ndone 1");
    expect(() => kdiff(s, { probe: machine, executor: exe })).toThrow(new KernelRunError(4, 9, 'the kernel rejected a setting at step 4 (p.yaml:9): EINVAL writing "never" to /sys/kernel/mm/transparent_hugepage/defrag: Invalid argument; the original value was restored'));
  });

  it.skipIf(process.platform !== "linux")("names the step at which a process died", () => {
    const exe = fakeExecutor("ok -1\nok -1\nok -1\ncheckpoint start\nendcheckpoint\nok 0\nfatal 1 process 1 (pid 4242) died: killed by SIGKILL\ndone 1");
    expect(() => kdiff(parseScenario(MPROTECT, "p.yaml"), { probe: machine, executor: exe })).toThrow(/^the kernel stopped the run at step 1 \(write, p\.yaml:6\): process 1 \(pid 4242\) died: killed by SIGKILL; the machine's settings were restored$/);
  });
});

describe.skipIf(why !== null)(`on this machine's kernel${why === null ? "" : ` (skipped: ${why})`}`, () => {
  it("finds no difference on a partial mprotect of a THP", () => {
    const r = kdiff(parseScenario(MPROTECT, "p.yaml"));
    expect(r.summary.compared).toBeGreaterThan(100);
    expect(r.rows.filter((x) => x.judged && !x.equal && x.view !== "global")).toEqual([]);
  });

  it("reports a planted divergence: a model that does not split the PMD on a partial mprotect", () => {
    const r = kdiff(parseScenario(MPROTECT, "p.yaml"), { kernelFactory: noPmdSplit, check: false });
    const diff = r.rows.filter((x) => x.judged && !x.equal);
    expect(diff.length).toBeGreaterThan(10);
    expect(diff.find((x) => x.checkpoint === "mprotected" && x.view === "smaps buf" && x.field === "[0] AnonHugePages")).toMatchObject({ model: 2048, kernel: 0 });
    expect(diff.find((x) => x.checkpoint === "mprotected" && x.field === "thp_split_pmd")).toMatchObject({ model: 0, kernel: 1 });
    expect(diff.every((x) => x.checkpoint !== "written")).toBe(true);
  });

  it("reports a process that dies mid-run by the step it was at, with the settings restored", async () => {
    const binary = compileKexec(cc as Exclude<typeof cc, { missing: string }>);
    const child = spawn(binary, ["--no-quiesce"], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    const exited = new Promise<void>((res) => child.on("exit", () => res()));
    await new Promise<void>((res) => {
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (/^ok -1$/m.test(out)) res();
      });
      child.stdin.write("-1 spawn 1\n");
    });
    const pid = Number(/^baseline 1 (\d+)$/m.exec(out)![1]);
    process.kill(pid, "SIGKILL");
    child.stdin.end("0 mmap 1 buf 0 4096 3 34 - 0\n");
    await exited;
    expect(out).toMatch(new RegExp(`^fatal 0 process 1 \\(pid ${pid}\\) died: killed by SIGKILL$`, "m"));
  });
});
