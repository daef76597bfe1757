import type { Dice } from "./dice";
import type { ArchProfile } from "./profile";

/** The sysfs prefix of THP settings in a scenario. */
export const THP = "transparent_hugepage/";

const ANON_MODES = [
  ["always", 4],
  ["inherit", 2],
  ["madvise", 2],
  ["never", 1],
] as const;

/** The value of a THP setting: text as sysfs takes it, or 0/1 and numbers as numbers. */
export type SettingValue = string | number;

/**
 * One THP setting and a value for it: the global `enabled` and `defrag`,
 * a per-size `enabled` (the mTHP sizes, the PMD size, and the PUD size
 * where the sequence may map a PUD THP), `use_zero_page`,
 * `shrink_underused`, khugepaged's `max_ptes_none` (read by the underused
 * shrinker) and the model's `pud_deposit`.
 */
export function pickSetting(d: Dice, p: ArchProfile, pud: boolean): [string, SettingValue] {
  const thp = p.pmdThp;
  const key = d.weighted([
    ["enabled", 3],
    ["mthp", thp && p.mthpDirs.length > 0 ? 4 : 0],
    ["pmd", thp ? 1 : 0],
    ["pud", pud ? 1 : 0],
    ["defrag", 1],
    ["use_zero_page", 1],
    ["shrink_underused", 1],
    ["max_ptes_none", thp ? 1 : 0],
    ["pud_deposit", pud ? 1 : 0],
  ] as const);
  switch (key) {
    case "enabled":
      return [`${THP}enabled`, d.weighted([["always", 9], ["madvise", 8], ["never", 3]])];
    case "mthp":
      return [`${THP}${d.pick(p.mthpDirs)}/enabled`, d.weighted(ANON_MODES)];
    case "pmd":
      return [`${THP}${p.pmdDir!}/enabled`, d.weighted(ANON_MODES)];
    case "pud":
      return [`${THP}${p.pudDir!}/enabled`, d.weighted(ANON_MODES)];
    case "defrag":
      return [`${THP}defrag`, d.pick(["always", "defer", "defer+madvise", "madvise", "never"])];
    case "use_zero_page":
      return [`${THP}use_zero_page`, d.below(2)];
    case "shrink_underused":
      return [`${THP}shrink_underused`, d.below(2)];
    case "max_ptes_none":
      return [`${THP}khugepaged/max_ptes_none`, d.pick([0, 64, Math.floor(p.maxPtesNone / 2), p.maxPtesNone])];
    case "pud_deposit":
      return [`${THP}pud_deposit`, d.pick(["pre-deposit", "at-split"])];
  }
}

/**
 * Settings before the first step: often one or two mTHP sizes on (the
 * kernel's default leaves them off), sometimes THP only on madvise, and in
 * a sequence that may map a PUD THP, the 1G size on.
 */
export function initialSettings(d: Dice, p: ArchProfile, pud: boolean): [string, string][] {
  const out = new Map<string, string>();
  if (p.pmdThp) {
    if (p.mthpDirs.length > 0 && d.chance(0.5)) {
      for (let i = d.int(1, 2); i > 0; i--) out.set(`${THP}${d.pick(p.mthpDirs)}/enabled`, d.weighted(ANON_MODES));
    }
    if (d.chance(0.2)) out.set(`${THP}enabled`, d.chance(0.8) ? "madvise" : "never");
    if (d.chance(0.15)) out.set(`${THP}defrag`, d.pick(["always", "defer", "defer+madvise", "never"]));
  }
  if (pud && p.pudDir !== null) {
    out.set(`${THP}${p.pudDir}/enabled`, "always");
    if (d.chance(0.5)) out.set(`${THP}pud_deposit`, "at-split");
  }
  return [...out];
}
