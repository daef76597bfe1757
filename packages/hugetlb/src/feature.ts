import {
  ModelInputError,
  parseSize,
  registerHugetlbReporter,
  registerMapHugetlb,
  registerSmapsHooks,
  sysErr,
  sysOk,
  type AddressSpace,
  type Kernel,
  type KernelFeature,
  type Mm,
  type SysErr,
  type SysResult,
  type ViolationReport,
} from "@hugemm/core";
import { checkHugetlb } from "./check";
import type { Hstate } from "./hstate";
import { createHugetlbFile, fallocateHugetlbFile, mountHugetlbfs, truncateHugetlbFile, type HugetlbfsMount } from "./hugetlbfs";
import { demotePages } from "./demote";
import { setMaxHugePages, setOvercommit } from "./pool";
import { HugetlbState } from "./state";
import { formatHugetlbPages, formatHugetlbSysfs, hugetlbPagesKb, hugetlbReport, hugetlbSysfs, nodeHugetlbMeminfo, smapsHugetlb } from "./views";

/** MAP_HUGE_SHIFT / MAP_HUGE_MASK: the log2 page size in mmap and memfd flags. */
export const MAP_HUGE_SHIFT = 26;
export const MAP_HUGE_MASK = 0x3f;
/** memfd_create's MFD_HUGETLB. */
export const MFD_HUGETLB = 0x0004;

/** hugetlbfs mount options: pagesize= and size=/min_size= (bytes, or a size string such as "4M"). */
export interface HugetlbfsOptions {
  readonly pagesize?: number | string;
  readonly size?: number | string;
  readonly minSize?: number | string;
}

/**
 * hugetlb on one kernel: its hstates and pools, hugetlbfs and MAP_HUGETLB,
 * the hugetlb VMA kind, the views and the invariants. Install it with
 * `installHugetlb(k)`.
 */
export class Hugetlb implements KernelFeature {
  readonly name = "hugetlb";
  readonly state: HugetlbState;

  constructor(readonly k: Kernel) {
    this.state = new HugetlbState(k);
    const st = this.state;
    registerHugetlbReporter(k, () => hugetlbReport(st));
    registerSmapsHooks(k, { hugetlb: (vma) => smapsHugetlb(st, vma) });
    registerMapHugetlb(k, (_k, len, flags) => this.mapHugetlbSetup(len, flags));
  }

  /** The policy knobs (HugetlbConfig), the kernel's behaviour by default. */
  get config(): HugetlbState["config"] {
    return this.state.config;
  }

  /** The hstates, in the kernel's registration order. */
  get hstates(): readonly Hstate[] {
    return this.state.hstates;
  }

  /** default_hstate. */
  get defaultHstate(): Hstate {
    const h = this.state.hstates[this.state.defaultIndex];
    if (h === undefined) throw new ModelInputError("hugetlb", this.k.backend.id, "an arch with hugetlb page sizes");
    return h;
  }

  /** The hstate of `size` (bytes, "2M", "2048kB" or "hugepages-2048kB"); a ModelInputError naming the sizes there are. */
  hstate(size: number | string): Hstate {
    let bytes: number;
    if (typeof size === "string" && /^hugepages-\d+kB$/.test(size)) bytes = Number(size.slice(10, -2)) * 1024;
    else bytes = parseSize("hugetlb page size", size);
    const h = this.state.hstates.find((x) => x.size === bytes);
    if (h === undefined) throw new ModelInputError("hugetlb page size", size, `one of ${this.sizesText()}`);
    return h;
  }

  private sizesText(): string {
    return this.state.hstates.map((h) => `${h.size / 1024}kB`).join(", ") || "(none on this arch)";
  }

  /**
   * Write nr_hugepages of `h` (globally, or node `nid`'s): the pool grows
   * or shrinks as set_max_huge_pages does, stopping silently where memory
   * runs out. Returns the new nr_hugepages.
   */
  setNrHugepages(h: Hstate, count: number, nid = -1): number {
    checkCount("nr_hugepages", count);
    if (nid !== -1 && !(Number.isInteger(nid) && nid >= 0 && nid < this.k.phys.nodes.length)) throw new ModelInputError("node", nid, `a node id in [0, ${this.k.phys.nodes.length - 1}]`);
    return this.k.op("hugetlb-resize", () => {
      setMaxHugePages(this.state, h, count, nid);
      return nid < 0 ? h.nr : h.nrNode[nid]!;
    });
  }

  /** Write nr_overcommit_hugepages of `h`. */
  setOvercommit(h: Hstate, count: number): void {
    checkCount("nr_overcommit_hugepages", count);
    this.k.op("hugetlb-overcommit", () => setOvercommit(h, count));
  }

