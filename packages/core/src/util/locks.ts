import { ModelBug } from "./errors";

/**
 * The kernel's MM locks as objects, taken in the kernel's order (the lock
 * ordering comment at the top of mm/rmap.c). The model runs one thread, so a
 * lock never blocks; what the tracker checks, when checking is on, is that
 * every acquisition respects the order and that nothing is taken twice or
 * released unheld, and it records who holds what so that an interleaving of
 * operations can be driven at these points.
 */
export const LockRank = {
  mmap: 1,
  invalidate: 2,
  folio: 3,
  vma: 4,
  iMmap: 5,
  anonVma: 6,
  pmd: 7,
  pte: 8,
  swap: 9,
  iPages: 10,
  lru: 11,
  zone: 12,
} as const;
export type LockClass = keyof typeof LockRank;

export class Lock {
  /** Readers holding it, or -1 when held for write. */
  holders = 0;
  constructor(
    readonly cls: LockClass,
    readonly name: string,
  ) {}
}

export class LockTracker {
  readonly held: Lock[] = [];
  /** Acquisitions, for statistics. */
  acquisitions = 0;
  constructor(public checking: boolean) {}

  /** Take `lock` (shared when `read`); `nested` allows a second lock of the same class (spin_lock_nested). */
  acquire(lock: Lock, read = false, nested = false): void {
    this.acquisitions++;
    if (this.checking) {
      if (lock.holders < 0 || (!read && lock.holders > 0)) {
        throw new ModelBug(`lock ${lock.name} taken ${read ? "for read" : "for write"} while ${lock.holders < 0 ? "write" : "read"}-held`);
      }
      const rank = LockRank[lock.cls];
      for (const h of this.held) {
        const hr = LockRank[h.cls];
        if (hr > rank || (hr === rank && !nested && h.cls !== "folio")) {
          throw new ModelBug(`lock order: ${lock.cls} ${lock.name} taken while holding ${h.cls} ${h.name}`);
        }
      }
      this.held.push(lock);
    }
    lock.holders = read ? lock.holders + 1 : -1;
  }

  release(lock: Lock): void {
    if (this.checking) {
      const i = this.held.lastIndexOf(lock);
      if (i < 0) throw new ModelBug(`releasing ${lock.cls} ${lock.name}, which is not held`);
      this.held.splice(i, 1);
    }
    lock.holders = lock.holders < 0 ? 0 : lock.holders - 1;
  }

  /** Nothing may stay held between operations. */
  assertNoneHeld(op: string): void {
    if (this.checking && this.held.length > 0) {
      throw new ModelBug(`${op} returned holding ${this.held.map((l) => `${l.cls} ${l.name}`).join(", ")}`);
    }
  }
}
