import { KERNEL_VERSIONS, type KernelVersion } from "@hugemm/core";
import { z } from "zod";
import { bool, leaf, obj, oneOf, pattern, size, text } from "./fields";
import { settingsMap } from "./steps/control";

/** `machine.swap` as a map: the device's size and kind (zram is SWP_SYNCHRONOUS_IO). */
export const swapDevice = obj({ size, kind: oneOf(["block", "zram"] as const, "a swap device kind: block or zram").optional() });

/** The top level of a scenario file. Steps are checked one by one against their own schemas afterwards. */
export const scenarioSchema = obj({
  name: leaf<string>("a scenario name of lower-case letters, digits and - (such as pmd-thp-fork)", (v) => typeof v === "string" && /^[a-z0-9-]+$/.test(v)),
  description: text.optional(),
  machine: obj({
    arch: text.optional(),
    memory: size.optional(),
    nodes: leaf<number>("a number of NUMA nodes (a whole number from 1)", (v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 1).optional(),
    movable: size.optional(),
    // A size, or { size, kind }: checked by parseScenario, which names the field that is wrong.
    swap: z.unknown().optional(),
    // YAML reads 6.18 as a number: accept it as the version it spells.
    kernel: leaf<string | number>(`a kernel version whose /proc layout the views follow: ${KERNEL_VERSIONS.join(" or ")}`, (v) => (typeof v === "string" || typeof v === "number") && (KERNEL_VERSIONS as readonly string[]).includes(String(v)))
      .transform((v) => String(v) as KernelVersion)
      .optional(),
  }).optional(),
  seed: leaf<number>("a seed (a whole number)", (v) => typeof v === "number" && Number.isSafeInteger(v)).optional(),
  settings: settingsMap.optional(),
  files: z.record(z.string(), obj({ size, shmem: bool.optional(), seed: pattern.optional(), hugetlbfs: obj({ pagesize: size.optional(), size: size.optional(), min_size: size.optional() }).optional() })).optional(),
  steps: z.array(z.unknown(), { error: (iss) => (iss.input === undefined ? "missing: expected a list of steps" : "expected a list of steps") }),
});

export type ScenarioFile = z.output<typeof scenarioSchema>;
