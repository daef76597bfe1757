import type { Kernel, Mm } from "@hugemm/core";
import { counterSourceList } from "./registry";

/**
 * Every counter, in one flat namespace: each registered source's keys with
 * its prefix ("" for vmstat, "meminfo.", "hugepages-", "model.", "pid", "tlb.").
 */
export function counters(k: Kernel, processes: ReadonlyMap<number, Mm>): Record<string, number> {
  const out: Record<string, number> = {};
  const from = new Map<string, string>();
  for (const [prefix, read] of counterSourceList()) {
    for (const [key, v] of Object.entries(read(k, processes))) {
      const name = prefix + key;
      const other = from.get(name);
      if (other !== undefined) throw new RangeError(`counter "${name}" comes from two sources: "${other}" and "${prefix}"`);
      from.set(name, prefix);
      out[name] = v;
    }
  }
  return out;
}
