import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EXIT_OK } from "./cli/errors";
import { cli } from "./testing/cli";

const SCENARIOS = fileURLToPath(new URL("../../../packages/zone-device/scenarios/", import.meta.url));

describe("hugemm with ZONE_DEVICE memory", () => {
  it("runs a scenario with machine.devices and the device steps", () => {
    const r = cli(["run", `${SCENARIOS}device-private-thp.yaml`, "-q"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toContain("migrate_to_device");
  });
});
