import { PTE, SoftleafType, SWP_MIGRATION_READ, SWP_MIGRATION_READ_EXCLUSIVE, SWP_DEVICE_READ, entryRegs, softleafPfn, softleafTypeOf } from "@hugemm/arch";
import { vmaPageProt } from "../fault/file";
import { normalPage } from "../fault/wp";
import type { Kernel } from "../kernel/kernel";
import { PG_anon, PG_anon_exclusive } from "../phys/page-flags";
import { Slot, WALK_LEAF, WALK_OK, WALK_SOFTLEAF } from "../pgtable/walker";
import { ModelBug } from "../util/errors";
import { hex, sysErr, sysOk, type SysErr, type SysResult } from "./errno";
import { hugeVmaOps } from "./huge-vma-ops";
import type { Mm } from "./mm";
import { pageAlign } from "./munmap";
import { vmEnoughMemory } from "./mmap";
import type { Vma } from "./vma";
import { vmaModifyFlags } from "./vma-ops";
import { pteBatch } from "./zap";
import {
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  VM_ACCESS_FLAGS,
  VM_ACCOUNT,
  VM_EXEC,
  VM_GROWSDOWN,
  VM_HUGETLB,
  VM_NORESERVE,
  VM_READ,
  VM_SHARED,
  VM_SOFTDIRTY,
  VM_UFFD_WP,
  VM_WRITE,
  protIndex,
} from "./vm-flags";

/** mprotect(2) protection bits beyond PROT_READ/WRITE/EXEC (uapi values). */
export const PROT_SEM = 0x8;
export const PROT_GROWSDOWN = 0x01000000;
export const PROT_GROWSUP = 0x02000000;

const R = entryRegs(2);
const SLOT = new Slot();

/** calc_vm_prot_bits. */
export function calcVmProtBits(prot: number): number {
  return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0);
}

/**
 * vma_wants_manual_pte_write_upgrade: whether change_protection may make
 * PTEs writable itself (MM_CP_TRY_CHANGE_WRITABLE) — private writable VMAs,
 * and shared writable ones whose protection leaves PTEs read-only for write
 * notification.
 */
export function vmaWantsManualPteWriteUpgrade(vma: Vma): boolean {
  if (vma.flags & VM_SHARED) return (vma.flags & VM_WRITE) !== 0 && vmaPageProt(vma) !== protIndex(vma.flags);
  return (vma.flags & VM_WRITE) !== 0;
}

/**
 * maybe_change_pte_writable for the PTE in R: not PROT_NONE, and neither
 * soft-dirty nor uffd-wp tracking needs the next write to fault.
 */
function maybeChangePteWritable(k: Kernel, vma: Vma): boolean {
  const b = k.backend;
  if ((vma.flags & VM_WRITE) === 0) throw new ModelBug(`making a PTE of read-only VMA #${vma.id} writable`);
  if (b.capabilities.protnone && b.protnone(R, 0, PTE)) return false;
  if (k.config.memSoftDirty && (vma.flags & VM_SOFTDIRTY) === 0 && !b.softDirty(R, 0, PTE)) return false;
  if (b.capabilities.uffdWp && vma.flags & VM_UFFD_WP && b.uffdWp(R, 0, PTE)) return false;
  return true;
}

/** pte_mkwrite on `nr` entries from `index`, each keeping its own young and dirty bits. */
function mkwriteEntries(k: Kernel, table: Uint32Array, index: number, addr: number, nr: number): void {
  const b = k.backend;
  for (let j = 0; j < nr; j++) {
    b.getEntry(table, index + j, PTE, R, 0);
    b.mkwrite(R, 0, PTE);
    b.setEntries(k.ptCtx, table, index + j, PTE, addr + j * k.pageSize, R, 0, 1);
  }
}

/**
 * change_softleaf_pte: a writable migration entry becomes readable (so the
 * page comes back read-only and faults for write), and so does a writable
 * device-private entry; other softleaves stay. Returns whether it changed.
 */
function changeSoftleafPte(k: Kernel, table: Uint32Array, index: number, addr: number): boolean {
  const b = k.backend;
  b.readEntry(table, index, PTE, R, 0);
  const type = softleafTypeOf(b.swpType(R, 0, PTE));
  const off = b.swpOffset(R, 0, PTE);
  if (type === SoftleafType.MIGRATION_WRITE) {
    const head = k.folios.head(softleafPfn(b.softleaf, off));
    const softDirty = k.config.memSoftDirty && b.swpSoftDirty(R, 0, PTE);
    b.softleafEntry(R, 0, PTE, k.folios.test(head, PG_anon) ? SWP_MIGRATION_READ_EXCLUSIVE : SWP_MIGRATION_READ, off);
    if (softDirty) b.swpMkSoftDirty(R, 0, PTE);
  } else if (type === SoftleafType.DEVICE_PRIVATE_WRITE) {
    // Soft-dirty is not preserved here, as copy_nonpresent_pte explains.
    const uffdWp = b.capabilities.uffdWp && b.swpUffdWp(R, 0, PTE);
    b.softleafEntry(R, 0, PTE, SWP_DEVICE_READ, off);
    if (uffdWp) b.swpMkUffdWp(R, 0, PTE);
  } else {
    return false;
  }
  b.setEntries(k.ptCtx, table, index, PTE, addr, R, 0, 1);
  return true;
}

