import type { Kernel } from "../kernel/kernel";
import { MTHP_STATS, MTHP_STRIDE, type MthpStatName } from "./counters";

/** One THP size as /sys/kernel/mm/transparent_hugepage/hugepages-<size>kB shows it. */
export interface ThpSizeStats {
  /** "hugepages-2048kB". */
  readonly dir: string;
  readonly order: number;
  /** The `enabled` file: "always [inherit] madvise never". */
  readonly enabled: string;
  /** The files of its `stats` directory, in the kernel's order. */
  readonly stats: readonly (readonly [MthpStatName, number])[];
}

/** Every anonymous THP size the arch supports, with its mode and stats. */
export function thpStats(k: Kernel): ThpSizeStats[] {
  const s = k.thp;
  const out: ThpSizeStats[] = [];
  for (let order = 0; order <= 30; order++) {
    if ((s.anonOrders & (1 << order)) === 0) continue;
    const dir = s.dirName(order);
    out.push({
      dir,
      order,
      enabled: s.get(`${dir}/enabled`),
      stats: MTHP_STATS.map((n, i) => [n, k.mthpStats[order * MTHP_STRIDE + i]!] as const),
    });
  }
  return out;
}

/**
 * The per-size view as `grep -r . /sys/kernel/mm/transparent_hugepage/`
 * prints it: the global knobs, then one line per size file.
 */
export function formatThpStats(k: Kernel, sizes: readonly ThpSizeStats[] = thpStats(k)): string {
  const base = "/sys/kernel/mm/transparent_hugepage";
  const s = k.thp;
  let t = "";
  for (const knob of ["enabled", "defrag", "use_zero_page", "hpage_pmd_size", "shrink_underused", "khugepaged/max_ptes_none"]) t += `${base}/${knob}:${s.get(knob)}\n`;
  for (const f of k.features.all()) for (const [path, v] of Object.entries(f.thpSysfs?.(k) ?? {})) t += `${base}/${path}:${v}\n`;
  for (const z of sizes) {
    t += `${base}/${z.dir}/enabled:${z.enabled}\n`;
    for (const [n, v] of z.stats) t += `${base}/${z.dir}/stats/${n}:${v}\n`;
  }
  return t;
}
