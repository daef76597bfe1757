import { PMD, PUD } from "@hugemm/arch";
import { MEMORY_DEVICE_COHERENT, MEMORY_DEVICE_PRIVATE, mixTag, type Kernel, type Mm } from "@hugemm/core";
import { makeDeviceExclusive } from "./exclusive";
import { hmmPeek, hmmRangeFault, type HmmPfn } from "./hmm";
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
  /** Whole PMD-sized runs (a device THP, a PMD-mapped THP): PMD number -> the first page's entry. */
  private readonly huge = new Map<number, number>();
  private readonly pmdPages: number;

  constructor(
    readonly k: Kernel,
    readonly device: HmmDevice,
    readonly mm: Mm,
  ) {
    // 0 without PMD THPs: every entry is a page entry then.
    this.pmdPages = k.thp.pmdOrder > 0 ? 2 ** k.thp.pmdOrder : 0;
  }

  /** Record that the device maps `pfn` at virtual page `vpn` (dmirror_do_fault / finalize_and_map). */
  store(vpn: number, pfn: number, write: boolean, atomic = false): void {
    this.demote(vpn);
    this.pt.set(vpn, pfn * 4 + (write ? WRITE : 0) + (atomic ? ATOMIC : 0));
  }

  /** Record `n` pages from `vpn` mapping consecutive pfns from `pfn`, as one entry when they are one aligned PMD. */
  storeRange(vpn: number, pfn: number, n: number, write: boolean): void {
    const P = this.pmdPages;
    if (P > 0 && n === P && vpn % P === 0 && pfn % P === 0) {
      for (let i = 0; i < n; i++) this.pt.delete(vpn + i);
      this.huge.set(vpn / P, pfn * 4 + (write ? WRITE : 0));
      return;
    }
    for (let i = 0; i < n; i++) this.store(vpn + i, pfn + i, write);
  }

  /** Forget the device's mapping of `vpn` (xa_erase). */
  erase(vpn: number): void {
    this.demote(vpn);
    this.pt.delete(vpn);
  }

  /** Forget `n` pages from `vpn`. */
  eraseRange(vpn: number, n: number): void {
    const P = this.pmdPages;
    if (P > 0 && n === P && vpn % P === 0 && this.huge.delete(vpn / P)) return;
    for (let i = 0; i < n; i++) this.erase(vpn + i);
  }

  /** A PMD-sized entry covering `vpn` becomes page entries (one of its pages is about to change). */
  private demote(vpn: number): void {
    const P = this.pmdPages;
    if (P === 0) return;
    const h = this.huge.get(Math.floor(vpn / P));
    if (h === undefined) return;
    this.huge.delete(Math.floor(vpn / P));
    const first = vpn - (vpn % P);
    for (let i = 0; i < P; i++) this.pt.set(first + i, h + i * 4);
  }

  /**
   * The live entry for `vpn`, or -1 (dropping one the CPU tables no longer
   * back). A PMD-sized entry stays whole while the CPU maps the same THP by
   * one PMD; otherwise it is checked page by page.
   */
  private entry(vpn: number): number {
    const P = this.pmdPages;
    const h = P === 0 ? undefined : this.huge.get(Math.floor(vpn / P));
    if (h !== undefined) {
      const first = vpn - (vpn % P);
      const cur = hmmPeek(this.k, this.mm, first * this.k.pageSize, this.device);
      if (cur !== null && cur.valid && cur.level === PMD && cur.pfn * 4 === h - (h % 4) && (cur.write || (h & WRITE) === 0)) return h + (vpn - first) * 4;
      this.demote(vpn);
    }
    const e = this.pt.get(vpn);
    if (e === undefined) return -1;
    const pfn = Math.floor(e / 4);
    const atomic = (e & ATOMIC) !== 0;
    const addr = vpn * this.k.pageSize;
    const cur = atomic ? null : hmmPeek(this.k, this.mm, addr, this.device);
    const ok = atomic ? this.device.isExclusiveAt(this.mm, addr, pfn) : cur !== null && cur.valid && cur.pfn === pfn && (cur.write || (e & WRITE) === 0);
    if (!ok) {
      this.pt.delete(vpn);
      return -1;
    }
    return e;
  }

  /** dmirror_fault: hmm_range_fault over [start, end) in batches, the results stored in the device page table. */
  fault(start: number, end: number, write: boolean): 0 | "EFAULT" | "EPERM" {
    const ps = this.k.pageSize;
    for (let a = start; a < end; ) {
      const next = Math.min(end, a + FAULT_BATCH * ps);
      const r = hmmRangeFault(this.k, this.mm, a, next, this.device, true, write);
      if (typeof r === "string") return r;
      for (let i = 0; i < r.length; i++) this.store(a / ps + i, r[i]!.pfn, r[i]!.write);
      a = next;
    }
    return 0;
  }

  /** dmirror_do_read / dmirror_do_write over [start, end) from page `from`: how many pages were done before one was missing. */
  private access(start: number, end: number, write: boolean, seed: number, data: number[] | null): { done: number; missing: boolean } {
    const ps = this.k.pageSize;
    const f = this.k.folios;
    let done = 0;
    const P = this.pmdPages;
    for (let a = start; a < end; ) {
      const vpn = a / ps;
      const e = this.entry(vpn);
      if (e < 0 || (write && (e & WRITE) === 0)) return { done, missing: true };
      // Inside a PMD-sized entry the rest of the PMD needs no look-up of its own.
      const run = P > 0 && this.huge.has(Math.floor(vpn / P)) ? Math.min(P - (vpn % P), (end - a) / ps) : 1;
      const pfn = Math.floor(e / 4);
      if (write) for (let i = 0; i < run; i++) f.writeTag(pfn + i, mixTag(seed, vpn + i));
      else if (data !== null) for (let i = 0; i < run; i++) data.push(pfn + i === this.k.zeroPfn ? 0 : f.readTag(pfn + i));
      a += run * ps;
      done += run;
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

  /** dmirror_do_read for a check after a command: ENOENT at the first page the device does not map; the data unless `withData` is false. */
  readBack(addr: number, npages: number, withData = true): MirrorResult {
    const data: number[] = [];
    const r = this.access(addr, addr + npages * this.k.pageSize, false, 0, withData ? data : null);
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

  /** Pages the device maps (for views and checks). */
  get size(): number {
    return this.pt.size + this.huge.size * this.pmdPages;
  }
}
