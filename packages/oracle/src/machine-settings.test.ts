import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { Kernel } from "@hugemm/core";
import { expect, it } from "vitest";
import { applyMachineThpSettings, readMachineThpSettings, selectedValue } from "./machine-settings";

it("reads the selected value of each THP setting of a sysfs tree, leaving out figures and stats", () => {
  const dir = mkdtempSync(join(tmpdir(), "thp-"));
  const files: Record<string, string> = {
    enabled: "always [madvise] never\n",
    hpage_pmd_size: "2097152\n",
    "hugepages-64kB/enabled": "always inherit madvise [never]\n",
    "hugepages-64kB/stats/anon_fault_alloc": "3\n",
    "khugepaged/max_ptes_none": "511\n",
    "khugepaged/full_scans": "3\n",
    anon_beside_full: "0\n",
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  expect(readMachineThpSettings(dir)).toEqual([
    ["anon_beside_full", "0"],
    ["enabled", "madvise"],
    ["hugepages-64kB/enabled", "never"],
    ["khugepaged/max_ptes_none", "511"],
  ]);
  expect(selectedValue("always within_size advise [never] deny force")).toBe("never");
});

it("starts the model from the machine's settings and names the knobs it lacks", () => {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "64M" });
  const refused = applyMachineThpSettings(k, [
    ["enabled", "madvise"],
    ["hugepages-64kB/enabled", "always"],
    ["anon_beside_full", "0"],
  ]);
  expect(refused).toEqual(["anon_beside_full"]);
  expect(k.thp.get("enabled")).toMatch(/\[madvise\]/);
});
