import { parseScenario } from "@hugemm/scenario";
import { describe, expect, it } from "vitest";
import { JUDGED_GLOBALS } from "./compare";
import { encodeScenario, settingPath } from "./encode";
import type { MachineProbe } from "./machine";

const present = new Set(["/sys/kernel/mm/transparent_hugepage/enabled", "/sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled"]);
const probe: MachineProbe = { linux: true, root: true, swap: false, nodes: 1, damon: false, exists: (p) => present.has(p) };

function encode(text: string, p: MachineProbe = probe) {
  return encodeScenario(parseScenario(text, "t.yaml"), p, JUDGED_GLOBALS);
}

describe("the step encoding", () => {
  it("writes each step as one executor line, names kept symbolic", () => {
    const e = encode(`name: t
settings: { transparent_hugepage/enabled: always }
files: { shm: { size: 2M, shmem: true } }
steps:
  - mmap: { pid: 1, as: buf, len: 4M, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: buf+2M, len: 4K, pattern: 3 }
  - read: { pid: 1, at: buf, len: 1M }
  - madvise: { pid: 1, at: buf, len: 2M, advice: collapse }
  - mprotect: { pid: 1, at: buf-4K+8K, len: 4K, prot: r }
  - mremap: { pid: 1, at: buf, len: 4M, newLen: 2M, flags: maymove, as: buf }
  - mmap: { pid: 1, as: s, len: 2M, prot: rw, flags: shared, file: shm }
  - checkpoint: here
  - fork: { pid: 1, child: 2 }
  - expect:
      - counter: thp_fault_alloc
        equals: 2
  - pageout: { pid: 2, at: buf, len: 2M }
  - exit: { pid: 2 }
  - munmap: { pid: 1, at: 0x7e0000000000, len: 4K }
  - set: { transparent_hugepage/hugepages-64kB/enabled: never }
  - shrink: {}
`);
    expect(e.unsupported).toEqual([]);
    expect(e.stopAt).toBeUndefined();
    expect(e.lines).toEqual([
      `-1 judge ${JUDGED_GLOBALS.join(" ")}`,
      "-1 file shm 2097152",
      "-1 spawn 1",
      "-1 set /sys/kernel/mm/transparent_hugepage/enabled always",
      "-1 report start",
      "0 mmap 1 buf 0 4194304 3 34 - 0",
      "1 touch 1 buf+2097152 4096 1 3",
      "2 touch 1 buf 1048576 0 0",
      "3 madvise 1 buf 2097152 25",
      "4 mprotect 1 buf+4096 4096 1",
      "5 mremap 1 buf buf 4194304 2097152 1 0",
      "6 mmap 1 s 0 2097152 3 1 shm 0",
      "7 report here",
      "8 fork 1 2",
      "10 madvise 2 buf 2097152 21",
      "11 exit 2",
      "12 munmap 1 =7e0000000000 4096",
      "13 set /sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled never",
      "14 poke /proc/sys/vm/drop_caches 2",
      "15 report end",
    ]);
  });

  it("maps setting keys to the kernel's files", () => {
    expect(settingPath("transparent_hugepage/khugepaged/max_ptes_none")).toBe("/sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none");
    expect(settingPath("vm/overcommit_memory")).toBe("/proc/sys/vm/overcommit_memory");
    expect(settingPath("pud_deposit")).toBeNull();
  });
});

describe("steps the machine's kernel cannot run", () => {
  it("stops before the first and says why for each", () => {
    const e = encode(`name: t
machine: { arch: x86-64, swap: 64M, nodes: 2 }
steps:
  - mmap: { pid: 1, as: buf, len: 2M, prot: rw, flags: private|anonymous }
  - checkpoint: before
  - pin: { pid: 1, at: buf, len: 4K, as: p }
  - migrate: { pid: 1, at: buf, len: 2M, node: 1 }
  - pageout: { pid: 1, at: buf, len: 2M }
  - set: { transparent_hugepage/hugepages-8192kB/enabled: always }
  - checkpoint: after
`);
    expect(e.stopAt).toBe(2);
    expect(e.unsupported.map((u) => [u.step, u.op])).toEqual([
      [2, "pin"],
      [3, "migrate"],
      [4, "pageout"],
      [5, "set"],
    ]);
    expect(e.unsupported[1]!.why).toBe("no NUMA node 1: the machine has one node");
    expect(e.unsupported[2]!.why).toMatch(/^no swap device/);
    expect(e.unsupported[3]!.why).toBe('no such file /sys/kernel/mm/transparent_hugepage/hugepages-8192kB/enabled on this kernel (setting "transparent_hugepage/hugepages-8192kB/enabled")');
    expect(e.lines.at(-1)).toBe("1 report before");
  });

  it("does not run a scenario whose setup the kernel lacks: a model-only setting or a regular file", () => {
    const noRoot = { ...probe, root: false };
    const e = encode(
      `name: t
settings: { transparent_hugepage/enabled: always }
files: { data: { size: 1M } }
steps:
  - checkpoint: c
`,
      noRoot,
    );
    expect(e.stopAt).toBe(-1);
    expect(e.unsupported.map((u) => u.why)).toEqual([expect.stringMatching(/^file "data": a regular file's page cache/), "not root: writing /sys/kernel/mm/transparent_hugepage/enabled needs root"]);
    expect(e.lines.some((l) => l.includes("report"))).toBe(false);
  });
});
