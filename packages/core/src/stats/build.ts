import { PMD } from "@hugemm/arch";
import type { KernelVersion } from "../kernel/config";
import type { Kernel } from "../kernel/kernel";

/**
 * The build the /proc views describe: the kernel version (which lines
 * exist and where they sit) and the configuration options that decide
 * which lines are printed.
 *
 * `6.18` is Linux 6.18 configured as this project's reference machine
 * (an x86-64 guest whose /proc/vmstat has 192 lines): CONFIG_NUMA with
 * NUMA_BALANCING, ZONE_DMA, ZONE_DMA32 and ZONE_DEVICE, ZSMALLOC, KSM,
 * ZSWAP, BALLOON_COMPACTION; no CMA, MEMORY_FAILURE, UNACCEPTED_MEMORY or
 * DYNAMIC_FTRACE meminfo line.
 *
 * `mm-new` is the newest mm tree (reclaim scan/steal/rotate and refill
 * counted per node, nr_vmalloc, GPU pages, nrswpin/nrswpout) with CMA,
 * MEMORY_FAILURE, UNACCEPTED_MEMORY and the Ftrace line, without
 * BALLOON_COMPACTION, and only the zones the model populates.
 *
 * Both: CONFIG_NUMA where the arch's defconfig has it (x86-64, arm64; not
 * the 32-bit 8xx), so the numa_* lines print on one node too;
 * CONFIG_TRANSPARENT_HUGEPAGE where the arch has PMD THP (8xx has none),
 * its PUD variant where the arch has PUD THP, and the x86 lines on x86.
 * The zone lists are what the arch's kernel compiles in (pgalloc_dma is
 * printed where ZONE_DMA exists even when no memory lies in it).
 */
export interface ReportBuild {
  readonly version: KernelVersion;
  readonly numa: boolean;
  readonly numaBalancing: boolean;
  readonly thp: boolean;
  readonly thpPud: boolean;
  readonly x86: boolean;
  readonly cma: boolean;
  readonly memoryFailure: boolean;
  readonly unaccepted: boolean;
  readonly balloonCompaction: boolean;
  readonly ftrace: boolean;
  /** The zones compiled in, lower-case as the per-zone event names spell them. */
  readonly zones: readonly string[];
  /** HPAGE_PMD_NR: base pages one PMD maps. */
  readonly hpagePmdNr: number;
}

export function reportBuild(k: Kernel): ReportBuild {
  const version = k.config.kernelVersion;
  const arch = k.backend.arch;
  const numa = arch === "x86-64" || arch === "arm64";
  const v618 = version === "6.18";
  return {
    version,
    numa,
    numaBalancing: numa,
    thp: k.backend.capabilities.pmdThp,
    thpPud: k.backend.capabilities.pudThp,
    x86: arch === "x86-64",
    cma: !v618,
    memoryFailure: !v618,
    unaccepted: !v618,
    balloonCompaction: v618,
    ftrace: !v618,
    zones: v618 && numa ? ["dma", "dma32", "normal", "movable", "device"] : ["normal", "movable"],
    hpagePmdNr: k.pagesAt(PMD),
  };
}
