import { ArchInputError } from "./errors";

/**
 * The four vm_flags bits that select a protection through vm_get_page_prot().
 * A protection index (0..15) is `vm_flags & (VM_READ|VM_WRITE|VM_EXEC|VM_SHARED)`.
 */
export const VM_NONE = 0;
export const VM_READ = 1;
export const VM_WRITE = 2;
export const VM_EXEC = 4;
export const VM_SHARED = 8;
export const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;

export type ProtIndex = number;
export const PROT_COUNT = 16;

export function checkProt(prot: number): void {
  if (!(prot >= 0 && prot < PROT_COUNT) || (prot | 0) !== prot) {
    throw new ArchInputError("protection index", prot, "an integer in [0, 15] (VM_READ|VM_WRITE|VM_EXEC|VM_SHARED)");
  }
}

/** "r-xs" style name of a protection index. */
export function protString(prot: ProtIndex): string {
  checkProt(prot);
  return (
    (prot & VM_READ ? "r" : "-") +
    (prot & VM_WRITE ? "w" : "-") +
    (prot & VM_EXEC ? "x" : "-") +
    (prot & VM_SHARED ? "s" : "p")
  );
}

/** Whether a write through this protection is allowed without a COW break. */
export function protIsSharedWritable(prot: ProtIndex): boolean {
  return (prot & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE);
}
