import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { fields, formatRunSummary, parseScenario, registerCounterSource, registerSetting, registerStep, runScenario } from "./index";

const README = readFileSync(new URL("../README.md", import.meta.url), "utf8");

/** The scenario text of the README's first example. */
function readmeScenario(): string {
  const m = /parseScenario\(\n {2}`\n([\s\S]*?)`,\n/.exec(README);
  if (m === null) throw new Error("the README example has moved");
  return m[1]!;
}

it("the README example runs and passes on x86-64 and arm64", () => {
  const s = parseScenario(readmeScenario(), "pmd-thp-fork.yaml");
  for (const arch of ["x86-64", "arm64:4k-48"]) {
    const r = runScenario(s, { arch });
    expect(r.passed, formatRunSummary(r, { color: false })).toBe(true);
    expect(r.expects.map((e) => e.actual)).toEqual([1, 1, "pmd", "4K: 1, 2M: 1", "pattern 7", "clean"]);
  }
});

it("the README's extension example registers and runs", () => {
  registerStep("fault", {
    schema: fields.obj({ pid: fields.pid, at: fields.address }),
    run(ctx, a) {
      const code = ctx.k.fault(ctx.mm(a.pid), ctx.address(a.pid, a.at, "at"), false);
      return { ok: true, detail: `vm_fault_t ${code}` };
    },
  });
  registerSetting("transparent_hugepage/example/", () => {});
  registerCounterSource("example.", () => ({ widgets: 0 }));
  const r = runScenario(
    parseScenario(
      "name: ext\nsettings: { transparent_hugepage/example/rate: 8 }\nsteps:\n  - mmap: { pid: 1, as: a, len: 4K, prot: rw, flags: private|anonymous }\n  - fault: { pid: 1, at: a }\n  - expect:\n    - counter: example.widgets\n      equals: 0\n",
      "ext.yaml",
    ),
  );
  expect(r.steps[1]!.detail).toBe("vm_fault_t 0");
  expect(r.passed).toBe(true);
});
