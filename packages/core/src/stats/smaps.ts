import { TVA_SMAPS, thpVmaAllowableOrders } from "../huge/orders";
import { PTE, PMD, PUD, SoftleafType, entryRegs, softleafHasPfn, softleafPfn, softleafTypeOf, type Level } from "@hugemm/arch";
import { normalPage } from "../fault/wp";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { VM_EXEC, VM_LOCKED, VM_MAYSHARE, VM_READ, VM_SHARED, VM_WRITE, vmFlagMnemonics } from "../mm/vm-flags";
import { PG_anon, PG_dirty, PG_referenced, PG_swapbacked, PGTY_zero } from "../phys/page-flags";
import { WALK_LEAF, WALK_OK, WALK_SOFTLEAF } from "../pgtable/walker";
import { ModelInputError } from "../util/errors";
import { hugetlbReport } from "./meminfo";

/**
 * /proc/pid/smaps and smaps_rollup (fs/proc/task_mmu.c): a page walk over
 * each VMA accounting every mapped page as smaps_pte_entry, smaps_pmd_entry
 * and smaps_account do, with the kernel's fixed-point PSS.
 *
 * Not modelled: the gate VMA ([vsyscall]) the kernel lists after the last
 * VMA, KSM pages (KSM is always 0), page-idle young tracking, and devices:
 * file mappings show device 00:00 and their address space's id as inode.
 */

/** PSS is summed in bytes << PSS_SHIFT so that dividing by the mapcount keeps 12 fractional bits. */
export const PSS_SHIFT = 12;
const PSS_ONE = 2 ** PSS_SHIFT;

/** struct mem_size_stats, all in bytes; the PSS fields already shifted down by PSS_SHIFT. */
export interface MemSizeStats {
  readonly resident: number;
  readonly sharedClean: number;
  readonly sharedDirty: number;
  readonly privateClean: number;
  readonly privateDirty: number;
  readonly referenced: number;
  readonly anonymous: number;
  readonly lazyfree: number;
  readonly anonymousThp: number;
  /** Model-only: anonymous memory mapped by PUD THPs (the kernel has no such line yet). */
  readonly anonymousPudThp: number;
  readonly shmemThp: number;
  readonly fileThp: number;
  readonly swap: number;
  readonly sharedHugetlb: number;
  readonly privateHugetlb: number;
  readonly ksm: number;
  readonly pss: number;
  readonly pssAnon: number;
  readonly pssFile: number;
  readonly pssShmem: number;
  readonly pssDirty: number;
  readonly pssLocked: number;
  readonly swapPss: number;
}

// Fixed-point accumulators, each kept as whole bytes plus a fraction below PSS_ONE so sums stay exact past 2^53.
const P_PSS = 0;
const P_ANON = 1;
const P_FILE = 2;
const P_SHMEM = 3;
const P_DIRTY = 4;
const P_LOCKED = 5;
const P_SWAP = 6;
const NR_PSS = 7;

/** The walk's running totals (one per smaps entry, or one for the rollup). */
class Mss {
  resident = 0;
  sharedClean = 0;
  sharedDirty = 0;
  privateClean = 0;
  privateDirty = 0;
  referenced = 0;
  anonymous = 0;
  lazyfree = 0;
  anonymousThp = 0;
  anonymousPudThp = 0;
  shmemThp = 0;
  fileThp = 0;
  swap = 0;
  sharedHugetlb = 0;
  privateHugetlb = 0;
  ksm = 0;
  /** [whole bytes, fraction] per PSS field. */
  readonly pss = new Float64Array(NR_PSS * 2);

  /** Add `times` x `v`, where v is bytes << PSS_SHIFT. */
  addPss(field: number, v: number, times = 1): void {
    const frac = (v % PSS_ONE) * times;
    const p = this.pss;
    p[field * 2]! += ((v - (v % PSS_ONE)) / PSS_ONE) * times + Math.floor(frac / PSS_ONE);
    p[field * 2 + 1]! += frac % PSS_ONE;
    if (p[field * 2 + 1]! >= PSS_ONE) {
      p[field * 2]!++;
      p[field * 2 + 1]! -= PSS_ONE;
    }
  }

  /** The field's value >> PSS_SHIFT, in bytes. */
  pssBytes(field: number): number {
    return this.pss[field * 2]!;
  }

