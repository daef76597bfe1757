import { registerCounterSource, registerKernelSetup, registerMachineField, registerStep, fields } from "@hugemm/scenario";
import { ModelInputError, parseSize } from "@hugemm/core";
import { z } from "zod";
import { installZoneDevice, type DeviceConfig } from "../feature";
import type { MemoryTypeName } from "../pgmap";
import * as steps from "./steps";

export { protName } from "./steps";

const deviceEntry = fields.obj({
  name: fields.text,
  // The types whose memory the model builds folios for (see memremapPages).
  type: fields.oneOf(["private", "coherent"] as const satisfies readonly MemoryTypeName[]),
  size: fields.size,
  node: fields.count.optional(),
  align: fields.size.optional(),
});
const devicesSchema = z.array(deviceEntry, { error: () => "expected a list of devices, each { name, type, size, node?, align? }" });

let registered = false;

/**
 * Teach the scenario runner ZONE_DEVICE: `machine.devices:`, the device
 * steps (migrate_to_device, migrate_to_ram, device_read, device_write,
 * device_snapshot, device_exclusive, device_check_exclusive,
 * device_fail_alloc) and the `zone_device.` counters. Idempotent.
 */
export function registerZoneDeviceScenario(): void {
  if (registered) return;
  registered = true;
  registerKernelSetup("zone-device", (k) => void installZoneDevice(k));
  registerMachineField("devices", {
    schema: devicesSchema,
    summary: "ZONE_DEVICE memory: a list of { name, type (private, coherent), size, node, align }",
    apply(k, list, fail) {
      const zd = installZoneDevice(k);
      list.forEach((d, i) => {
        const c: DeviceConfig = {
          name: d.name,
          type: d.type,
          size: parseSize("size", d.size),
          ...(d.node === undefined ? {} : { node: d.node }),
          ...(d.align === undefined ? {} : { align: parseSize("align", d.align) }),
        };
        try {
          zd.addDevice(c);
        } catch (e) {
          if (!(e instanceof ModelInputError)) throw e;
          const field = e.input.replace(/^device /, "");
          throw fail([i, field === "range" ? "size" : field], e.message);
        }
      });
    },
  });
  for (const [name, def] of Object.entries(steps)) {
    if (typeof def === "object" && def !== null && "schema" in def) registerStep(name, def);
  }
  registerCounterSource("zone_device.", (k) => {
    const zd = k.feature<ReturnType<typeof installZoneDevice>>("zone-device");
    const out: Record<string, number> = {};
    if (zd === undefined) return out;
    for (const d of zd.devices.values()) {
      out[`${d.name}.pages_allocated`] = d.mem.allocated;
      out[`${d.name}.pages_free`] = d.mem.freePages;
      out[`${d.name}.pgmap_refs`] = d.pgmap.refs;
    }
    return out;
  });
}