  /**
   * A setting by its kernel path: hugepages/hugepages-<N>kB/nr_hugepages or
   * nr_overcommit_hugepages, node<N>/hugepages/hugepages-<N>kB/nr_hugepages,
   * vm/nr_hugepages, vm/nr_overcommit_hugepages (the default hstate).
   */
  applySetting(key: string, value: string | number): void {
    const count = typeof value === "number" ? value : /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
    let m = /^hugepages\/(hugepages-\d+kB)\/(nr_hugepages|nr_overcommit_hugepages)$/.exec(key);
    if (m !== null) {
      const h = this.hstate(m[1]!);
      if (m[2] === "nr_hugepages") this.setNrHugepages(h, checkCount(key, count));
      else this.setOvercommit(h, checkCount(key, count));
      return;
    }
    m = /^hugepages\/(hugepages-\d+kB)\/(demote|demote_size)$/.exec(key);
    if (m !== null && this.state.demoteTo.has(this.hstate(m[1]!))) {
      const h = this.hstate(m[1]!);
      if (m[2] === "demote") this.demote(h, checkCount(key, count));
      else this.setDemoteSize(h, key, String(value));
      return;
    }
    m = /^node(\d+)\/hugepages\/(hugepages-\d+kB)\/nr_hugepages$/.exec(key);
    if (m !== null) {
      this.setNrHugepages(this.hstate(m[2]!), checkCount(key, count), Number(m[1]));
      return;
    }
    if (key === "vm/nr_hugepages") return void this.setNrHugepages(this.defaultHstate, checkCount(key, count));
    if (key === "vm/nr_overcommit_hugepages") return this.setOvercommit(this.defaultHstate, checkCount(key, count));
    throw new ModelInputError("hugetlb setting", key, "hugepages/hugepages-<size>kB/{nr_hugepages,nr_overcommit_hugepages,demote,demote_size} (demote only where the size can demote), node<N>/hugepages/hugepages-<size>kB/nr_hugepages, vm/nr_hugepages or vm/nr_overcommit_hugepages");
  }

  /**
   * Write `demote` of `h`: split up to `count` free, unreserved pages into
   * pages of its demote_size. Returns the pages demoted.
   */
  demote(h: Hstate, count: number): number {
    checkCount("demote", count);
    const dst = this.state.demoteTo.get(h);
    if (dst === undefined) throw new ModelInputError("demote", h.name, `an hstate with demote files (${[...this.state.demoteTo.keys()].map((x) => x.name).join(", ") || "none on this arch"})`);
    return this.k.op("hugetlb-demote", () => demotePages(this.state, h, dst, count));
  }

  /** Write demote_size of `h`: an hstate below it of at least the default order (EINVAL otherwise, a ModelInputError here). */
  private setDemoteSize(h: Hstate, key: string, value: string): void {
    const min = this.defaultHstate.order;
    const dst = this.state.hstates.find((x) => `${x.size / 1024}kB` === value.trim() || String(x.size) === value.trim());
    if (dst === undefined || dst.order >= h.order || dst.order < min) {
      const valid = this.state.hstates.filter((x) => x.order < h.order && x.order >= min).map((x) => `${x.size / 1024}kB`);
      throw new ModelInputError(key, value, `a smaller hstate of at least the default size: ${valid.join(", ")}`);
    }
    this.state.demoteTo.set(h, dst);
  }

  /** Mount a hugetlbfs instance (ENOMEM when min_size cannot be reserved). */
  mount(opts: HugetlbfsOptions = {}): HugetlbfsMount | SysErr {
    const h = opts.pagesize === undefined ? this.defaultHstate : this.hstate(opts.pagesize);
    const pages = (what: string, v: number | string | undefined): number => {
      if (v === undefined) return -1;
      const bytes = parseSize(`hugetlbfs ${what}`, v);
      return Math.floor(bytes / h.size);
    };
    const max = pages("size", opts.size);
    const min = pages("min_size", opts.minSize);
    return this.k.op("hugetlbfs-mount", () => mountHugetlbfs(this.state, h, max, min));
  }

  /** A file of `size` bytes on `mount` (the default mount of the default page size without one). */
  createFile(name: string, size: number | string, mount?: HugetlbfsMount): AddressSpace {
    const m = mount ?? { h: this.defaultHstate, subpool: null };
    return createHugetlbFile(this.state, name, parseSize("hugetlbfs file size", size), m);
  }

