import { checkProt, VM_EXEC, VM_READ, VM_SHARED, VM_WRITE, type ProtIndex } from "../prot";
import { EXEC, PRESENT, PROTNONE, USER, WRITE, YOUNG } from "./bits";

/**
 * vm_get_page_prot() for the reference format: private writable mappings
 * start read-only (copy on write), PROT_NONE is a present-to-the-kernel but
 * MMU-invalid entry, and fresh entries are young as the kernel's PAGE_* are.
 */
const PROT_BITS: readonly number[] = Array.from({ length: 16 }, (_, prot) => {
  if ((prot & (VM_READ | VM_WRITE | VM_EXEC)) === 0) return PROTNONE | YOUNG;
  let bits = PRESENT | USER | YOUNG;
  if (prot & VM_EXEC) bits |= EXEC;
  if ((prot & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE)) bits |= WRITE;
  return bits;
});

const PROT_NAMES: readonly string[] = Array.from({ length: 16 }, (_, prot) => {
  if ((prot & (VM_READ | VM_WRITE | VM_EXEC)) === 0) return "PAGE_NONE";
  const exec = prot & VM_EXEC ? "_EXEC" : "";
  if (prot & VM_WRITE) return (prot & VM_SHARED ? "PAGE_SHARED" : "PAGE_COPY") + exec;
  return `PAGE_READONLY${exec}`;
});

export function protBits(prot: ProtIndex): number {
  checkProt(prot);
  return PROT_BITS[prot]!;
}

export function protName(prot: ProtIndex): string {
  checkProt(prot);
  return PROT_NAMES[prot]!;
}
