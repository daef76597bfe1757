import type { Kernel } from "../kernel/kernel";
import type { Lock } from "../util/locks";
import { ModelInputError } from "../util/errors";
import { hex, sysErr, sysOk, type SysErr, type SysResult } from "./errno";
import { doMadvise, madviseLockMode, type MadviseReclaimOps } from "./madvise";
import type { Mm } from "./mm";
import { doMmap, mmPopulate, type MmapArgs } from "./mmap";
import { doMprotect } from "./mprotect";
import { doMremap } from "./mremap";
import { doVmiMunmap, pageAlign } from "./munmap";
import { MAP_FIXED, MAP_FIXED_NOREPLACE, MREMAP_FIXED } from "./vm-flags";

/** The process must be a live one of this kernel. */
function checkMm(k: Kernel, mm: Mm): void {
  if (mm.exited || k.mms.get(mm.id) !== mm) throw new ModelInputError("process", mm.id, "a live process of this kernel");
}

/** An unsigned long argument: an integer in [0, 2^BITS_PER_LONG). */
function checkUlong(k: Kernel, name: string, v: number): void {
  const bits = k.geometry.entryBytes * 8;
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new ModelInputError(name, v, `an unsigned long (an integer in [0, 2^${bits}))`);
}

/** An int argument (prot, flags, advice). */
function checkInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 32) throw new ModelInputError(name, v, "a 32-bit integer");
}

/**
 * Split the huge mappings that page-aligned boundaries at `start` and
 * `start + len` would cut, where such a split may fail (see
 * HugeVmaOps.prepareRange): ENOMEM before the call changes anything.
 * Misaligned or empty ranges are left for the call to refuse.
 */
function prepare(k: Kernel, mm: Mm, start: number, len: number): SysErr | null {
  const ps = k.pageSize;
  if (start % ps !== 0 || len <= 0) return null;
  const end = start + pageAlign(k, len);
  if (end > mm.taskSize) return null;
  if (k.hugeVmaOps.prepareRange(k, mm, start, end)) return null;
  return sysErr("ENOMEM", `splitting the huge mapping at a boundary of [${hex(start)}, ${hex(end)}) needs page tables and there is no memory for them`);
}

/** Run `fn` holding `lock` (shared when `read`). */
function locked<T>(k: Kernel, lock: Lock, read: boolean, fn: () => T): T {
  k.locks.acquire(lock, read);
  try {
    return fn();
  } finally {
    k.locks.release(lock);
  }
}

/**
 * mmap(2): map `len` bytes of anonymous memory or of `file` at `offset`.
 * Takes mmap_lock for writing; MAP_POPULATE then faults the range in under
 * the read lock, ignoring errors, as vm_mmap_pgoff does.
 */
export function sysMmap(k: Kernel, mm: Mm, args: MmapArgs): SysResult<number> {
  checkMm(k, mm);
  checkUlong(k, "mmap addr", args.addr ?? 0);
  checkUlong(k, "mmap len", args.len);
  checkUlong(k, "mmap offset", args.offset ?? 0);
  checkInt("mmap prot", args.prot);
  checkInt("mmap flags", args.flags);
  const file = args.file ?? null;
  if (file !== null && k.files.get(file.id) !== file) throw new ModelInputError("mmap file", file.name, "a file of this kernel (made by createFile)");
  return k.op("mmap", () => {
    const r = locked(k, mm.mmapLock, false, () => {
      if (args.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        const bad = prepare(k, mm, args.addr ?? 0, args.len);
        if (bad !== null) return bad;
      }
      return doMmap(k, mm, args);
    });
    if (!r.ok) return r;
    if (r.value.populate > 0) locked(k, mm.mmapLock, true, () => mmPopulate(k, mm, r.value.addr, r.value.populate));
    return sysOk(r.value.addr);
  });
}

/** munmap(2): unmap [addr, addr + len), len rounded up to pages. Takes mmap_lock for writing. */
export function sysMunmap(k: Kernel, mm: Mm, addr: number, len: number): SysResult<0> {
  checkMm(k, mm);
  checkUlong(k, "munmap addr", addr);
  checkUlong(k, "munmap len", len);
  return k.op("munmap", () => locked(k, mm.mmapLock, false, () => prepare(k, mm, addr, len) ?? doVmiMunmap(k, mm, addr, len)));
}

/** mprotect(2): give [addr, addr + len) the protection `prot`. Takes mmap_lock for writing. */
export function sysMprotect(k: Kernel, mm: Mm, addr: number, len: number, prot: number): SysResult<0> {
  checkMm(k, mm);
  checkUlong(k, "mprotect addr", addr);
  checkUlong(k, "mprotect len", len);
  checkInt("mprotect prot", prot);
  return k.op("mprotect", () => locked(k, mm.mmapLock, false, () => prepare(k, mm, addr, len) ?? doMprotect(k, mm, addr, len, prot)));
}

/**
 * mremap(2): resize the mapping at `oldAddr` from `oldLen` to `newLen`
 * bytes, moving it if MREMAP_MAYMOVE allows (to `newAddr` with
 * MREMAP_FIXED). Returns the mapping's address. Takes mmap_lock for writing.
 */
export function sysMremap(k: Kernel, mm: Mm, oldAddr: number, oldLen: number, newLen: number, flags: number, newAddr = 0): SysResult<number> {
  checkMm(k, mm);
  checkUlong(k, "mremap old_address", oldAddr);
  checkUlong(k, "mremap old_size", oldLen);
  checkUlong(k, "mremap new_size", newLen);
  checkUlong(k, "mremap new_address", newAddr);
  checkInt("mremap flags", flags);
  return k.op("mremap", () =>
    locked(k, mm.mmapLock, false, () => {
      const bad =
        prepare(k, mm, oldAddr, oldLen) ??
        (newLen > 0 && newLen < oldLen ? prepare(k, mm, oldAddr, newLen) : null) ??
        (flags & MREMAP_FIXED ? prepare(k, mm, newAddr, newLen) : null);
      return bad ?? doMremap(k, mm, oldAddr, oldLen, newLen, flags, newAddr);
    }),
  );
}

/**
 * madvise(2): apply `advice` to [addr, addr + len). Flag advice takes
 * mmap_lock for writing; page advice for reading — DONTNEED and FREE only
 * the VMA's read lock when the range lies in one VMA. `ops` carries the
 * advice reclaim and khugepaged provide.
 */
export function sysMadvise(k: Kernel, mm: Mm, addr: number, len: number, advice: number, ops: MadviseReclaimOps): SysResult<0> {
  checkMm(k, mm);
  checkUlong(k, "madvise start", addr);
  checkUlong(k, "madvise len", len);
  checkInt("madvise advice", advice);
  if (ops === null || typeof ops !== "object" || [ops.free, ops.pageout, ops.cold, ops.collapse].some((f) => typeof f !== "function")) {
    throw new ModelInputError("madvise ops", String(ops), "MadviseReclaimOps with free, pageout, cold and collapse functions");
  }
  return k.op("madvise", () => {
    const mode = madviseLockMode(advice);
    let lock = mm.mmapLock;
    if (mode === "vma") {
      const vma = mm.vmas.lookup(addr);
      if (vma !== undefined && len > 0 && addr + pageAlign(k, len) <= vma.end) lock = vma.lock;
    }
    return locked(k, lock, mode !== "write", () => prepare(k, mm, addr, len) ?? doMadvise(k, mm, addr, len, advice, ops));
  });
}
