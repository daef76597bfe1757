/**
 * The errno values the memory-management system calls (and the device
 * drivers' commands) return, with the kernel's numbers (include/uapi/asm-generic/errno-base.h and errno.h).
 */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  ENXIO: 6,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ETXTBSY: 26,
  ENOSPC: 28,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
  EHWPOISON: 133,
} as const;

export type Errno = keyof typeof ERRNO;

/** A system call that succeeded, with what it returns. */
export interface SysOk<T> {
  readonly ok: true;
  readonly value: T;
}

/** A system call the kernel refused: the errno and, in words, which argument was wrong and how. */
export interface SysErr {
  readonly ok: false;
  readonly errno: Errno;
  readonly reason: string;
}

export type SysResult<T> = SysOk<T> | SysErr;

export function sysOk<T>(value: T): SysOk<T> {
  return { ok: true, value };
}

export function sysErr(errno: Errno, reason: string): SysErr {
  return { ok: false, errno, reason };
}

/** An address or length as the kernel prints it. */
export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