  result(): MemSizeStats {
    return {
      resident: this.resident,
      sharedClean: this.sharedClean,
      sharedDirty: this.sharedDirty,
      privateClean: this.privateClean,
      privateDirty: this.privateDirty,
      referenced: this.referenced,
      anonymous: this.anonymous,
      lazyfree: this.lazyfree,
      anonymousThp: this.anonymousThp,
      anonymousPudThp: this.anonymousPudThp,
      shmemThp: this.shmemThp,
      fileThp: this.fileThp,
      swap: this.swap,
      sharedHugetlb: this.sharedHugetlb,
      privateHugetlb: this.privateHugetlb,
      ksm: this.ksm,
      pss: this.pssBytes(P_PSS),
      pssAnon: this.pssBytes(P_ANON),
      pssFile: this.pssBytes(P_FILE),
      pssShmem: this.pssBytes(P_SHMEM),
      pssDirty: this.pssBytes(P_DIRTY),
      pssLocked: this.pssBytes(P_LOCKED),
      swapPss: this.pssBytes(P_SWAP),
    };
  }
}

/** What features register so smaps can show what only they know. */
export interface SmapsHooks {
  /** Overrides THPeligible (by default the core's thp_vma_allowable_orders(vma, vm_flags, TVA_SMAPS, THP_ORDERS_ALL) != 0). */
  thpEligible?(vma: Vma): boolean;
  /** For a VM_HUGETLB VMA: its huge page size and the bytes smaps_hugetlb_range counts as shared and private. */
  hugetlb?(vma: Vma): { readonly pageSize: number; readonly shared: number; readonly private: number };
}

const smapsHooks = new WeakMap<Kernel, SmapsHooks>();

/** Install the hooks of the THP and hugetlb features for `k` (merged with any already installed). */
export function registerSmapsHooks(k: Kernel, hooks: SmapsHooks): void {
  if (typeof hooks !== "object" || hooks === null) throw new ModelInputError("smaps hooks", hooks, "an object with thpEligible and/or hugetlb functions");
  smapsHooks.set(k, { ...smapsHooks.get(k), ...hooks });
}

const R = entryRegs(1);

/** smaps_page_accumulate. */
function accumulate(k: Kernel, mss: Mss, head: number, size: number, pss: number, times: number, dirty: boolean, locked: boolean, priv: boolean): void {
  const flags = k.folios.flags(head);
  mss.addPss(P_PSS, pss, times);
  mss.addPss(flags & PG_anon ? P_ANON : flags & PG_swapbacked ? P_SHMEM : P_FILE, pss, times);
  if (locked) mss.addPss(P_LOCKED, pss, times);
  if (dirty || flags & PG_dirty) {
    mss.addPss(P_DIRTY, pss, times);
    if (priv) mss.privateDirty += size * times;
    else mss.sharedDirty += size * times;
  } else if (priv) mss.privateClean += size * times;
  else mss.sharedClean += size * times;
}

/**
 * smaps_account for page `page` (compound: the whole folio). A folio with a
 * single reference is mapped exactly once; otherwise each page is shared by
 * its precise mapcount (CONFIG_PAGE_MAPCOUNT). Non-present entries count as
 * maybe shared.
 */
function account(k: Kernel, mss: Mss, page: number, compound: boolean, young: boolean, dirty: boolean, locked: boolean, present: boolean): void {
  const f = k.folios;
  const head = f.head(page);
  const flags = f.flags(head);
  const nr = compound ? f.nrPages(head) : 1;
  const ps = k.pageSize;
  const size = nr * ps;
  if (flags & PG_anon) {
    mss.anonymous += size;
    if (!(flags & PG_swapbacked) && !dirty && !(flags & PG_dirty)) mss.lazyfree += size;
  }
  mss.resident += size;
  if (young || flags & PG_referenced) mss.referenced += size;
  if (f.refcount(head) === 1 || !present) {
    accumulate(k, mss, head, size, size * PSS_ONE, 1, dirty, locked, present);
    return;
  }
  const entire = f.entireMapcount(head);
  const first = compound ? head : page;
  const id = f.lid(head);
  // A folio no PTE maps has the entire mapcount on every page: account its pages at once.
  if (compound && id !== 0 && f.large.nrPagesMapped[id - 1] === 0) {
    const mc = entire;
    accumulate(k, mss, head, ps, mc >= 2 ? Math.floor((ps * PSS_ONE) / mc) : ps * PSS_ONE, nr, dirty, locked, mc < 2);
    return;
  }
  for (let i = 0; i < nr; i++) {
    const mc = f.pageMapcount(first + i) + (id !== 0 ? entire : 0);
    accumulate(k, mss, head, ps, mc >= 2 ? Math.floor((ps * PSS_ONE) / mc) : ps * PSS_ONE, 1, dirty, locked, mc < 2);
  }
}

