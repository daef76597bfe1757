import { ModelInputError, faultNames, hex } from "@hugemm/core";
import { z } from "zod";
import { describe, expect, it } from "vitest";
import { address, obj, pid } from "./fields";
import { registerCounterSource, registerSetting, registerStep, settingPrefixes, stepNames } from "./registry";
import { parseScenario } from "./parse";
import { runText } from "./test-helpers";

// A feature package's step: one user fault at an address, as the arch fault handler raises it.
const faultArg = obj({ pid, at: address, write: z.boolean().optional() });
registerStep("fault", {
  schema: faultArg,
  summary: "one user fault",
  run(ctx, a) {
    const at = ctx.address(a.pid, a.at, "at");
    const code = ctx.k.fault(ctx.mm(a.pid), at, a.write === true);
    return { ok: true, detail: `fault at ${hex(at)}: ${faultNames(code)}` };
  },
});

// A feature package's settings, under a longer prefix than the THP one they sit in.
const applied: [string, string][] = [];
registerSetting("transparent_hugepage/demo/", (_k, key, value) => {
  if (key !== "pages_to_scan") throw new ModelInputError(`transparent_hugepage/demo/${key}`, value, "pages_to_scan");
  applied.push([key, value]);
});

// A feature package's counters.
registerCounterSource("test.", (k, processes) => ({ mms: k.mms.size, processes: processes.size }));

describe("registries", () => {
  it("a registered step parses, checks its names and runs", () => {
    expect(stepNames()).toContain("fault");
    const r = runText(`
name: registered
settings:
  transparent_hugepage/demo/pages_to_scan: 4096
  transparent_hugepage/enabled: never
steps:
  - mmap: { pid: 1, as: a, len: 64K, prot: rw, flags: private|anonymous }
  - fault: { pid: 1, at: a+4K, write: true }
  - fork: { pid: 1, child: 2 }
  - expect:
      - counter: pgfault
        equals: 1
      - counter: test.mms
        equals: 2
      - counter: test.processes
        equals: 2
      - mapped: { pid: 2, at: a+4K, level: pte }
`);
    expect(r.steps[1]!.detail).toBe(`fault at ${hex(r.processes.get(1)!.vmas.all()[0]!.start + 4096)}: 0`);
    expect(r.expects.map((e) => [e.actual, e.pass])).toEqual([
      [1, true],
      [2, true],
      [2, true],
      ["pte", true],
    ]);
    expect(applied).toContainEqual(["pages_to_scan", "4096"]);
  });

  it("a registered step's schema and the default scope check give positioned errors", () => {
    expect(() => parseScenario("name: x\nsteps:\n  - fault: { pid: 1, at: a, write: true }\n", "r.yaml")).toThrow(
      'r.yaml:3:26: steps[0].fault.at: unknown name "a" in process 1: expected a name bound by an earlier mmap or mremap "as:" (none is bound yet)',
    );
    expect(() => parseScenario("name: x\nsteps:\n  - fault: { pid: 1, at: 0, rw: true }\n", "r.yaml")).toThrow('r.yaml:3:29: steps[0].fault.rw: unknown field "rw": expected one of pid, at, write');
  });

  it("a registered setting's errors name the setting", () => {
    expect(settingPrefixes()).toEqual(["transparent_hugepage/", "transparent_hugepage/khugepaged/", "hugepages/", "node", "vm/nr_", "transparent_hugepage/demo/"]);
    expect(() => runText("name: x\nsettings: { transparent_hugepage/demo/scan_sleep: 1 }\nsteps: []\n")).toThrow(
      'test.yaml:2:51: settings.transparent_hugepage/demo/scan_sleep: invalid transparent_hugepage/demo/scan_sleep "1": expected pages_to_scan',
    );
  });

  it("names are unique", () => {
    expect(() => registerStep("mmap", { schema: z.unknown(), run: () => ({ ok: true }) })).toThrow('step "mmap" is already registered');
    expect(() => registerStep("Bad-Name", { schema: z.unknown(), run: () => ({ ok: true }) })).toThrow('invalid step name "Bad-Name": expected lower-case letters, digits and _');
    expect(() => registerSetting("transparent_hugepage/", () => {})).toThrow('setting prefix "transparent_hugepage/" is already registered');
    expect(() => registerCounterSource("meminfo.", () => ({}))).toThrow('counter source "meminfo." is already registered');
  });

  it("two sources may not name the same counter", () => {
    registerCounterSource("tlb.fl", () => ({ ushes: 1 }));
    expect(() => runText("name: x\nsteps: []\n")).toThrow('counter "tlb.flushes" comes from two sources: "tlb." and "tlb.fl"');
  });
});
