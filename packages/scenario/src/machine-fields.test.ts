import { describe, expect, it } from "vitest";
import { fields, parseScenario, registerMachineField, runScenario } from "./index";

const seen: number[] = [];
registerMachineField("widgets", {
  schema: fields.obj({ count: fields.count }),
  apply(k, v, fail) {
    if (v.count > 3) throw fail(["count"], "expected at most 3 widgets");
    seen.push(v.count + k.phys.nodes.length);
  },
});

const text = (n: unknown) => `name: widgets\nmachine:\n  memory: 64M\n  widgets:\n    count: ${JSON.stringify(n)}\nsteps: []\n`;

describe("machine fields of feature packages", () => {
  it("are checked by their own schema, carried in the scenario and applied to its kernel", () => {
    const s = parseScenario(text(2), "w.yaml");
    expect(s.machine.extra).toEqual({ widgets: { count: 2 } });
    runScenario(s);
    expect(seen).toEqual([3]);
  });

  it("report bad values at their field", () => {
    expect(() => parseScenario(text("x"), "w.yaml")).toThrow(/^w\.yaml:5:12: machine\.widgets\.count: expected a whole number/);
    expect(() => runScenario(parseScenario(text(9), "w.yaml"))).toThrow("w.yaml:5:12: machine.widgets.count: expected at most 3 widgets");
  });

  it("may not shadow the built-in fields or each other", () => {
    expect(() => registerMachineField("memory", { schema: fields.count, apply() {} })).toThrow('machine field "memory" is already defined');
    expect(() => registerMachineField("widgets", { schema: fields.count, apply() {} })).toThrow('machine field "widgets" is already defined');
  });
});
