import type { Workload } from "../harness";
import { benchBackends } from "../backends";
import { GiB, MiB, type ArenaOptions } from "./arena";
import { archWorkloads } from "./arch";
import { khugepagedScanWorkload, madvCollapseWorkload } from "./collapse";
import { faultWorkload } from "./faults";
import { hugetlbFaultWorkload, hugetlbResizeWorkload } from "./hugetlb";
import { cowWorkload, forkWorkload } from "./fork";
import { deviceMigrateWorkload } from "./device";
import { migrateWorkload } from "./migrate";
import { munmapWorkload } from "./munmap";
import { splitWorkload } from "./split";
import { swapinWorkload, swapoutWorkload } from "./swap";
import { hwWalkWorkload, walkWorkload } from "./walk";

/** Bytes each workload maps, in full mode and in quick mode. */
export interface Sizes {
  readonly fault4k: number;
  readonly faultPmd: number;
  readonly faultPud: number;
  readonly fork: number;
  readonly split: number;
  readonly migrate4k: number;
  readonly migratePmd: number;
  readonly swap: number;
  readonly walk: number;
  /** MADV_COLLAPSE of populated 2M ranges, and the address space khugepaged scans. */
  readonly collapse: number;
  readonly scan: number;
  /** Walks per call of the software and the hardware walkers. */
  readonly swWalks: number;
  readonly hwWalks: number;
  /** hugetlb mappings of 2M and 1G pages, and the 2M pool a resize grows and shrinks. */
  readonly hugetlb2m: number;
  readonly hugetlb1g: number;
}

export const FULL_SIZES: Sizes = {
  fault4k: GiB,
  faultPmd: 4 * GiB,
  faultPud: 4 * GiB,
  fork: GiB,
  split: 512 * MiB,
  migrate4k: 64 * MiB,
  migratePmd: GiB,
  swap: 128 * MiB,
  walk: GiB,
  collapse: 512 * MiB,
  scan: 4 * GiB,
  swWalks: 262144,
  hwWalks: 4096,
  hugetlb2m: 4 * GiB,
  hugetlb1g: 4 * GiB,
};

export const QUICK_SIZES: Sizes = {
  fault4k: 64 * MiB,
  faultPmd: 256 * MiB,
  faultPud: 2 * GiB,
  fork: 32 * MiB,
  split: 16 * MiB,
  migrate4k: 4 * MiB,
  migratePmd: 32 * MiB,
  swap: 8 * MiB,
  walk: 64 * MiB,
  collapse: 16 * MiB,
  scan: 64 * MiB,
  swWalks: 16384,
  hwWalks: 512,
  hugetlb2m: 256 * MiB,
  hugetlb1g: 2 * GiB,
};

/** Every workload of the suite, in report order (model workloads first, then the arch micro-benchmarks). */
export function allWorkloads(sizes: Sizes, opts: ArenaOptions = { check: false }): Workload[] {
  const s = sizes;
  return [
    faultWorkload("4k", s.fault4k, opts),
    faultWorkload("64k", s.fault4k, opts),
    faultWorkload("pmd", s.faultPmd, opts),
    faultWorkload("pud", s.faultPud, opts),
    munmapWorkload("4k", s.fault4k, opts),
    munmapWorkload("64k", s.fault4k, opts),
    munmapWorkload("pmd", s.faultPmd, opts),
    munmapWorkload("pud", s.faultPud, opts),
    forkWorkload(s.fork, opts),
    cowWorkload(s.fork, opts),
    splitWorkload(s.split, opts),
    migrateWorkload("4k", s.migrate4k, opts),
    migrateWorkload("pmd", s.migratePmd, opts),
    deviceMigrateWorkload("pmd", s.migratePmd, opts),
    deviceMigrateWorkload("pmd_split", Math.max(s.migrate4k, 2 * MiB), opts),
    swapoutWorkload(s.swap, opts),
    swapinWorkload(s.swap, opts),
    walkWorkload("4k", s.walk, s.swWalks, opts),
    walkWorkload("pmd", s.walk, s.swWalks, opts),
    hwWalkWorkload("4k", s.walk, s.hwWalks, opts),
    hwWalkWorkload("pmd", s.walk, s.hwWalks, opts),
    madvCollapseWorkload(s.collapse, opts),
    khugepagedScanWorkload(s.scan, opts),
    hugetlbFaultWorkload("2m", s.hugetlb2m, opts),
    hugetlbFaultWorkload("1g", s.hugetlb1g, opts),
    hugetlbResizeWorkload(s.hugetlb2m, opts),
    ...benchBackends().flatMap(archWorkloads),
  ];
}