/**
 * change_pte_range over one PTE table: present PTEs take the new protection
 * a folio batch at a time (pte_modify keeps pfn, young and dirty), then
 * become writable where the write fault would have made them so anyway.
 */
function changePteRange(k: Kernel, vma: Vma, table: Uint32Array, tablePa: number, index: number, start: number, end: number, newprot: number, tryWritable: boolean): number {
  const b = k.backend;
  const f = k.folios;
  const ps = k.pageSize;
  const shared = (vma.flags & VM_SHARED) !== 0;
  const ptl = k.tables.ptl(tablePa);
  let pages = 0;
  k.locks.acquire(ptl);
  try {
    for (let addr = start, i = index; addr < end; ) {
      b.getEntry(table, i, PTE, R, 0);
      if (b.none(R, 0, PTE)) {
        addr += ps;
        i++;
        continue;
      }
      if (!b.present(R, 0, PTE)) {
        if (changeSoftleafPte(k, table, i, addr)) pages++;
        addr += ps;
        i++;
        continue;
      }
      const page = normalPage(k, R, 0);
      const head = page >= 0 ? f.head(page) : -1;
      const maxNr = (end - addr) / ps;
      const nr = head >= 0 && f.order(head) > 0 && maxNr > 1 ? pteBatch(k, table, i, page, Math.min(maxNr, head + f.nrPages(head) - page)) : 1;
      b.modifyEntries(k.ptCtx, table, i, PTE, addr, nr, newprot);
      b.getEntry(table, i, PTE, R, 0);
      if (tryWritable && !b.write(R, 0, PTE) && maybeChangePteWritable(k, vma)) {
        if (shared) {
          // A dirty shared PTE was already written through page_mkwrite: no notification is pending.
          if (b.dirty(R, 0, PTE)) mkwriteEntries(k, table, i, addr, nr);
        } else if (head >= 0 && f.test(head, PG_anon)) {
          // Only exclusive anonymous pages: the write fault would reuse them without copying.
          for (let j = 0; j < nr; ) {
            const excl = f.pageTest(page + j, PG_anon_exclusive);
            let len = 1;
            while (j + len < nr && f.pageTest(page + j + len, PG_anon_exclusive) === excl) len++;
            if (excl) mkwriteEntries(k, table, i + j, addr + j * ps, len);
            j += len;
          }
        }
      }
      pages += nr;
      addr += nr * ps;
      i += nr;
    }
  } finally {
    k.locks.release(ptl);
  }
  return pages;
}

/**
 * change_protection over [start, end) of `vma`, whose flags are already the
 * new ones: every mapped PTE gets vma_page_prot. Huge entries go to the
 * huge-page layer. Returns the number of entries changed.
 */
export function changeProtection(k: Kernel, mm: Mm, vma: Vma, start: number, end: number, tryWritable: boolean): number {
  const kindChange = vma.kind?.changeProtection;
  if (kindChange !== undefined) return kindChange(k, mm, vma, start, end);
  const w = mm.walker;
  const newprot = vmaPageProt(vma);
  const pteTable = k.geometry.tables[k.geometry.tables.length - 1]!;
  const span = 2 ** pteTable.shift * pteTable.entries;
  let pages = 0;
  let addr = start;
  let splitAt = -1;
  while (addr < end) {
    const st = w.find(addr, PTE, false, SLOT);
    if (st === WALK_OK) {
      const tableEnd = Math.min(end, addr - (addr % span) + span);
      pages += changePteRange(k, vma, SLOT.table, SLOT.tablePa, SLOT.index, addr, tableEnd, newprot, tryWritable);
      addr = tableEnd;
    } else if (st === WALK_LEAF || st === WALK_SOFTLEAF) {
      const size = w.levelSize(SLOT.level);
      const leafEnd = Math.min(end, addr - (addr % size) + size);
      if (splitAt === addr) throw new ModelBug(`change_protection: the level-${SLOT.level} entry at ${hex(addr)} is still huge after the huge-page layer split it`);
      const level = SLOT.level;
      const handled = hugeVmaOps(k).changeProtection(k, mm, vma, level, addr, leafEnd, tryWritable);
      if (handled > 0) {
        pages += k.pagesAt(level);
        addr += handled;
      } else {
        splitAt = addr;
      }
    } else {
      const skip = w.levelSize(SLOT.level);
      addr = Math.min(end, addr - (addr % skip) + skip);
    }
  }
  return pages;
}

