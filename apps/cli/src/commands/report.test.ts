import { describe, expect, it } from "vitest";
import { EXIT_OK, EXIT_USAGE } from "../cli/errors";
import { cli, testdata } from "../testing/cli";

const THP = testdata("thp.yaml");
const report = (...args: string[]) => cli(["report", THP, ...args]);

describe("hugemm report: the kernel's views with its names, units and layout", () => {
  it("smaps_rollup of one process, at a checkpoint", () => {
    const r = report("--at", "forked", "--view", "smaps_rollup", "--pid", "1");
    expect(r.code).toBe(EXIT_OK);
    const lines = r.out.split("\n");
    expect(lines[0]).toBe("7dffffbc0000-7e0000000000 ---p 00000000 00:00 0                          [rollup]");
    // Two PMD THPs and four 64K folios, all shared with the child after fork but one page.
    expect(lines).toContain("Rss:                4352 kB");
    expect(lines).toContain("AnonHugePages:      4096 kB");
    expect(lines).toContain("Shared_Dirty:       4348 kB");
    expect(lines).toContain("Private_Dirty:         4 kB");
  });

  it("smaps of the only live process at the end, with THPeligible", () => {
    const r = report("--view", "smaps");
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toMatch(/^7dffffbc0000-7e0000000000 rw-p 00000000 00:00 0 \nSize: {15}4352 kB\nKernelPageSize: {8}4 kB\n/);
    expect(r.out).toContain("THPeligible:           1\n");
  });

  it("meminfo, vmstat, per-size THP stats, buddyinfo and pagetypeinfo", () => {
    expect(report("--view", "meminfo").out).toMatch(/^MemTotal: {8}1048576 kB\nMemFree: +\d+ kB\n/);
    const vmstat = report("--at", "forked", "--view", "vmstat").out.split("\n");
    expect(vmstat).toEqual(expect.arrayContaining(["thp_fault_alloc 2", "thp_split_pmd 1", "pgfault 7", "nr_anon_transparent_hugepages 2"]));
    const thp = report("--at", "populated", "--view", "thp-stats").out.split("\n");
    expect(thp).toContain("/sys/kernel/mm/transparent_hugepage/enabled:[always] madvise never");
    expect(thp).toContain("/sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled:[always] inherit madvise never");
    expect(thp).toContain("/sys/kernel/mm/transparent_hugepage/hugepages-64kB/stats/anon_fault_alloc:4");
    expect(thp).toContain("/sys/kernel/mm/transparent_hugepage/hugepages-2048kB/stats/nr_anon:2");
    expect(report("--view", "buddyinfo").out).toMatch(/^Node 0, zone {3}Normal( +\d+){11} *\n$/);
    expect(report("--view", "pagetypeinfo").out).toMatch(/^Page block order: 9\nPages per block: {2}512\n/);
  });

  it("the hugetlb files and the status line", () => {
    const hugetlb = report("--view", "hugetlb").out.split("\n");
    expect(hugetlb).toContain("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages:0");
    expect(hugetlb).toContain("/sys/kernel/mm/hugepages/hugepages-1048576kB/demote_size:2048kB");
    expect(hugetlb).toContain("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages:0");
    expect(hugetlb).toContain("/proc/sys/vm/nr_hugepages:0");
    expect(report("--view", "status").out).toBe("HugetlbPages:\t       0 kB\n");
  });

  it("thpmaps per process or rolled up, with --cont", () => {
    const one = report("--at", "forked", "--view", "thpmaps", "--pid", "2").out;
    expect(one.split("\n").slice(0, 2)).toEqual([
      "       PID             START              END PROT   OFFSET   DEV    INODE OBJECT",
      "0000000002: 00007dffffbc0000-00007e0000000000 rw-p 00000000 00:00 00000000 ",
    ]);
    expect(one).toContain("anon-thp-pmd-aligned-2048kB:        2048 kB (47%)\n");
    const rolled = report("--at", "forked", "--view", "thpmaps", "--rollup", "--cont", "64K").out;
    expect(rolled).toBe(
      [
        "anon-thp-pmd-aligned-2048kB:        6144 kB (71%)",
        "anon-thp-pte-aligned-64kB:           512 kB ( 6%)",
        "anon-thp-pte-partial:               2044 kB (23%)",
        "anon-cont-pmd-aligned-64kB:         6144 kB (71%)",
        "anon-cont-pte-aligned-64kB:         2496 kB (29%)",
        "",
      ].join("\n"),
    );
  });

  it("refuses what it cannot show, naming the choices", () => {
    const err = (...args: string[]) => {
      const r = report(...args);
      expect(r.code).toBe(EXIT_USAGE);
      return r.err;
    };
    expect(err()).toBe("hugemm: report: --view is needed: expected one of smaps, smaps_rollup, meminfo, vmstat, thp-stats, thpmaps, buddyinfo, pagetypeinfo, hugetlb, status\n");
    expect(err("--view", "maps")).toBe('hugemm: report: unknown view "maps": expected one of smaps, smaps_rollup, meminfo, vmstat, thp-stats, thpmaps, buddyinfo, pagetypeinfo, hugetlb, status\n');
    expect(err("--at", "forked", "--view", "smaps")).toBe("hugemm: report: --pid is needed: the live processes are 1, 2\n");
    expect(err("--at", "forked", "--view", "smaps", "--pid", "3")).toBe('hugemm: report: --pid 3: no live process 3 at the checkpoint "forked": expected one of the live pids (1, 2)\n');
    expect(err("--view", "smaps", "--pid", "2")).toBe(
      "hugemm: report: --pid 2: no live process 2 at the end of the run: expected one of the live pids (1); to see it part-way, stop at a checkpoint with --at (populated, forked)\n",
    );
    expect(err("--view", "thpmaps", "--cont", "3K")).toBe('hugemm: report --view thpmaps on x86-64:4level: invalid --cont size "3K": expected a size of at least 2 pages (8192 bytes)\n');
  });
});
