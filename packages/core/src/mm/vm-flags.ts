/** vm_flags bits with the kernel's values (include/linux/mm.h). */
export const VM_NONE = 0x0;
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100;
export const VM_UFFD_MISSING = 0x200;
export const VM_PFNMAP = 0x400;
export const VM_UFFD_WP = 0x1000;
export const VM_LOCKED = 0x2000;
export const VM_IO = 0x4000;
export const VM_SEQ_READ = 0x8000;
export const VM_RAND_READ = 0x10000;
export const VM_DONTCOPY = 0x20000;
export const VM_DONTEXPAND = 0x40000;
export const VM_LOCKONFAULT = 0x80000;
export const VM_ACCOUNT = 0x100000;
export const VM_NORESERVE = 0x200000;
export const VM_HUGETLB = 0x400000;
export const VM_SYNC = 0x800000;
export const VM_ARCH_1 = 0x1000000;
export const VM_WIPEONFORK = 0x2000000;
export const VM_DONTDUMP = 0x4000000;
export const VM_SOFTDIRTY = 0x8000000;
export const VM_MIXEDMAP = 0x10000000;
export const VM_HUGEPAGE = 0x20000000;
export const VM_NOHUGEPAGE = 0x40000000;
export const VM_MERGEABLE = 0x80000000;

export const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
/** Flags that keep two adjacent VMAs from merging unless equal (all but VM_SOFTDIRTY). */
export const VM_IGNORE_MERGE = VM_SOFTDIRTY;

/** is_cow_mapping: private and may become writable. */
export function isCowMapping(flags: number): boolean {
  return (flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
}

/** The protection index vm_get_page_prot() takes. */
export function protIndex(flags: number): number {
  return flags & (VM_READ | VM_WRITE | VM_EXEC | VM_SHARED);
}

/** mmap(2) protections and flags (uapi values). */
export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_FIXED_NOREPLACE = 0x100000;

export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

/** madvise(2) advice values (uapi). */
export const MADV = {
  NORMAL: 0,
  RANDOM: 1,
  SEQUENTIAL: 2,
  WILLNEED: 3,
  DONTNEED: 4,
  FREE: 8,
  REMOVE: 9,
  DONTFORK: 10,
  DOFORK: 11,
  MERGEABLE: 12,
  UNMERGEABLE: 13,
  HUGEPAGE: 14,
  NOHUGEPAGE: 15,
  DONTDUMP: 16,
  DODUMP: 17,
  WIPEONFORK: 18,
  KEEPONFORK: 19,
  COLD: 20,
  PAGEOUT: 21,
  POPULATE_READ: 22,
  POPULATE_WRITE: 23,
  DONTNEED_LOCKED: 24,
  COLLAPSE: 25,
} as const;
export type MadviseName = keyof typeof MADV;

/** calc_vm_prot_bits + calc_vm_flag_bits for a new mapping. */
export function vmFlagsFor(prot: number, mapFlags: number): number {
  let f = 0;
  if (prot & PROT_READ) f |= VM_READ;
  if (prot & PROT_WRITE) f |= VM_WRITE;
  if (prot & PROT_EXEC) f |= VM_EXEC;
  f |= VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if ((mapFlags & MAP_TYPE) === MAP_SHARED || (mapFlags & MAP_TYPE) === MAP_SHARED_VALIDATE) f |= VM_SHARED | VM_MAYSHARE;
  if (mapFlags & MAP_NORESERVE) f |= VM_NORESERVE;
  return f;
}

const FLAG_NAMES: [number, string][] = [
  [VM_READ, "rd"],
  [VM_WRITE, "wr"],
  [VM_EXEC, "ex"],
  [VM_SHARED, "sh"],
  [VM_MAYREAD, "mr"],
  [VM_MAYWRITE, "mw"],
  [VM_MAYEXEC, "me"],
  [VM_MAYSHARE, "ms"],
  [VM_GROWSDOWN, "gd"],
  [VM_PFNMAP, "pf"],
  [VM_LOCKED, "lo"],
  [VM_IO, "io"],
  [VM_SEQ_READ, "sr"],
  [VM_RAND_READ, "rr"],
  [VM_DONTCOPY, "dc"],
  [VM_DONTEXPAND, "de"],
  [VM_ACCOUNT, "ac"],
  [VM_NORESERVE, "nr"],
  [VM_HUGETLB, "ht"],
  [VM_WIPEONFORK, "wf"],
  [VM_DONTDUMP, "dd"],
  [VM_SOFTDIRTY, "sd"],
  [VM_MIXEDMAP, "mm"],
  [VM_HUGEPAGE, "hg"],
  [VM_NOHUGEPAGE, "nh"],
  [VM_MERGEABLE, "mg"],
];

/** The two-letter VmFlags mnemonics of /proc/pid/smaps. */
export function vmFlagMnemonics(flags: number): string {
  return FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0)
    .map(([, n]) => n)
    .join(" ");
}
