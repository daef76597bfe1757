import { PMD, PUD } from "@hugemm/arch";
import { ThpSettings } from "@hugemm/core";
import { parseArchSpec, type MachineSpec } from "@hugemm/scenario";

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/**
 * What the generator needs to know about an arch: its page size, where PMD
 * (and PUD) boundaries fall, the mTHP sizes sysfs offers, and the machine a
 * sequence runs on. Machines are small (checking every invariant after
 * every operation costs time in proportion to what is mapped and to the
 * swap slots), with 2 nodes for migration and a little swap for reclaim.
 */
export interface ArchProfile {
  /** The arch spec as given ("arm64:4k"). */
  readonly spec: string;
  /** The backend's id ("arm64:4k-48"). */
  readonly id: string;
  /** The arch's base page (PAGE_SIZE). */
  readonly pageSize: number;
  /** Bytes one PMD entry maps: the PMD THP size where the arch has PMD THP, else the span of a PTE table. */
  readonly pmdSize: number;
  readonly pmdThp: boolean;
  /** HPAGE_PMD_ORDER, or -1 without PMD THP. */
  readonly pmdOrder: number;
  /** The PUD THP size where the arch has PUD THP, else null. */
  readonly pudSize: number | null;
  /** The `hugepages-<size>kB` directories below PMD size (mTHP), ascending. */
  readonly mthpDirs: readonly string[];
  /** Their sizes in bytes. */
  readonly mthpSizes: readonly number[];
  /** The PMD size's directory, or null without PMD THP. */
  readonly pmdDir: string | null;
  /** The PUD size's directory, or null without PUD THP. */
  readonly pudDir: string | null;
  /** The largest value khugepaged/max_ptes_none takes. */
  readonly maxPtesNone: number;
}

/** The profile of an arch spec ("x86-64", "arm64:64k", "ppc8xx:4k"); a RangeError naming the spec when unknown. */
export function archProfile(spec: string): ArchProfile {
  const b = parseArchSpec(spec);
  const g = b.geometry;
  const thp = new ThpSettings(b, GiB);
  const pmdSize = 2 ** g.levels[PMD]!.shift;
  const sizeOf = (dir: string): number => Number(/^hugepages-(\d+)kB$/.exec(dir)![1]) * 1024;
  const dirs = thp.sizeNames();
  const pudSize = thp.pudOrder > 0 ? 2 ** g.levels[PUD]!.shift : null;
  const mthpDirs = dirs.filter((d) => sizeOf(d) < pmdSize);
  return {
    spec,
    id: b.id,
    pageSize: g.pageSize,
    pmdSize,
    pmdThp: thp.pmdOrder > 0,
    pmdOrder: thp.pmdOrder,
    pudSize,
    mthpDirs,
    mthpSizes: mthpDirs.map(sizeOf),
    pmdDir: thp.pmdOrder > 0 ? thp.dirName(thp.pmdOrder) : null,
    pudDir: pudSize === null ? null : thp.dirName(thp.pudOrder),
    maxPtesNone: thp.maxPtesNone,
  };
}

/**
 * The machine a sequence runs on. A PUD THP needs a free, aligned 1 GiB
 * block on the faulting node, so a sequence that may map one gets 2 GiB
 * per node, as does the 64K granule (512 MiB PMD THPs and pageblocks);
 * the others 1 GiB in all. Swap is small: the checker visits
 * every slot after every operation.
 */
export function machineFor(p: ArchProfile, pud: boolean): MachineSpec {
  const large = pud || p.pmdSize >= 256 * MiB;
  const swap = p.pageSize >= 64 * 1024 ? 32 * MiB : 16 * MiB;
  return { arch: p.spec, memory: large ? "4G" : "512M", nodes: 2, movable: 0, swap: `${swap / MiB}M` };
}
