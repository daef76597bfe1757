import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { Vma } from "../mm/vma";
import { VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE } from "../mm/vm-flags";

/**
 * Insert an anonymous private VMA directly (tests of layers below mmap).
 * Not exported from the package.
 */
export function insertAnonVma(k: Kernel, mm: Mm, start: number, len: number, flags = VM_READ | VM_WRITE): Vma {
  const v = new Vma(mm.id, start, start + len, flags | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC, start / k.pageSize);
  mm.vmas.insert(v);
  return v;
}