/** Whether `pfn` heads the zero page or a huge zero folio (vm_normal_page refuses them). */
function isZero(k: Kernel, pfn: number): boolean {
  return pfn === k.zeroPfn || k.hugeZero.is(pfn) || (k.phys.memmap.pageFlags(pfn) & PGTY_zero) !== 0;
}

/**
 * smaps_pmd_entry, for a leaf at any level above the PTE: the folio counts
 * whole, as AnonHugePages, ShmemPmdMapped or FilePmdMapped by its type, with
 * the size the level maps.
 */
function hugeEntry(k: Kernel, mss: Mss, table: Uint32Array, index: number, level: Level, locked: boolean): void {
  const b = k.backend;
  b.readEntry(table, index, level, R, 0);
  if (b.none(R, 0, level)) return;
  let page: number;
  let present = false;
  if (b.present(R, 0, level)) {
    page = b.pfn(R, 0, level);
    if (b.special(R, 0, level) || isZero(k, page)) return;
    present = true;
  } else {
    const type = softleafTypeOf(b.swpType(R, 0, level));
    if (!softleafHasPfn(type)) return;
    page = softleafPfn(b.softleaf, b.swpOffset(R, 0, level));
  }
  const flags = k.folios.flags(k.folios.head(page));
  const size = 2 ** k.geometry.levels[level]!.shift;
  if (flags & PG_anon) {
    // The kernel's AnonHugePages is PMD-mapped THP; PUD THP memory goes to the model's own line.
    if (level === PUD) mss.anonymousPudThp += size;
    else mss.anonymousThp += size;
  }
  else if (flags & PG_swapbacked) mss.shmemThp += size;
  else mss.fileThp += size;
  const young = present && b.young(R, 0, level);
  const dirty = present && b.dirty(R, 0, level);
  account(k, mss, page, true, young, dirty, locked, present);
}

/** shmem_partial_swap_usage: bytes of the mapping's pages in [from, to) that are out on swap. */
function shmemSwapped(k: Kernel, vma: Vma, from: number, to: number): number {
  const as = vma.file!;
  if (as.swapped.size === 0) return 0;
  let n = 0;
  if (to - from > as.swapped.size) {
    for (const index of as.swapped.keys()) if (index >= from && index < to) n++;
  } else {
    for (let i = from; i < to; i++) if (as.swapped.has(i)) n++;
  }
  return n * k.pageSize;
}

/** smaps_pte_entry over the PTEs of one table from `index` for [start, end). */
function pteRange(k: Kernel, mss: Mss, vma: Vma, table: Uint32Array, index: number, start: number, end: number, locked: boolean, shmemHoles: boolean): void {
  const b = k.backend;
  const ps = k.pageSize;
  const dev = k.swap.device;
  for (let addr = start, i = index; addr < end; addr += ps, i++) {
    b.getEntry(table, i, PTE, R, 0);
    if (b.none(R, 0, PTE)) {
      if (shmemHoles) {
        const idx = vma.pageIndex(addr, ps);
        mss.swap += shmemSwapped(k, vma, idx, idx + 1);
      }
      continue;
    }
    if (b.present(R, 0, PTE)) {
      const page = normalPage(k, R, 0);
      if (page < 0) continue;
      account(k, mss, page, false, b.young(R, 0, PTE), b.dirty(R, 0, PTE), locked, true);
      continue;
    }
    const type = softleafTypeOf(b.swpType(R, 0, PTE));
    const off = b.swpOffset(R, 0, PTE);
    if (type === SoftleafType.SWAP) {
      mss.swap += ps;
      const count = dev !== null && dev.type === b.swpType(R, 0, PTE) && off < dev.pages ? dev.count(off) : 0;
      mss.addPss(P_SWAP, count >= 2 ? Math.floor((ps * PSS_ONE) / count) : ps * PSS_ONE);
    } else if (softleafHasPfn(type)) {
      // Device-private entries stand for pages the device holds: treated as present.
      const present = type === SoftleafType.DEVICE_PRIVATE_READ || type === SoftleafType.DEVICE_PRIVATE_WRITE;
      account(k, mss, softleafPfn(b.softleaf, off), false, false, false, locked, present);
    }
  }
}

