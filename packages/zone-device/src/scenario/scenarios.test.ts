import { readdirSync } from "node:fs";
import { join } from "node:path";
import { loadScenario, parseScenario, runScenario } from "@hugemm/scenario";
import { describe, expect, it } from "vitest";
import { registerZoneDeviceScenario } from "./index";

registerZoneDeviceScenario();

const dir = join(import.meta.dirname, "..", "..", "scenarios");

describe("shipped ZONE_DEVICE scenarios", () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
    it(`${file} passes every expect`, () => {
      const r = runScenario(loadScenario(join(dir, file)));
      const failed = r.expects.filter((e) => !e.pass).map((e) => `line ${e.line}: ${e.message}`);
      expect(r.violation).toBeUndefined();
      expect(failed).toEqual([]);
      expect(r.steps.filter((s) => !s.ok && s.error === undefined)).toEqual([]);
      expect(r.passed).toBe(true);
      expect(r.expects.length).toBeGreaterThan(3);
    });
  }
});

describe("bad ZONE_DEVICE input in scenarios", () => {
  const scenario = (devices: string, step = "read: { pid: 1, at: buf, len: 4K }") =>
    `name: bad\nmachine:\n  memory: 1G\n  devices:\n${devices}\nsteps:\n  - mmap: { pid: 1, as: buf, len: 64K, prot: rw, flags: private|anonymous }\n  - ${step}\n`;
  const ok = "    - { name: gpu0, type: private, size: 16M }";

  it("names the device field that is wrong, where it is", () => {
    expect(() => parseScenario(scenario("    - { name: gpu0, type: floppy, size: 16M }"), "bad.yaml")).toThrow(/^bad\.yaml:5:27: machine\.devices\[0\]\.type: expected one of private, coherent, got "floppy"/);
    expect(() => runScenario(parseScenario(scenario("    - { name: gpu0, type: private, size: 3M }"), "bad.yaml"))).toThrow(/^bad\.yaml:5:42: machine\.devices\[0\]\.size: invalid device size 3145728 \(0x300000\): expected a positive multiple of 2097152 bytes/);
    expect(() => runScenario(parseScenario(scenario(`${ok}\n${ok}`), "bad.yaml"))).toThrow(/^bad\.yaml:6:\d+: machine\.devices\[1\]\.name: invalid device name "gpu0": expected a name no other device has/);
    expect(() => parseScenario(scenario("    - { name: gpu0, type: fsdax, size: 16M }"), "bad.yaml")).toThrow(/machine\.devices\[0\]\.type: expected one of private, coherent, got "fsdax"/);
  });

  it("names an unknown device in a step", () => {
    expect(() => runScenario(parseScenario(scenario(ok, "migrate_to_device: { pid: 1, at: buf, len: 64K, device: gpu9 }"), "bad.yaml"))).toThrow(/^bad\.yaml:8:\d+: steps\[1\]\.migrate_to_device\.device: unknown device "gpu9": expected one of gpu0/);
  });

  it("reports the kernel's errno for migrating a range that is not mapped", () => {
    const r = runScenario(parseScenario(scenario(ok, "migrate_to_device: { pid: 1, at: buf+64K, len: 4K, device: gpu0, expectError: EINVAL }"), "bad.yaml"));
    expect(r.passed).toBe(true);
    expect(r.steps[1]!.error).toBe("EINVAL");
  });
});