  /**
   * memfd_create(2) with MFD_HUGETLB and the MAP_HUGE_* size bits: an empty
   * file on the internal hugetlbfs mount of that size (ENODEV for a size
   * without an hstate; EINVAL without MFD_HUGETLB, which this provides).
   */
  memfdCreate(name: string, flags: number): SysResult<AddressSpace> {
    if (!Number.isInteger(flags)) throw new ModelInputError("memfd_create flags", flags, "an integer of MFD_* flags");
    if ((flags & MFD_HUGETLB) === 0) return sysErr("EINVAL", "memfd_create without MFD_HUGETLB: only hugetlb memfds are provided here");
    const log = (flags >>> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;
    const h = log === 0 ? this.state.hstates[this.state.defaultIndex] : this.state.hstates.find((x) => x.entry.shift === log);
    if (h === undefined) return sysErr("ENODEV", `MFD_HUGETLB size 2^${log} has no hstate (sizes: ${this.sizesText()})`);
    return sysOk(createHugetlbFile(this.state, `/memfd:${name} (deleted)`, 0, { h, subpool: null }));
  }

  /** ftruncate(2) of a hugetlbfs file. */
  truncate(file: AddressSpace, size: number | string): SysResult<0> {
    const bytes = parseSize("truncate size", size);
    return this.k.op("truncate", () => truncateHugetlbFile(this.state, file, bytes));
  }

  /** fallocate(2) of a hugetlbfs file (FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE in `mode`). */
  fallocate(file: AddressSpace, mode: number, offset: number | string, len: number | string): SysResult<0> {
    const off = parseSize("fallocate offset", offset);
    const l = parseSize("fallocate len", len);
    return this.k.op("fallocate", () => fallocateHugetlbFile(this.state, file, mode, off, l));
  }

  /** The sysfs and sysctl values, by path. */
  sysfs(): Record<string, number> {
    return hugetlbSysfs(this.state);
  }

  /** The sysfs and sysctl files with their contents, one `file:value` line each. */
  formatSysfs(): string {
    return formatHugetlbSysfs(this.state);
  }

  /** /sys/devices/system/node/node<N>/meminfo's hugetlb lines. */
  nodeMeminfo(nid: number): string {
    return nodeHugetlbMeminfo(this.state, nid);
  }

  /** HugetlbPages of /proc/<pid>/status, in kB. */
  hugetlbPages(mm: Mm): number {
    return hugetlbPagesKb(this.state, mm);
  }

  /** The HugetlbPages line of /proc/<pid>/status. */
  formatStatus(mm: Mm): string {
    return formatHugetlbPages(this.state, mm);
  }

  /**
   * ksys_mmap_pgoff's MAP_HUGETLB: the hstate from the MAP_HUGE_* bits (the
   * default for 0; EINVAL for a size without one), the length rounded to
   * it, and a new NORESERVE pseudo-file; the reservation is made by the
   * mmap of that file.
   */
  private mapHugetlbSetup(len: number, flags: number): SysResult<{ file: AddressSpace; len: number }> {
    const log = (flags >>> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;
    const h = log === 0 ? this.state.hstates[this.state.defaultIndex] : this.state.hstates.find((x) => x.entry.shift === log);
    if (h === undefined) return sysErr("EINVAL", `MAP_HUGE size 2^${log} has no hstate on ${this.k.backend.id} (sizes: ${this.sizesText()})`);
    const size = Math.ceil(len / h.size) * h.size;
    if (size === 0) return sysErr("EINVAL", "len is 0: the mapping is empty");
    const file = createHugetlbFile(this.state, "/anon_hugepage (deleted)", size, { h, subpool: null }, true);
    return sysOk({ file, len: size });
  }

  ownedFolios(): Iterable<number> {
    return this.state.folios.keys();
  }

  check(_k: Kernel, _op: string, report: ViolationReport): void {
    checkHugetlb(this.state, report);
  }
}

/** Validate a count written to a hugetlb file (kstrtoul: a decimal non-negative integer). */
function checkCount(field: string, count: number): number {
  if (!Number.isSafeInteger(count) || count < 0) throw new ModelInputError(field, count, "a non-negative integer count of huge pages");
  return count;
}

/** Install hugetlb on `k` (once per kernel) and return it. */
export function installHugetlb(k: Kernel): Hugetlb {
  return k.use(new Hugetlb(k));
}

/** The hugetlb feature installed on `k`; a ModelInputError if there is none. */
export function hugetlbOf(k: Kernel): Hugetlb {
  const f = k.feature<Hugetlb>("hugetlb");
  if (f === undefined) throw new ModelInputError("kernel", k.backend.id, "a kernel with hugetlb installed (installHugetlb)");
  return f;
}
