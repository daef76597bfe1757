import { meminfoCounters, modelCounters, processCounters, thpSizeCounters, tlbCounters, vmstatCounters } from "./counter-sources";
import { registerCounterSource, registerSetting, registerStep } from "./registry";
import { BUILTIN_STEPS } from "./steps";
import { installKhugepagedScenario } from "./features/khugepaged";
import { installHugetlbScenario } from "./features/hugetlb";

/** The THP sysfs prefix; the core's ThpSettings takes the rest of the key. */
export const THP_PREFIX = "transparent_hugepage/";

/** Register the package's steps, the THP settings and the counter families (the registry calls this once, on first use). */
export function installBuiltins(): void {
  for (const [name, def] of Object.entries(BUILTIN_STEPS)) registerStep(name, def);
  registerSetting(THP_PREFIX, (k, key, value) => k.thp.set(key, value));
  registerCounterSource("", vmstatCounters);
  registerCounterSource("meminfo.", meminfoCounters);
  registerCounterSource("hugepages-", thpSizeCounters);
  registerCounterSource("model.", modelCounters);
  registerCounterSource("pid", processCounters);
  registerCounterSource("tlb.", tlbCounters);
  installKhugepagedScenario();
  installHugetlbScenario();
}
