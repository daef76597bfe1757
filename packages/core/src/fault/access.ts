import type { Vma } from "../mm/vma";
import { VM_ACCESS_FLAGS, VM_EXEC, VM_WRITE } from "../mm/vm-flags";
import { FAULT_FLAG_INSTRUCTION, FAULT_FLAG_WRITE } from "./codes";

/**
 * access_error of the arch fault handlers: a write needs VM_WRITE, an
 * instruction fetch VM_EXEC, and any other access some access right (a
 * PROT_NONE VMA refuses everything).
 */
export function accessError(vma: Vma, flags: number): boolean {
  if (flags & FAULT_FLAG_WRITE) return (vma.flags & VM_WRITE) === 0;
  if (flags & FAULT_FLAG_INSTRUCTION) return (vma.flags & VM_EXEC) === 0;
  return (vma.flags & VM_ACCESS_FLAGS) === 0;
}
