import { PMD, PUD } from "@hugemm/arch";
import { MEMORY_DEVICE_COHERENT, MEMORY_DEVICE_PRIVATE, mixTag, type Kernel, type Mm } from "@hugemm/core";
import { makeDeviceExclusive } from "./exclusive";
import { hmmRangeFault, type HmmPfn } from "./hmm";
import type { HmmDevice } from "./device";

/** HMM_DMIRROR_PROT_* of a snapshot entry (lib/test_hmm_uapi.h). */
export const PROT = {
  ERROR: 0xff,
  NONE: 0x00,
  READ: 0x01,
  WRITE: 0x02,
  PMD: 0x04,
  PUD: 0x08,
  ZERO: 0x10,
  DEV_PRIVATE_LOCAL: 0x20,
  DEV_PRIVATE_REMOTE: 0x30,
  DEV_COHERENT_LOCAL: 0x40,
  DEV_COHERENT_REMOTE: 0x50,
} as const;

/** The outcome of a device command (struct hmm_dmirror_cmd): errno 0 or the kernel's, pages copied, device faults. */
export interface MirrorResult {
  readonly errno: 0 | "EFAULT" | "EPERM" | "ENOENT" | "EINVAL" | "EBUSY" | "ENOMEM" | "EOPNOTSUPP";
  readonly cpages: number;
  readonly faults: number;
  /** The data the device read: one contents tag per page copied. */
  readonly data: readonly number[];
}

const WRITE = 1;
const ATOMIC = 2;
/** Device fault batches are at most this many pages (test_hmm's pfns array). */
const FAULT_BATCH = 64;

/**
 * One open of the mirror device by a process (struct dmirror): its own
 * device page table, from virtual page to the page the device reaches and
 * whether it may write (or holds it for atomics).
 *
 * The kernel keeps the table coherent through an mmu interval notifier
 * that drops entries as the CPU page tables change. The model has no
 * notifiers: an entry is checked against the CPU page tables when the
 * device uses it and dropped then if the CPU no longer maps that page with
 * that permission — the same outcome for every device access, without a
 * hook on every page-table change.
 */
export class Mirror {
  /** xa pt: virtual page number -> pfn * 4 + WRITE/ATOMIC. */
  private readonly pt = new Map<number, number>();

  constructor(
    readonly k: Kernel,
    readonly device: HmmDevice,
    readonly mm: Mm,
  ) {}

  /** Record that the device maps `pfn` at virtual page `vpn` (dmirror_do_fault / finalize_and_map). */
  store(vpn: number, pfn: number, write: boolean, atomic = false): void {
    this.pt.set(vpn, pfn * 4 + (write ? WRITE : 0) + (atomic ? ATOMIC : 0));
  }

  /** Forget the device's mapping of `vpn` (xa_erase). */
  erase(vpn: number): void {
    this.pt.delete(vpn);
  }

  /** The live entry for `vpn`, or -1 (dropping one the CPU tables no longer back). */
  private entry(vpn: number): number {
    const e = this.pt.get(vpn);
    if (e === undefined) return -1;
    const pfn = Math.floor(e / 4);
    const atomic = (e & ATOMIC) !== 0;
    const cur = this.cpuView(vpn * this.k.pageSize);
    const ok = atomic ? this.device.isExclusiveAt(this.mm, vpn * this.k.pageSize, pfn) : cur !== null && cur.valid && cur.pfn === pfn && (cur.write || (e & WRITE) === 0);
    if (!ok) {
      this.pt.delete(vpn);
      return -1;
    }
    return e;
  }

  private cpuView(addr: number): HmmPfn | null {
    const r = hmmRangeFault(this.k, this.mm, addr, addr + this.k.pageSize, this.device, false, false);
    return typeof r === "string" ? null : r[0]!;
  }

  /** dmirror_fault: hmm_range_fault over [start, end) in batches, the results stored in the device page table. */
  fault(start: number, end: number, write: boolean): 0 | "EFAULT" | "EPERM" {
    const ps = this.k.pageSize;
    for (let a = start; a < end; ) {
      const next = Math.min(end, a + FAULT_BATCH * ps);
      const r = hmmRangeFault(this.k, this.mm, a, next, this.device, true, write);
      if (typeof r === "string") return r;
      r.forEach((p, i) => this.store(a / ps + i, p.pfn, p.write));
      a = next;
    }
    return 0;
  }

  /** dmirror_do_read / dmirror_do_write over [start, end) from page `from`: how many pages were done before one was missing. */
  private access(start: number, end: number, write: boolean, seed: number, data: number[] | null): { done: number; missing: boolean } {
    const ps = this.k.pageSize;
    const f = this.k.folios;
    let done = 0;
    for (let a = start; a < end; a += ps, done++) {
      const e = this.entry(a / ps);
      if (e < 0 || (write && (e & WRITE) === 0)) return { done, missing: true };
      const pfn = Math.floor(e / 4);
      if (write) f.writeTag(pfn, mixTag(seed, a / ps));
      else data?.push(pfn === this.k.zeroPfn ? 0 : f.readTag(pfn));
    }
    return { done, missing: false };
  }

