import type { AddressSpace } from "../file/address-space";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import type { MmapArgs } from "../mm/mmap";
import { sysMmap } from "../mm/syscalls";
import { Vma } from "../mm/vma";
import { VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE } from "../mm/vm-flags";

/*
 * Helpers for the core's own tests: building VMAs directly (tests of layers
 * below mmap) and through mmap. Not exported from the package.
 */

/** Insert an anonymous private VMA directly. */
export function insertAnonVma(k: Kernel, mm: Mm, start: number, len: number, flags = VM_READ | VM_WRITE): Vma {
  const v = new Vma(mm.id, start, start + len, flags | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC, start / k.pageSize);
  mm.vmas.insert(v);
  return v;
}

/** Insert a VMA mapping `as` from page `pgoff` directly, linked into its i_mmap. */
export function insertFileVma(mm: Mm, as: AddressSpace, start: number, len: number, flags: number, pgoff = 0): Vma {
  const shared = flags & VM_SHARED ? VM_MAYSHARE : 0;
  const v = new Vma(mm.id, start, start + len, flags | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | shared, pgoff);
  v.file = as;
  as.iMmap.add(v);
  mm.vmas.insert(v);
  return v;
}

/** mmap that must succeed: the address. */
export function mapOk(k: Kernel, mm: Mm, args: MmapArgs): number {
  const r = sysMmap(k, mm, args);
  if (!r.ok) throw new Error(`mmap failed: ${r.errno} ${r.reason}`);
  return r.value;
}

/** The VMA layout as [start, end, pgoff] rows. */
export function layout(mm: Mm): [number, number, number][] {
  return mm.vmas.all().map((v) => [v.start, v.end, v.pgoff]);
}

/** The VMA layout as [start, end] rows. */
export function spans(mm: Mm): [number, number][] {
  return mm.vmas.all().map((v) => [v.start, v.end]);
}
