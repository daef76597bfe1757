import { describe, expect, it } from "vitest";
import { loadScenario, parseScenario } from "./parse";

const EXAMPLE = new URL("./testdata/pmd-thp-fork.yaml", import.meta.url).pathname;

describe("parseScenario", () => {
  it("reads the brief's example with every field and position", () => {
    const s = loadScenario(EXAMPLE);
    expect(s.name).toBe("pmd-thp-fork");
    expect(s.description).toBe("A PMD THP shared at fork; the child's write splits its PMD.");
    expect(s.file).toBe(EXAMPLE);
    expect(s.machine).toEqual({ arch: "x86-64", memory: "4G", nodes: 1, movable: 0, swap: "1G" });
    expect(s.seed).toBe(1);
    expect(s.settings).toEqual([
      ["transparent_hugepage/enabled", "always"],
      ["transparent_hugepage/hugepages-64kB/enabled", "always"],
      ["transparent_hugepage/pud_deposit", "at-split"],
    ]);
    expect(s.files).toEqual({});
    expect(s.steps.map((x) => [x.op, x.line, x.column])).toEqual([
      ["mmap", 15, 5],
      ["write", 16, 5],
      ["fork", 17, 5],
      ["checkpoint", 18, 5],
      ["write", 19, 5],
      ["expect", 20, 5],
    ]);
    expect(s.steps[0]!.arg).toEqual({ pid: 1, as: "buf", len: "8M", prot: "rw", flags: "private|anonymous" });
    expect(s.steps[3]!.arg).toBe("after-fork");
    expect((s.steps[5]!.arg as unknown[]).length).toBe(7);
  });

  it("fills the defaults: x86-64, the kernel's memory size, one node, no movable zone, no swap, seed 1", () => {
    const s = parseScenario("name: bare\nsteps: []\n", "bare.yaml");
    expect(s.machine).toEqual({ arch: "x86-64", nodes: 1, movable: 0, swap: 0 });
    expect(s.seed).toBe(1);
    expect(s.settings).toEqual([]);
    expect(s.files).toEqual({});
    expect(s.steps).toEqual([]);
    expect(s.description).toBeUndefined();
  });

  it("reads JSON through the same parser, to the same steps as YAML", () => {
    const yaml = parseScenario(
      "name: j\nmachine: { arch: 'arm64:4k', memory: 1G }\nsettings: { transparent_hugepage/enabled: madvise, transparent_hugepage/use_zero_page: 0 }\nsteps:\n  - mmap: { pid: 1, as: a, len: 2M, prot: rw, flags: [private, anonymous] }\n  - madvise: { pid: 1, at: a, len: 2M, advice: hugepage }\n",
      "j.yaml",
    );
    const json = parseScenario(
      JSON.stringify(
        {
          name: "j",
          machine: { arch: "arm64:4k", memory: "1G" },
          settings: { "transparent_hugepage/enabled": "madvise", "transparent_hugepage/use_zero_page": 0 },
          steps: [{ mmap: { pid: 1, as: "a", len: "2M", prot: "rw", flags: ["private", "anonymous"] } }, { madvise: { pid: 1, at: "a", len: "2M", advice: "hugepage" } }],
        },
        null,
        "\t",
      ),
      "j.json",
    );
    const strip = (s: typeof yaml) => ({ ...s, file: "", source: undefined, steps: s.steps.map((x) => ({ op: x.op, arg: x.arg })) });
    expect(strip(json)).toEqual(strip(yaml));
    expect(yaml.settings).toEqual([
      ["transparent_hugepage/enabled", "madvise"],
      ["transparent_hugepage/use_zero_page", "0"],
    ]);
    // JSON positions are real too.
    expect(json.steps[1]!.line).toBeGreaterThan(json.steps[0]!.line);
  });

  it("reads every step kind", () => {
    const s = loadScenario(new URL("./testdata/every-step.yaml", import.meta.url).pathname);
    expect(s.steps.map((x) => x.op)).toEqual([
      "mmap", "madvise", "write", "read", "mmap", "read", "mmap", "write", "checkpoint", "fork", "write", "spawn", "mmap", "mprotect",
      "mremap", "pin", "migrate", "unpin", "pageout", "pressure", "kswapd", "compact", "split", "shrink", "set", "munmap", "exit", "expect",
    ]);
    expect(s.files).toEqual({ data: { size: "64K" }, tmp: { size: "64K", shmem: true } });
    expect(s.machine).toEqual({ arch: "x86-64", memory: "256M", nodes: 2, movable: 0, swap: "64M" });
  });

  it("takes expectError out of the argument", () => {
    const s = parseScenario("name: e\nsteps:\n  - munmap: { pid: 1, at: 0x1001, len: 4K, expectError: EINVAL }\n  - write: { pid: 1, at: 0, len: 4K, pattern: 1, expectError: SIGSEGV }\n", "e.yaml");
    expect(s.steps[0]).toMatchObject({ op: "munmap", arg: { pid: 1, at: 0x1001, len: "4K" }, expectError: "EINVAL" });
    expect(s.steps[1]).toMatchObject({ op: "write", expectError: "SIGSEGV" });
    expect(s.steps[0]!.arg).not.toHaveProperty("expectError");
  });

  it("accepts a step without an argument where it takes none", () => {
    const s = parseScenario("name: n\nsteps:\n  - compact:\n  - shrink: {}\n  - kswapd:\n", "n.yaml");
    expect(s.steps.map((x) => [x.op, x.arg])).toEqual([
      ["compact", null],
      ["shrink", {}],
      ["kswapd", null],
    ]);
  });

  it("follows names through fork, mremap and spawn", () => {
    const s = parseScenario(
      `name: names
steps:
  - mmap: { pid: 1, as: buf, len: 4M, prot: rw, flags: private|anonymous }
  - fork: { pid: 1, child: 7 }
  - write: { pid: 7, at: buf+2M, len: 4K, pattern: 1 }
  - mremap: { pid: 7, at: buf, len: 4M, newLen: 8M, flags: maymove, as: big }
  - read: { pid: 7, at: big-0, len: 4K }
  - spawn: { pid: 9 }
  - mmap: { pid: 9, as: buf, addr: 0x40000000, len: 2M, prot: rw, flags: private|anonymous|fixed_noreplace }
  - exit: { pid: 1 }
  - read: { pid: 9, at: buf, len: 4K }
`,
      "names.yaml",
    );
    expect(s.steps).toHaveLength(9);
  });

  it("takes sizes as numbers or strings, addresses as numbers, hex or names with offsets", () => {
    const s = parseScenario(
      `name: sizes
steps:
  - mmap: { pid: 1, as: a, addr: 0x7f0000000000, len: 2097152, prot: none, flags: private|anonymous|fixed }
  - mprotect: { pid: 1, at: "0x7f0000000000", len: 0x1000, prot: [read, exec] }
  - madvise: { pid: 1, at: a+1M+4K, len: 1.5M, advice: dontneed }
  - munmap: { pid: 1, at: a-0, len: 2MiB }
`,
      "sizes.yaml",
    );
    expect(s.steps.map((x) => x.arg)).toEqual([
      { pid: 1, as: "a", addr: 0x7f0000000000, len: 2097152, prot: "none", flags: "private|anonymous|fixed" },
      { pid: 1, at: "0x7f0000000000", len: 0x1000, prot: ["read", "exec"] },
      { pid: 1, at: "a+1M+4K", len: "1.5M", advice: "dontneed" },
      { pid: 1, at: "a-0", len: "2MiB" },
    ]);
  });
});