  /** HMM_DMIRROR_READ: the device reads `npages` from `addr`, faulting in what its table lacks. */
  read(addr: number, npages: number): MirrorResult {
    return this.k.op("device-read", () => this.rw(addr, npages, false, 0));
  }

  /** HMM_DMIRROR_WRITE: the device stores mixTag(seed, page number) in each page, as a CPU store with that seed would. */
  write(addr: number, npages: number, seed: number): MirrorResult {
    return this.k.op("device-write", () => this.rw(addr, npages, true, seed));
  }

  private rw(addr: number, npages: number, write: boolean, seed: number): MirrorResult {
    const ps = this.k.pageSize;
    const end = addr + npages * ps;
    const data: number[] = [];
    let start = addr;
    let cpages = 0;
    let faults = 0;
    for (;;) {
      const r = this.access(start, end, write, seed, write ? null : data);
      cpages += r.done;
      if (!r.missing) return { errno: 0, cpages, faults, data };
      start += r.done * ps;
      const e = this.fault(start, end, write);
      if (e !== 0) return { errno: e, cpages, faults, data };
      faults++;
    }
  }

  /** dmirror_do_read for a check after a command: ENOENT at the first page the device does not map. */
  readBack(addr: number, npages: number): MirrorResult {
    const data: number[] = [];
    const r = this.access(addr, addr + npages * this.k.pageSize, false, 0, data);
    return { errno: r.missing ? "ENOENT" : 0, cpages: r.done, faults: 0, data };
  }

  /** HMM_DMIRROR_SNAPSHOT: what the CPU page tables give the device, page by page, without faulting. */
  snapshot(addr: number, npages: number): number[] {
    return this.k.op("device-snapshot", () => this.snapshotNow(addr, npages));
  }

  private snapshotNow(addr: number, npages: number): number[] {
    const k = this.k;
    const r = hmmRangeFault(k, this.mm, addr, addr + npages * k.pageSize, this.device, false, false);
    if (typeof r === "string") return new Array<number>(npages).fill(PROT.ERROR);
    return r.map((p) => this.mkentry(p));
  }

  /** dmirror_mkentry. */
  private mkentry(p: HmmPfn): number {
    if (p.error) return PROT.ERROR;
    if (!p.valid) return PROT.NONE;
    const k = this.k;
    const pg = k.phys.pgmapOf(p.pfn);
    let prot: number;
    if (pg?.type === MEMORY_DEVICE_PRIVATE) prot = pg.owner === this.device ? PROT.DEV_PRIVATE_LOCAL : PROT.DEV_PRIVATE_REMOTE;
    else if (pg?.type === MEMORY_DEVICE_COHERENT) prot = pg.owner === this.device ? PROT.DEV_COHERENT_LOCAL : PROT.DEV_COHERENT_REMOTE;
    else if (p.pfn === k.zeroPfn || k.hugeZero.is(k.folios.head(p.pfn))) prot = PROT.ZERO;
    else prot = 0;
    prot |= p.write ? PROT.WRITE : PROT.READ;
    if (p.level === PMD) prot |= PROT.PMD;
    else if (p.level === PUD) prot |= PROT.PUD;
    return prot;
  }

  /** HMM_DMIRROR_EXCLUSIVE: every page made device-exclusive and mapped for atomics, then read back. */
  exclusive(addr: number, npages: number): MirrorResult {
    return this.k.op("device-exclusive", () => this.exclusiveNow(addr, npages));
  }

  private exclusiveNow(addr: number, npages: number): MirrorResult {
    const k = this.k;
    const ps = k.pageSize;
    for (let a = addr; a < addr + npages * ps; a += ps) {
      const vma = this.mm.vmas.lookup(a);
      if (vma === undefined) return { errno: "EINVAL", cpages: 0, faults: 0, data: [] };
      const page = makeDeviceExclusive(k, this.mm, a);
      if (typeof page === "string") return { errno: page, cpages: 0, faults: 0, data: [] };
      this.store(a / ps, page, false, true);
    }
    return this.readBack(addr, npages);
  }

  /** HMM_DMIRROR_CHECK_EXCLUSIVE: EPERM while any page of the range is still held for atomics. */
  checkExclusive(addr: number, npages: number): 0 | "EPERM" {
    const ps = this.k.pageSize;
    for (let a = addr; a < addr + npages * ps; a += ps) {
      const e = this.entry(a / ps);
      if (e >= 0 && (e & ATOMIC) !== 0) return "EPERM";
    }
    return 0;
  }

  /** Entries the device holds (for views and checks). */
  get size(): number {
    return this.pt.size;
  }
}