/**
 * mprotect_fixup: [start, end) of `vma` gets `newflags`. A private mapping
 * becoming writable charges the commit limit (VM_ACCOUNT); an anonymous one
 * never faulted gives the charge back when it stops being writable. The
 * range is merged with a neighbour or split off, then its PTEs change.
 * Returns the VMA now covering the range.
 */
export function mprotectFixup(k: Kernel, mm: Mm, vma: Vma, prev: Vma | undefined, start: number, end: number, newflags: number): Vma | SysErr {
  const oldflags = vma.flags;
  let flags = newflags;
  if (flags === oldflags) return vma;
  const nrpages = (end - start) / k.pageSize;
  if (flags & VM_WRITE) {
    if ((oldflags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE)) === 0) {
      if (!vmEnoughMemory(k, nrpages)) return sysErr("ENOMEM", `making [${hex(start)}, ${hex(end)}) writable commits more than the memory and swap of the machine`);
      flags |= VM_ACCOUNT;
    }
  } else if (oldflags & VM_ACCOUNT && vma.isAnonymous && vma.anonVma === null) {
    flags &= ~VM_ACCOUNT;
  }
  const r = vmaModifyFlags(k, mm, prev, vma, start, end, flags);
  if ("ok" in r) return r;
  const v = r.vma;
  v.flags = r.flags;
  const pages = changeProtection(k, mm, v, start, end, vmaWantsManualPteWriteUpgrade(v));
  if (pages > 0) k.flushTlb(start, end, "mprotect");
  return v;
}

/**
 * do_mprotect_pkey without a key: give every VMA in [start, start + len)
 * the protection `prot`. Stops at the first VMA that may not have it
 * (EACCES: a bit whose VM_MAY* is clear) or at a hole (ENOMEM), keeping the
 * changes already made, as the kernel does.
 */
export function doMprotect(k: Kernel, mm: Mm, start: number, len: number, protIn: number): SysResult<0> {
  const ps = k.pageSize;
  const grows = protIn & (PROT_GROWSDOWN | PROT_GROWSUP);
  const prot = protIn & ~(PROT_GROWSDOWN | PROT_GROWSUP);
  if (grows === (PROT_GROWSDOWN | PROT_GROWSUP)) return sysErr("EINVAL", "prot has both PROT_GROWSDOWN and PROT_GROWSUP");
  if (start % ps !== 0) return sysErr("EINVAL", `addr ${hex(start)} is not aligned to the page size (${ps} bytes)`);
  if (len === 0) return sysOk(0);
  const end = start + pageAlign(k, len);
  if (end <= start || end > 2 ** (k.geometry.entryBytes * 8)) return sysErr("ENOMEM", `addr ${hex(start)} + len ${hex(len)} wraps around the address space`);
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) return sysErr("EINVAL", `prot ${hex(protIn)} has bits other than PROT_READ, PROT_WRITE, PROT_EXEC and PROT_SEM`);
  let vma = mm.vmas.intersection(start, end);
  if (vma === undefined) return sysErr("ENOMEM", `nothing is mapped in [${hex(start)}, ${hex(end)})`);
  if (grows & PROT_GROWSDOWN) {
    start = vma.start;
    if ((vma.flags & VM_GROWSDOWN) === 0) return sysErr("EINVAL", `PROT_GROWSDOWN on [${hex(vma.start)}, ${hex(vma.end)}), which does not grow down`);
  } else {
    if (vma.start > start) return sysErr("ENOMEM", `[${hex(start)}, ${hex(vma.start)}) is not mapped`);
    if (grows & PROT_GROWSUP) return sysErr("EINVAL", `PROT_GROWSUP on [${hex(vma.start)}, ${hex(vma.end)}), which does not grow up`);
  }
  let prev = start > vma.start ? vma : mm.vmas.prev(vma);
  let nstart = start;
  let tmp = vma.start;
  while (vma !== undefined && vma.start < end) {
    if (vma.start !== tmp) return sysErr("ENOMEM", `[${hex(tmp)}, ${hex(vma.start)}) is not mapped`);
    const newflags = calcVmProtBits(prot) | (vma.flags & ~VM_ACCESS_FLAGS);
    // VM_MAY* sit four bits above their VM_* counterparts.
    if ((newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS) {
      return sysErr("EACCES", `prot ${hex(protIn)} asks for access the mapping [${hex(vma.start)}, ${hex(vma.end)}) may never have`);
    }
    tmp = Math.min(vma.end, end);
    const r = mprotectFixup(k, mm, vma, prev, nstart, tmp, newflags);
    if ("ok" in r) return r;
    prev = r;
    tmp = r.end;
    nstart = tmp;
    vma = mm.vmas.findVma(tmp);
  }
  if (tmp < end) return sysErr("ENOMEM", `[${hex(tmp)}, ${hex(end)}) is not mapped`);
  return sysOk(0);
}
