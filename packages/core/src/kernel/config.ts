import { PMD, type ArchBackend } from "@hugemm/arch";
import { ModelInputError } from "../util/errors";
import { parseSize } from "../util/size";

/** What a kernel instance is built from. Sizes accept numbers of bytes or "16G"-style strings. */
export interface KernelConfig {
  /** The page-table format (an @hugemm/arch backend). */
  readonly backend: ArchBackend;
  /** Total memory (default 16 GiB, or half the arch's physical space when that is smaller). */
  readonly memory?: number | string;
  /** NUMA nodes (default 1); memory is split evenly. */
  readonly nodes?: number;
  /** ZONE_MOVABLE per node (movablecore=), default 0. */
  readonly movable?: number | string;
  /** Swap device size (default 0: no swap). */
  readonly swap?: number | string;
  /**
   * What the swap device is: `block` (a disk or partition, the default) or
   * `zram` (SWP_SYNCHRONOUS_IO: a fault on a slot no one else references
   * reads it straight into a new folio, of an enabled mTHP size when its
   * neighbours allow, without the swap cache).
   */
  readonly swapKind?: SwapKind;
  /**
   * The kernel whose /proc views (vmstat, meminfo) the model prints, with
   * the build each assumes (stats/meminfo.ts reportBuild): `6.18` (the
   * default, the layout of Linux 6.18 as this project's reference machine
   * builds it) or `mm-new` (the newest mm tree).
   */
  readonly kernelVersion?: KernelVersion;
  /** Seed of every random choice (default 1). */
  readonly seed?: number;
  /** Run the invariant checker after every operation (default: the HUGEMM_CHECK environment variable, else off). */
  readonly check?: boolean;
  /**
   * Take the batched paths for the commonest page-by-page work (a run of
   * anonymous write faults, unmapping exclusive anonymous pages), which
   * leave exactly the state the general paths do (default on; off to
   * compare the two).
   */
  readonly fastPaths?: boolean;
  /**
   * How the checker runs after each operation when `check` is on:
   * "incremental" (default) checks what the operation touched and runs the
   * full check at checkpoints and every `checkFullEvery` operations; "full"
   * rebuilds everything after every operation. The HUGEMM_CHECK_MODE
   * environment variable sets the default.
   */
  readonly checkMode?: CheckMode;
  /** With the incremental checker, run the full check every this many operations (default 64; at least 1). */
  readonly checkFullEvery?: number;
  /**
   * CONFIG_MEM_SOFT_DIRTY: new VMAs are VM_SOFTDIRTY and entries carry the
   * soft-dirty bit, on arches that have one (default on, as distributions
   * build it; the Kconfig default is off, and `hugemm kdiff` follows the
   * machine's kernel).
   */
  readonly memSoftDirty?: boolean;
  /**
   * CONFIG_PT_RECLAIM: MADV_DONTNEED frees a PTE table it zapped whole and
   * left empty. Default: on where the arch selects ARCH_SUPPORTS_PT_RECLAIM
   * (x86-64 alone, in Linux 6.18), as the Kconfig default is.
   */
  readonly ptReclaim?: boolean;
}

export type SwapKind = "block" | "zram";
export type CheckMode = "incremental" | "full";

/** The kernels whose view layouts the model knows. */
export const KERNEL_VERSIONS = ["6.18", "mm-new"] as const;
export type KernelVersion = (typeof KERNEL_VERSIONS)[number];

export interface ResolvedConfig {
  readonly backend: ArchBackend;
  readonly memoryBytes: number;
  readonly nodes: number;
  readonly movableBytesPerNode: number;
  readonly swapBytes: number;
  readonly swapKind: SwapKind;
  readonly kernelVersion: KernelVersion;
  readonly seed: number;
  readonly check: boolean;
  readonly fastPaths: boolean;
  readonly checkMode: CheckMode;
  readonly checkFullEvery: number;
  /** CONFIG_MEM_SOFT_DIRTY on an arch with soft-dirty bits. */
  readonly memSoftDirty: boolean;
  /** CONFIG_PT_RECLAIM. */
  readonly ptReclaim: boolean;
  /** MAX_PAGE_ORDER. */
  readonly maxOrder: number;
  /** pageblock_order: min(HPAGE_PMD_ORDER, MAX_PAGE_ORDER) with THP, MAX_PAGE_ORDER without. */
  readonly pbOrder: number;
}

const GiB = 2 ** 30;

/** Arches that select ARCH_SUPPORTS_PT_RECLAIM (arch/x86/Kconfig: if X86_64). */
const PT_RECLAIM_ARCHES: ReadonlySet<string> = new Set(["x86-64"]);

export function resolveConfig(c: KernelConfig): ResolvedConfig {
  const b = c.backend;
  if (b === undefined || b === null || b.specificationVersion !== "v1") {
    throw new ModelInputError("backend", b === undefined ? "undefined" : String((b as { id?: string }).id), "an @hugemm/arch backend implementing specification v1");
  }
  const g = b.geometry;
  const maxOrder = g.maxPageOrder;
  const pmdOrder = g.levels[PMD]!.shift - g.pageShift;
  const pbOrder = b.capabilities.pmdThp ? Math.min(pmdOrder, maxOrder) : maxOrder;
  const archMax = 2 ** g.physBits;
  const memoryBytes = c.memory === undefined ? Math.min(16 * GiB, archMax / 2) : parseSize("memory size", c.memory);
  const nodes = c.nodes ?? 1;
  const movable = c.movable === undefined ? 0 : parseSize("movable zone size", c.movable);
  const swap = c.swap === undefined ? 0 : parseSize("swap size", c.swap);
  const swapKind = c.swapKind ?? "block";
  if (swapKind !== "block" && swapKind !== "zram") throw new ModelInputError("swap kind", String(swapKind), "block or zram");
  const kernelVersion = c.kernelVersion ?? "6.18";
  if (!(KERNEL_VERSIONS as readonly string[]).includes(kernelVersion)) throw new ModelInputError("kernel version", String(kernelVersion), KERNEL_VERSIONS.join(" or "));
  const seed = c.seed ?? 1;
  if (!Number.isInteger(seed)) throw new ModelInputError("seed", seed, "an integer");
  if (swap % g.pageSize !== 0) throw new ModelInputError("swap size", swap, `a multiple of the page size (${g.pageSize} bytes)`);
  const envCheck = typeof process !== "undefined" && process.env?.HUGEMM_CHECK === "1";
  const envMode = typeof process !== "undefined" ? process.env?.HUGEMM_CHECK_MODE : undefined;
  const checkMode = c.checkMode ?? (envMode === "full" ? "full" : "incremental");
  if (checkMode !== "incremental" && checkMode !== "full") throw new ModelInputError("checkMode", String(checkMode), '"incremental" or "full"');
  const checkFullEvery = c.checkFullEvery ?? 64;
  if (!Number.isSafeInteger(checkFullEvery) || checkFullEvery < 1) throw new ModelInputError("checkFullEvery", checkFullEvery, "a whole number of operations, at least 1");
  return {
    backend: b,
    memoryBytes,
    nodes,
    movableBytesPerNode: movable,
    swapBytes: swap,
    swapKind,
    kernelVersion,
    seed,
    check: c.check ?? envCheck,
    fastPaths: c.fastPaths ?? true,
    checkMode,
    checkFullEvery,
    memSoftDirty: (c.memSoftDirty ?? true) && b.capabilities.softDirty,
    ptReclaim: c.ptReclaim ?? PT_RECLAIM_ARCHES.has(b.arch),
    maxOrder,
    pbOrder,
  };
}
