/** vm_fault_t bits, with the kernel's values (include/linux/mm_types.h). */
export const VM_FAULT_OOM = 0x000001;
export const VM_FAULT_SIGBUS = 0x000002;
export const VM_FAULT_MAJOR = 0x000004;
export const VM_FAULT_HWPOISON = 0x000010;
export const VM_FAULT_SIGSEGV = 0x000040;
export const VM_FAULT_NOPAGE = 0x000100;
export const VM_FAULT_LOCKED = 0x000200;
export const VM_FAULT_RETRY = 0x000400;
export const VM_FAULT_FALLBACK = 0x000800;
export const VM_FAULT_DONE_COW = 0x001000;
export const VM_FAULT_COMPLETED = 0x004000;
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | VM_FAULT_HWPOISON;
/**
 * Model-only: the fault found a migration entry and waited for the migration
 * to finish (migration_entry_wait) before returning to retry, as the kernel does.
 */
export const VM_FAULT_MIGRATION_WAIT = 0x1000000;

/** fault flags (enum fault_flag). */
export const FAULT_FLAG_WRITE = 0x1;
export const FAULT_FLAG_MKWRITE = 0x2;
export const FAULT_FLAG_ALLOW_RETRY = 0x4;
export const FAULT_FLAG_USER = 0x40;
export const FAULT_FLAG_REMOTE = 0x80;
export const FAULT_FLAG_INSTRUCTION = 0x100;
export const FAULT_FLAG_UNSHARE = 0x400;

const NAMES: [number, string][] = [
  [VM_FAULT_OOM, "OOM"],
  [VM_FAULT_SIGBUS, "SIGBUS"],
  [VM_FAULT_MAJOR, "MAJOR"],
  [VM_FAULT_HWPOISON, "HWPOISON"],
  [VM_FAULT_SIGSEGV, "SIGSEGV"],
  [VM_FAULT_NOPAGE, "NOPAGE"],
  [VM_FAULT_LOCKED, "LOCKED"],
  [VM_FAULT_RETRY, "RETRY"],
  [VM_FAULT_FALLBACK, "FALLBACK"],
  [VM_FAULT_DONE_COW, "DONE_COW"],
  [VM_FAULT_COMPLETED, "COMPLETED"],
  [VM_FAULT_MIGRATION_WAIT, "MIGRATION_WAIT"],
];

export function faultNames(code: number): string {
  const n = NAMES.filter(([b]) => (code & b) !== 0).map(([, s]) => s);
  return n.length === 0 ? "0" : n.join("|");
}
