import { describe, expect, it } from "vitest";
import { runText } from "../test-helpers";

const BASE = "name: x\nmachine: { arch: x86-64, memory: 64M }\n";

describe("hugetlb in scenarios", () => {
  it("sizes pools per hstate and per node, maps with MAP_HUGE_* flags, and reads the hugetlb counters", () => {
    const r = runText(
      `${BASE.replace("memory: 64M", "memory: 64M, nodes: 2")}settings:
  vm/nr_hugepages: 2
  node1/hugepages/hugepages-2048kB/nr_hugepages: 3
  vm/nr_overcommit_hugepages: 1
files:
  f: { size: 4M, hugetlbfs: { pagesize: 2M } }
steps:
  - mmap: { pid: 1, as: a, len: 6M, prot: rw, flags: [private, anonymous, hugetlb, huge_2mb] }
  - mmap: { pid: 1, as: b, len: 2M, prot: rw, flags: [private, anonymous, hugetlb, huge_1gb], expectError: ENOMEM }
  - mmap: { pid: 1, as: c, len: 64K, prot: rw, flags: [private, anonymous, hugetlb, huge_64kb], expectError: EINVAL }
  - fallocate: { file: f, len: 2M }
  - expect:
      - counter: hugetlb.hugepages-2048kB.nr_hugepages
        equals: 4
      - counter: hugetlb.node1.hugepages.hugepages-2048kB.nr_hugepages
        equals: 3
      - counter: hugetlb.hugepages-2048kB.surplus_hugepages
        equals: 0
      - counter: meminfo.HugePages_Rsvd
        equals: 3
      - counter: meminfo.HugePages_Free
        equals: 3
  - write: { pid: 1, at: a, len: 6M, pattern: 1 }
  - expect:
      - counter: pid1.HugetlbPages
        equals: 6144
      - invariants: clean
`,
    );
    expect(r.passed).toBe(true);
    expect(r.violation).toBeUndefined();
  });

  it("locates bad hugetlb settings, files and steps at their field", () => {
    expect(() => runText(`${BASE}settings: { hugepages/hugepages-4096kB/nr_hugepages: 1 }\nsteps: []\n`)).toThrow(
      'test.yaml:3:54: settings.hugepages/hugepages-4096kB/nr_hugepages: invalid hugetlb page size "hugepages-4096kB": expected one of 2048kB, 1048576kB',
    );
    expect(() => runText(`${BASE}settings: { vm/nr_hugepages: -3 }\nsteps: []\n`)).toThrow("settings.vm/nr_hugepages: invalid vm/nr_hugepages NaN: expected a non-negative integer count of huge pages");
    expect(() => runText(`${BASE}files:\n  f: { size: 3M, hugetlbfs: { pagesize: 2M } }\nsteps: []\n`)).toThrow("files.f: invalid hugetlbfs file size 3145728 (0x300000): expected a multiple of the 2048 kB page size of hugepages-2048kB");
    expect(() => runText(`${BASE}files:\n  f: { size: 2M, hugetlbfs: { min_size: 2M } }\nsteps: []\n`)).toThrow("files.f: invalid hugetlbfs min_size \"2M\": expected a minimum the pool can reserve at mount (ENOMEM");
    expect(() => runText(`${BASE}files:\n  f: { size: 2M, hugetlbfs: { pagesize: 2M, sise: 1 } }\nsteps: []\n`)).toThrow("files.f.hugetlbfs");
    expect(() => runText(`${BASE}files:\n  f: { size: 2M }\nsteps:\n  - fallocate: { file: f, len: 2M }\n`)).toThrow('test.yaml:6:16: steps[0].fallocate: invalid fallocate file "f": expected a hugetlbfs file of this kernel');
  });
});
