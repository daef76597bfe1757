import { formatRanges, installKhugepaged, khugepagedOf, type Khugepaged, type RunFor } from "@hugemm/khugepaged";
import type { Kernel } from "@hugemm/core";
import type { z } from "zod";
import { bool, count, obj } from "../fields";
import { registerCounterSource, registerKernelSetup, registerSetting, registerStep, type StepDefinition } from "../registry";
import { done } from "../steps/outcome";

/** The khugepaged sysfs directory; the package takes the rest of the key ("max_ptes_none", ...). */
export const KHUGEPAGED_PREFIX = "transparent_hugepage/khugepaged/";

const runArg = obj({ passes: count.optional(), scans: count.optional(), untilIdle: bool.optional() }).superRefine((a, ctx) => {
  const given = (["passes", "scans", "untilIdle"] as const).filter((f) => a[f] !== undefined);
  if (given.length === 1) {
    if (a.untilIdle === false) ctx.addIssue({ code: "custom", path: ["untilIdle"], message: "expected true (to run until a pass collapses nothing), or leave it out" });
    return;
  }
  const path = given.length > 1 ? [given[1]!] : [];
  ctx.addIssue({ code: "custom", path, message: `expected exactly one of passes, scans or untilIdle${given.length > 1 ? `, not both ${given[0]} and ${given[1]}` : ""}` });
});

function kh(k: Kernel): Khugepaged {
  const f = khugepagedOf(k);
  if (f === undefined) throw new RangeError("khugepaged is not installed on this kernel");
  return f;
}

/** Run khugepaged: `passes` full passes over the mm list, `scans` rounds of khugepaged_do_scan, or `untilIdle` until a pass collapses nothing. */
export const khugepaged: StepDefinition<z.output<typeof runArg>> = {
  schema: runArg,
  summary: "run khugepaged in simulated time: { passes: N }, { scans: N } or { untilIdle: true }; prints every range it tried",
  scope() {},
  run(ctx, a) {
    const what: RunFor = a.passes !== undefined ? { passes: a.passes } : a.scans !== undefined ? { scans: a.scans } : { untilIdle: true };
    const d = kh(ctx.k);
    const r = d.run(what, true);
    const head = `${r.rounds} scan${r.rounds === 1 ? "" : "s"}, ${r.passes} full pass${r.passes === 1 ? "" : "es"}, ${r.collapsed} PMD range${r.collapsed === 1 ? "" : "s"} collapsed${r.idle === "stopped" ? " (khugepaged is not running: THP is off)" : r.idle === "no-mm" ? " (no mm registered)" : ""}`;
    const ranges = formatRanges(r.ranges, ctx.k.pageSize);
    return done(ranges === "" ? head : `${head}\n${ranges}`);
  },
};

/** What the last MADV_COLLAPSE did, for the madvise step's output ("" when nothing was tried). */
export function madviseCollapseDetail(k: Kernel): string {
  const d = khugepagedOf(k);
  if (d === undefined || d.madvLog === null) return "";
  const log = d.madvLog;
  d.madvLog = [];
  if (log.length === 0) return "";
  return `${log.length} PMD range${log.length === 1 ? "" : "s"} tried\n${formatRanges(log, k.pageSize)}`;
}

/** Install khugepaged on every scenario kernel, with its settings, counters and step. */
export function installKhugepagedScenario(): void {
  registerKernelSetup("khugepaged", (k) => {
    installKhugepaged(k).madvLog = [];
  });
  registerSetting(KHUGEPAGED_PREFIX, (k, key, value) => kh(k).s.set(key, value));
  registerCounterSource("khugepaged.", (k) => khugepagedOf(k)?.counters() ?? {});
  registerStep("khugepaged", khugepaged);
}