/** smap_gather_stats: walk [vma.start, vma.end) of `mm` into `mss`. */
function gather(k: Kernel, mm: Mm, vma: Vma, mss: Mss): void {
  if (vma.isHugetlb) {
    const h = smapsHooks.get(k)?.hugetlb?.(vma);
    if (h !== undefined) {
      mss.sharedHugetlb += h.shared;
      mss.privateHugetlb += h.private;
    }
    return;
  }
  const ps = k.pageSize;
  let shmemHoles = false;
  if (vma.file !== null && vma.file.shmem) {
    // Shared or read-only shmem: every swapped page of the range is the object's; a private writable
    // mapping may have COW copies over them, so holes are looked up one by one during the walk.
    const swapped = shmemSwapped(k, vma, vma.pgoff, vma.pgoff + vma.size / ps);
    if (swapped === 0 || vma.flags & VM_SHARED || !(vma.flags & VM_WRITE)) mss.swap += swapped;
    else shmemHoles = true;
  }
  const locked = (vma.flags & VM_LOCKED) !== 0;
  const w = mm.walker;
  const slot = mm.slot;
  const pteTable = k.geometry.tables[k.geometry.tables.length - 1]!;
  const span = 2 ** pteTable.shift * pteTable.entries;
  for (let addr = vma.start; addr < vma.end; ) {
    const st = w.find(addr, PTE, false, slot);
    if (st === WALK_OK) {
      const tableEnd = Math.min(vma.end, addr - (addr % span) + span);
      pteRange(k, mss, vma, slot.table, slot.index, addr, tableEnd, locked, shmemHoles);
      addr = tableEnd;
      continue;
    }
    const size = w.levelSize(slot.level);
    const next = Math.min(vma.end, addr - (addr % size) + size);
    if ((st === WALK_LEAF || st === WALK_SOFTLEAF) && slot.level >= PMD) hugeEntry(k, mss, slot.table, slot.index, slot.level, locked);
    else if (shmemHoles) mss.swap += shmemSwapped(k, vma, vma.pageIndex(addr, ps), vma.pageIndex(next, ps));
    addr = next;
  }
}

/** One /proc/pid/smaps entry. Sizes in bytes. */
export interface SmapsEntry {
  readonly start: number;
  readonly end: number;
  /** "rwxp" / "rwxs". */
  readonly perms: string;
  /** File offset in bytes (vm_pgoff << PAGE_SHIFT), 0 for anonymous memory. */
  readonly offset: number;
  readonly dev: string;
  readonly inode: number;
  readonly name: string;
  readonly size: number;
  readonly kernelPageSize: number;
  readonly mmuPageSize: number;
  readonly stats: MemSizeStats;
  readonly thpEligible: 0 | 1;
  /** The VmFlags mnemonics, space separated. */
  readonly vmFlags: string;
}

/** /proc/pid/smaps of one mm, with what the header layout depends on. */
export interface Smaps {
  /** BITS_PER_LONG: the header pads to 25 + 6 x sizeof(void *) - 1 columns. */
  readonly bitsPerLong: 32 | 64;
  readonly entries: readonly SmapsEntry[];
}

/** The smaps_rollup of one mm. */
export interface SmapsRollup {
  readonly bitsPerLong: 32 | 64;
  /** First VMA's start and last VMA's end (both 0 for an empty mm). */
  readonly start: number;
  readonly end: number;
  readonly stats: MemSizeStats;
}

/** vma_kernel_pagesize of a hugetlb VMA no feature describes: the default hstate's size. */
function defaultHugePageSize(k: Kernel): number {
  const rep = hugetlbReport(k);
  return rep.hstates[rep.defaultIndex]!.pageSize;
}

function bitsPerLong(k: Kernel): 32 | 64 {
  return k.geometry.userVaBits > 32 ? 64 : 32;
}

function checkMm(k: Kernel, mm: Mm): void {
  if (mm.exited || k.mm(mm.id) !== mm) throw new ModelInputError("process", mm.id, "a live process of this kernel");
}

function perms(flags: number): string {
  return (flags & VM_READ ? "r" : "-") + (flags & VM_WRITE ? "w" : "-") + (flags & VM_EXEC ? "x" : "-") + (flags & VM_MAYSHARE ? "s" : "p");
}

/** show_smap for every VMA of `mm`. */
export function smaps(k: Kernel, mm: Mm): Smaps {
  checkMm(k, mm);
  const hooks = smapsHooks.get(k);
  const entries: SmapsEntry[] = [];
  for (const vma of mm.vmas.all()) {
    const mss = new Mss();
    gather(k, mm, vma, mss);
    let pageSize = k.pageSize;
    if (vma.isHugetlb) pageSize = hooks?.hugetlb?.(vma)?.pageSize ?? defaultHugePageSize(k);
    entries.push({
      start: vma.start,
      end: vma.end,
      perms: perms(vma.flags),
      offset: vma.file !== null ? vma.pgoff * k.pageSize : 0,
      dev: "00:00",
      inode: vma.file !== null ? vma.file.id : 0,
      name: vma.name !== "" ? vma.name : (vma.file?.name ?? ""),
      size: vma.size,
      kernelPageSize: pageSize,
      mmuPageSize: pageSize,
      stats: mss.result(),
      thpEligible: (hooks?.thpEligible?.(vma) ?? thpVmaAllowableOrders(k, mm, vma, vma.flags, TVA_SMAPS, k.thp.anonOrders) !== 0) ? 1 : 0,
      vmFlags: vmFlagMnemonics(vma.flags),
    });
  }
  return { bitsPerLong: bitsPerLong(k), entries };
}

