import { describe, expect, it } from "vitest";
import { ScenarioError } from "./errors";
import { loadScenario, parseScenario } from "./parse";
import { runScenario } from "./run";

/** The message a parse of `text` fails with. */
function parseError(text: string): string {
  try {
    parseScenario(text, "bad.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as Error).message;
  }
  throw new Error("parsed without an error");
}

/** The message a run of `text` fails with. */
function runError(text: string, opts: Parameters<typeof runScenario>[1] = {}): string {
  try {
    runScenario(parseScenario(text, "bad.yaml"), opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as Error).message;
  }
  throw new Error("ran without an error");
}

const MMAP = "mmap: { pid: 1, as: buf, len: 8M, prot: rw, flags: private|anonymous }";

describe("parse errors name the file, line, column and field", () => {
  it("malformed YAML, at the parser's position", () => {
    expect(parseError("name: x\nsteps:\n  - mmap: { pid: 1\n  - read: {}\n")).toBe(
      "bad.yaml:4:3: malformed YAML: Flow map in block collection must be sufficiently indented and end with a }",
    );
    expect(parseError("name: x\n\tsteps: []\n")).toBe("bad.yaml:2:1: malformed YAML: Tabs are not allowed as indentation");
    expect(parseError("name: x\nname: y\nsteps: []\n")).toBe("bad.yaml:2:1: malformed YAML: Map keys must be unique");
  });

  it("an unknown field, at its key, listing the known ones", () => {
    expect(parseError("name: x\nsteps:\n  - mmap: { pid: 1, lenn: 8M, prot: rw, flags: private|anonymous }\n")).toBe(
      'bad.yaml:3:21: steps[0].mmap.lenn: unknown field "lenn": expected one of pid, as, addr, len, prot, flags, file, offset',
    );
    expect(parseError("name: x\nstep: []\n")).toBe('bad.yaml:2:1: step: unknown field "step": expected one of name, description, machine, seed, settings, files, steps');
    expect(parseError("name: x\nsteps:\n  - expect:\n    - mapped: { pid: 1, at: 0, levl: pmd }\n")).toBe(
      'bad.yaml:4:32: steps[0].expect[0].mapped.levl: unknown field "levl": expected one of pid, at, level, entry',
    );
    expect(parseError('{"name": "x", "steps": [{"mmap": {"pid": 1, "len": "8M", "prot": "rw", "flags": "private", "foo": 1}}]}')).toBe(
      'bad.yaml:1:92: steps[0].mmap.foo: unknown field "foo": expected one of pid, as, addr, len, prot, flags, file, offset',
    );
  });

  it("a system call's length that is not whole pages, with what the kernel would make of it", () => {
    expect(parseError("name: x\nsteps:\n  - mmap: { pid: 1, len: 5000, prot: rw, flags: private|anonymous }\n")).toBe(
      "bad.yaml:3:26: steps[0].mmap.len: expected a length in whole 4K pages, got 5000: the kernel rounds a length up to the page size, so write 8192 (8K) if that is what you mean",
    );
    expect(parseError("name: x\nsteps:\n  - madvise: { pid: 1, at: 0, len: 2001K, advice: hugepage }\n")).toBe(
      'bad.yaml:3:36: steps[0].madvise.len: expected a length in whole 4K pages, got "2001K": the kernel rounds a length up to the page size, so write 2052096 (2004K) if that is what you mean',
    );
    expect(parseError("name: x\nsteps:\n  - munmap: { pid: 1, at: 0, len: true }\n")).toBe('bad.yaml:3:35: steps[0].munmap.len: expected a size such as 4096, "4K", "2M" or "1G", got true');
  });

  it("a missing field and a wrong type", () => {
    expect(parseError("name: x\n")).toBe("bad.yaml:1:1: steps: missing: expected a list of steps");
    expect(parseError("name: x\nsteps:\n  - mmap: { pid: 1, prot: rw, flags: private|anonymous }\n")).toBe(
      'bad.yaml:3:11: steps[0].mmap.len: missing: expected a size such as 4096, "4K", "2M" or "1G"',
    );
    expect(parseError("name: x\nsteps:\n  - read: { pid: one, at: 0, len: 4K }\n")).toBe('bad.yaml:3:18: steps[0].read.pid: expected a process id (a whole number from 1), got "one"');
    expect(parseError("name: x\nmachine: 4G\nsteps: []\n")).toBe('bad.yaml:2:10: machine: expected a map with fields arch, memory, nodes, movable, swap, kernel, got "4G"');
    expect(parseError("name: x\nsettings: [a]\nsteps: []\n")).toBe('bad.yaml:2:11: settings: expected a map of settings, such as { "transparent_hugepage/enabled": always }, got a list');
    expect(parseError("name: X_y\nsteps: []\n")).toBe('bad.yaml:1:7: name: expected a scenario name of lower-case letters, digits and - (such as pmd-thp-fork), got "X_y"');
  });

  it("an unknown step, listing the steps and the closest", () => {
    expect(parseError("name: x\nsteps:\n  - mmapp: { pid: 1 }\n")).toBe(
      'bad.yaml:3:5: steps[0].mmapp: unknown step "mmapp": expected one of checkpoint, clear_refs, compact, exit, expect, fallocate, fork, khugepaged, kswapd, lru_add_drain, madvise, migrate, migrate_finish, mmap, mprotect, mremap, munmap, pageout, pin, pressure, read, set, shrink, spawn, split, truncate, unpin, write; did you mean mmap?',
    );
    expect(parseError("name: x\nsteps:\n  - mmap: { pid: 1 }\n    read: {}\n")).toBe("bad.yaml:3:5: steps[0]: expected a step: a map with one key naming it, got a map with 2 keys (mmap, read)");
    expect(parseError("name: x\nsteps:\n  - mmap\n")).toBe('bad.yaml:3:5: steps[0]: expected a step: a map with one key naming it, such as { mmap: {...} }, got "mmap"');
  });

  it("an unknown arch or variant", () => {
    expect(parseError("name: x\nmachine: { arch: sparc }\nsteps: []\n")).toBe('bad.yaml:2:18: machine.arch: unknown arch "sparc": expected one of x86-64, arm64, ppc8xx, optionally with ":variant"');
    expect(parseError("name: x\nmachine: { arch: 'arm64:8k' }\nsteps: []\n")).toBe(
      'bad.yaml:2:18: machine.arch: unknown arm64 variant "8k": expected one of 4k-39, 4k-48, 4k-52, 16k-36, 16k-47, 16k-48, 16k-52, 64k-42, 64k-48, 64k-52',
    );
  });

  it("bad sizes, flags, protections and addresses", () => {
    expect(parseError("name: x\nsteps:\n  - mmap: { pid: 1, len: 8Q, prot: rw, flags: private|anonymous }\n")).toBe(
      'bad.yaml:3:26: steps[0].mmap.len: expected a size such as 4096, "4K", "2M" or "1G", got "8Q"',
    );
    expect(parseError("name: x\nsteps:\n  - mmap: { pid: 1, len: 8M, prot: rw, flags: private|anon }\n")).toBe(
      'bad.yaml:3:47: steps[0].mmap.flags: expected mmap flags: one or more of private, shared, shared_validate, anonymous, fixed, fixed_noreplace, populate, noreserve, growsdown, stack, hugetlb, huge_16kb, huge_64kb, huge_512kb, huge_1mb, huge_2mb, huge_8mb, huge_16mb, huge_32mb, huge_256mb, huge_512mb, huge_1gb, huge_2gb, huge_16gb, joined by "|" or as a list, got "private|anon"',
    );
    expect(parseError("name: x\nsteps:\n  - mmap: { pid: 1, len: 8M, prot: rwz, flags: private }\n")).toBe(
      'bad.yaml:3:36: steps[0].mmap.prot: expected a protection: one of none, r, w, x, rw, rx, wx, rwx, or a list of read, write, exec, got "rwz"',
    );
    expect(parseError("name: x\nsteps:\n  - read: { pid: 1, at: 'buf*2', len: 4K }\n")).toBe(
      'bad.yaml:3:25: steps[0].read.at: expected an address: a number, a hex string such as "0x40000000", a name bound by mmap with an optional +/- size ("buf+2M"), or one aligned up or down to a power of two ("align(buf, 2M)", "align_down(buf+1M, 2M)"), got "buf*2"',
    );
    expect(parseError("name: x\nsteps:\n  - expect:\n    - folios: { pid: 1, at: 0, len: 4K, census: { big: 1 } }\n")).toBe(
      'bad.yaml:4:56: steps[0].expect[0].folios.census.big: expected a folio size such as "4K", "64K", "2M" or "1G", got "big"',
    );
  });

  it("an unknown pid, a name used before it is bound, unknown files, nodes, checkpoints and pins", () => {
    expect(parseError("name: x\nsteps:\n  - read: { pid: 2, at: 0, len: 4K }\n")).toBe("bad.yaml:3:18: steps[0].read.pid: unknown process 2: expected a live pid (one of 1)");
    expect(parseError(`name: x\nsteps:\n  - ${MMAP}\n  - exit: { pid: 1 }\n  - read: { pid: 1, at: buf, len: 4K }\n`)).toBe(
      "bad.yaml:5:18: steps[2].read.pid: unknown process 1: expected a live pid (none is alive)",
    );
    expect(parseError("name: x\nsteps:\n  - read: { pid: 1, at: buf+4K, len: 4K }\n  - " + MMAP + "\n")).toBe(
      'bad.yaml:3:25: steps[0].read.at: unknown name "buf" in process 1: expected a name bound by an earlier mmap or mremap "as:" (none is bound yet)',
    );
    expect(parseError(`name: x\nsteps:\n  - ${MMAP}\n  - spawn: { pid: 2 }\n  - read: { pid: 2, at: buf, len: 4K }\n`)).toBe(
      'bad.yaml:5:25: steps[2].read.at: unknown name "buf" in process 2: expected a name bound by an earlier mmap or mremap "as:" (none is bound yet)',
    );
    expect(parseError("name: x\nsteps:\n  - fork: { pid: 1, child: 1 }\n")).toBe("bad.yaml:3:28: steps[0].fork.child: process 1 already exists: expected a pid not in use (live: 1)");
    expect(parseError("name: x\nsteps:\n  - mmap: { pid: 1, len: 8M, prot: rw, flags: private, file: nope }\n")).toBe(
      'bad.yaml:3:62: steps[0].mmap.file: unknown file "nope": expected one declared under files: (none is)',
    );
    expect(parseError("name: x\nsteps:\n  - pressure: { pages: 1, node: 3 }\n")).toBe("bad.yaml:3:33: steps[0].pressure.node: unknown node 3: expected a node id in [0, 0] (machine.nodes is 1)");
    expect(parseError("name: x\nsteps:\n  - expect:\n    - counter: pgfault\n      since: nope\n      equals: 0\n")).toBe(
      'bad.yaml:5:14: steps[0].expect[0].since: unknown checkpoint "nope": expected "start" or an earlier checkpoint (start)',
    );
    expect(parseError("name: x\nsteps:\n  - checkpoint: a\n  - checkpoint: a\n")).toBe('bad.yaml:4:17: steps[1].checkpoint: checkpoint "a" already exists: expected a new name');
    expect(parseError("name: x\nsteps:\n  - unpin: { pin: p }\n")).toBe('bad.yaml:3:19: steps[0].unpin.pin: unknown pin "p": expected a pin held here (none)');
  });

  it("bad expect clauses and expectError values", () => {
    expect(parseError("name: x\nsteps:\n  - expect:\n    - counter: pgfault\n      equals: 0\n      atLeast: 1\n")).toBe(
      "bad.yaml:4:7: steps[0].expect[0]: expected exactly one of equals, atLeast, atMost, greaterThan, lessThan, got 2",
    );
    expect(parseError("name: x\nsteps:\n  - expect:\n    - countr: pgfault\n")).toBe(
      "bad.yaml:4:7: steps[0].expect[0]: expected an expect clause: a map with one of counter, mapped, folios, entries, data, invariants, smaps, pagemap, pin, got a map",

    );
    expect(parseError("name: x\nsteps:\n  - read: { pid: 1, at: 0, len: 4K, expectError: EWHAT }\n")).toBe(
      'bad.yaml:3:50: steps[0].read.expectError: expected an errno or fault name (EPERM, ENOENT, EINTR, ENXIO, EBADF, EAGAIN, ENOMEM, EACCES, EFAULT, EBUSY, EEXIST, ENODEV, EINVAL, ETXTBSY, ENOSPC, EOVERFLOW, EOPNOTSUPP, EHWPOISON, SIGSEGV, SIGBUS, HWPOISON, OOM, MIGRATION_WAIT), got "EWHAT"',
    );
  });

  it("an unreadable file", () => {
    expect(() => loadScenario("/nonexistent/x.yaml")).toThrow("/nonexistent/x.yaml: cannot read the scenario file (ENOENT): expected a readable YAML or JSON file");
  });
});

describe("errors found when the run starts or while it runs", () => {
  it("an expect on a missing counter, listing close matches", () => {
    expect(runError("name: x\nsteps:\n  - expect:\n    - counter: thp_split_pmdd\n      equals: 0\n")).toBe(
      'bad.yaml:4:16: steps[0].expect[0].counter: unknown counter "thp_split_pmdd": expected a vm event or node stat (pgfault, nr_anon_pages), meminfo.<Field>, hugepages-<size>kB.<stat>, model.<event>, pid<N>.rss_anon|rss_file|rss_shmem|swapents or tlb.flushes; did you mean thp_split_pmd, thp_split_pud or thp_split_page?',
    );
    expect(runError("name: x\nsteps:\n  - expect:\n    - counter: pid2.rss_anon\n      equals: 0\n")).toMatch(/^bad\.yaml:4:16: steps\[0\]\.expect\[0\]\.counter: unknown counter "pid2\.rss_anon": .*; did you mean pid1\.rss_anon\?$/);
  });

  it("a counter the arch does not have", () => {
    expect(runError("name: x\nmachine: { arch: 'ppc8xx:4k', memory: 256M }\nsteps:\n  - expect:\n    - counter: meminfo.AnonHugePages\n      equals: 0\n")).toMatch(
      /^bad\.yaml:5:16: steps\[0\]\.expect\[0\]\.counter: unknown counter "meminfo\.AnonHugePages": .*; did you mean meminfo\.AnonPudHugePages, meminfo\.AnonPages/,
    );
  });

  it("bad settings, in the file, in a set step and on the command line", () => {
    expect(runError("name: x\nsettings: { transparent_hugepage/enabled: sometimes }\nsteps: []\n")).toBe(
      'bad.yaml:2:43: settings.transparent_hugepage/enabled: invalid transparent_hugepage/enabled "sometimes": expected one of always, madvise, never',
    );
    expect(runError("name: x\nsettings: { vm/swappiness: 1 }\nsteps: []\n")).toBe('bad.yaml:2:28: settings.vm/swappiness: unknown setting "vm/swappiness": expected a key starting with "transparent_hugepage/", "transparent_hugepage/khugepaged/", "hugepages/", "node", "vm/nr_"');

    expect(runError("name: x\nsteps:\n  - set: { transparent_hugepage/defrag: often }\n")).toBe(
      'bad.yaml:3:41: steps[0].set.transparent_hugepage/defrag: invalid transparent_hugepage/defrag "often": expected one of always, defer, defer+madvise, madvise, never',
    );
    expect(runError("name: x\nsteps: []\n", { set: [["transparent_hugepage/enabled", "on"]] })).toBe(
      '--set: transparent_hugepage/enabled: invalid transparent_hugepage/enabled "on": expected one of always, madvise, never',
    );
  });

  it("a bad --arch, and a memory size the arch cannot have", () => {
    expect(runError("name: x\nsteps: []\n", { arch: "mips" })).toBe('--arch: unknown arch "mips": expected one of x86-64, arm64, ppc8xx, optionally with ":variant"');
    expect(runError("name: x\nmachine: { memory: 3K }\nsteps: []\n")).toBe(
      "bad.yaml:2:20: machine.memory: invalid memory size 3072: expected a multiple of 1 x 2097152 bytes (whole pageblocks on every node) (on x86-64:4level)",
    );
  });

  it("a name whose mmap failed", () => {
    expect(runError("name: x\nsteps:\n  - mmap: { pid: 1, as: b, len: 0, prot: rw, flags: private|anonymous }\n  - read: { pid: 1, at: b, len: 4K }\n")).toBe(
      'bad.yaml:4:25: steps[1].read.at: name "b" has no address in process 1: its mmap at line 3 failed with EINVAL',
    );
  });

  it("a ScenarioError carries its parts", () => {
    try {
      parseScenario("name: x\nsteps:\n  - read: { pid: 2, at: 0, len: 4K }\n", "f.yaml");
    } catch (e) {
      const err = e as ScenarioError;
      expect([err.file, err.line, err.column, err.field, err.reason]).toEqual(["f.yaml", 3, 18, "steps[0].read.pid", "unknown process 2: expected a live pid (one of 1)"]);
    }
  });
});
