import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ModelInputError, type Kernel } from "@hugemm/core";

const THP_DIR = "/sys/kernel/mm/transparent_hugepage";
/** Files of the THP tree that are figures, not settings. */
const NOT_SETTINGS = /^(hpage_pmd_size|pages_collapsed|full_scans)$/;

/** The selected word of "a [b] c", else the text itself. */
export function selectedValue(text: string): string {
  const m = /\[([^\]]*)\]/.exec(text);
  return (m === null ? text : m[1]!).trim();
}

/**
 * The machine's THP settings by the model's keys ("enabled",
 * "hugepages-64kB/enabled", "khugepaged/max_ptes_none", ...): the starting
 * point both sides share, since a scenario states only what it changes.
 */
export function readMachineThpSettings(dir = THP_DIR): [key: string, value: string][] {
  const out: [string, string][] = [];
  const walk = (rel: string) => {
    let entries;
    try {
      entries = readdirSync(join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const key = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name !== "stats") walk(key);
      } else if (!NOT_SETTINGS.test(e.name)) {
        try {
          out.push([key, selectedValue(readFileSync(join(dir, key), "utf8"))]);
        } catch {
          // Write-only or unreadable: nothing to start from.
        }
      }
    }
  };
  walk("");
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/**
 * Apply the machine's settings to a model kernel before the scenario's own.
 * Returns the keys the model does not take (knobs it lacks), which then keep
 * the model's defaults.
 */
export function applyMachineThpSettings(k: Kernel, settings: readonly (readonly [string, string])[]): string[] {
  const refused: string[] = [];
  for (const [key, value] of settings) {
    try {
      k.thp.set(key, value);
    } catch (e) {
      if (!(e instanceof ModelInputError)) throw e;
      refused.push(key);
    }
  }
  return refused;
}