/** show_smaps_rollup: one walk over every VMA, PSS summed before shifting. */
export function smapsRollup(k: Kernel, mm: Mm): SmapsRollup {
  checkMm(k, mm);
  const mss = new Mss();
  const all = mm.vmas.all();
  for (const vma of all) gather(k, mm, vma, mss);
  return { bitsPerLong: bitsPerLong(k), start: all.length > 0 ? all[0]!.start : 0, end: all.length > 0 ? all[all.length - 1]!.end : 0, stats: mss.result() };
}

const hex = (v: number, width: number) => v.toString(16).padStart(width, "0");

/** show_vma_header_prefix, padded (seq_pad) when a name follows. */
function header(bits: 32 | 64, start: number, end: number, perm: string, offset: number, dev: string, inode: number, name: string): string {
  const line = `${hex(start, 8)}-${hex(end, 8)} ${perm} ${hex(offset, 8)} ${dev} ${inode} `;
  if (name === "") return `${line}\n`;
  return `${line.padEnd(25 + (bits / 8) * 6 - 1)} ${name}\n`;
}

/** SEQ_PUT_DEC: bytes shown in kB, right-aligned in 8 columns. */
const dec = (label: string, bytes: number, width = 8) => `${label}${String(Math.floor(bytes / 1024)).padStart(width)} kB\n`;

/** __show_smap: the fields smaps and smaps_rollup share. */
function showSmap(s: MemSizeStats, rollup: boolean): string {
  let t = dec("Rss:            ", s.resident);
  t += dec("Pss:            ", s.pss);
  t += dec("Pss_Dirty:      ", s.pssDirty);
  if (rollup) {
    t += dec("Pss_Anon:       ", s.pssAnon);
    t += dec("Pss_File:       ", s.pssFile);
    t += dec("Pss_Shmem:      ", s.pssShmem);
  }
  t += dec("Shared_Clean:   ", s.sharedClean);
  t += dec("Shared_Dirty:   ", s.sharedDirty);
  t += dec("Private_Clean:  ", s.privateClean);
  t += dec("Private_Dirty:  ", s.privateDirty);
  t += dec("Referenced:     ", s.referenced);
  t += dec("Anonymous:      ", s.anonymous);
  t += dec("KSM:            ", s.ksm);
  t += dec("LazyFree:       ", s.lazyfree);
  t += dec("AnonHugePages:  ", s.anonymousThp);
  // Model-only, and only where there is some, so the text stays the kernel's otherwise.
  if (s.anonymousPudThp > 0) t += dec("AnonPudHugePages: ", s.anonymousPudThp, 6);
  t += dec("ShmemPmdMapped: ", s.shmemThp);
  t += dec("FilePmdMapped:  ", s.fileThp);
  t += dec("Shared_Hugetlb: ", s.sharedHugetlb);
  t += dec("Private_Hugetlb: ", s.privateHugetlb, 7);
  t += dec("Swap:           ", s.swap);
  t += dec("SwapPss:        ", s.swapPss);
  t += dec("Locked:         ", s.pssLocked);
  return t;
}

/** The exact text of /proc/pid/smaps. ProtectionKey is omitted: no modelled arch enables pkeys. */
export function formatSmaps(s: Smaps): string {
  let t = "";
  for (const e of s.entries) {
    t += header(s.bitsPerLong, e.start, e.end, e.perms, e.offset, e.dev, e.inode, e.name);
    t += dec("Size:           ", e.size);
    t += dec("KernelPageSize: ", e.kernelPageSize);
    t += dec("MMUPageSize:    ", e.mmuPageSize);
    t += showSmap(e.stats, false);
    t += `THPeligible:    ${String(e.thpEligible).padStart(8)}\n`;
    t += `VmFlags: ${e.vmFlags === "" ? "" : `${e.vmFlags} `}\n`;
  }
  return t;
}

/** The exact text of /proc/pid/smaps_rollup. */
export function formatSmapsRollup(r: SmapsRollup): string {
  return header(r.bitsPerLong, r.start, r.end, "---p", 0, "00:00", 0, "[rollup]") + showSmap(r.stats, true);
}
