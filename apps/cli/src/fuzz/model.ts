/** What a name bound by `mmap ... as:` stands for, as far as the generator knows. */
export interface Mapping {
  readonly name: string;
  /** Length it was mapped with. */
  readonly len: number;
  /** anonymous private or shared memory, a regular file, or a shmem file. */
  readonly kind: "anon" | "shared" | "file" | "shmem";
  /** Bytes of it touched so far (an upper bound on what a walk of it meets, capped at len). */
  touched: number;
  /** munmap covered it all: ranges on it fail, which is worth trying now and then. */
  gone: boolean;
}

/** A live process: the names it sees (inherited at fork) and how much it may have mapped. */
export interface Proc {
  readonly pid: number;
  readonly names: Map<string, Mapping>;
  /** Bytes mapped by its mmaps and mremaps, never reduced by partial unmaps: an upper bound on its memory. */
  mapped: number;
}

/**
 * The state a generated sequence must follow to stay valid: live
 * processes and their names (a forked child inherits its parent's), pins
 * and held migrations, and two budgets. Memory: what every live process
 * may have mapped stays well below the machine's memory, so fork never
 * runs out (a failed fork leaves its child pid unusable) and faults rarely
 * do. Checking: the invariant checker walks everything mapped after every
 * operation, so what is touched is bounded to keep runs fast.
 */
export class GenModel {
  readonly procs = new Map<number, Proc>();
  readonly pins: string[] = [];
  readonly holds: string[] = [];
  private nextPid = 2;
  private nextName = 0;
  private nextPin = 0;
  private nextHold = 0;

  constructor(
    /** Bytes all live processes together may map. */
    readonly memoryCap: number,
    /** Bytes all live processes together may touch. */
    readonly touchCap: number,
    /** Bytes the declared files take when fully cached. */
    readonly filesBytes: number,
  ) {
    this.procs.set(1, { pid: 1, names: new Map(), mapped: 0 });
  }

  get mapped(): number {
    let n = this.filesBytes;
    for (const p of this.procs.values()) n += p.mapped;
    return n;
  }

  get touched(): number {
    let n = 0;
    for (const p of this.procs.values()) for (const m of p.names.values()) n += m.touched;
    return n;
  }

  /** Bytes more that may be mapped now. */
  get mapRoom(): number {
    return Math.max(0, this.memoryCap - this.mapped);
  }

  /** Bytes more that may be touched now. */
  get touchRoom(): number {
    return Math.max(0, this.touchCap - this.touched);
  }

  proc(pid: number): Proc {
    const p = this.procs.get(pid);
    if (p === undefined) throw new RangeError(`process ${pid} is not alive`);
    return p;
  }

  newName(): string {
    return `m${this.nextName++}`;
  }

  newPid(): number {
    return this.nextPid++;
  }

  bind(pid: number, m: Mapping): void {
    const p = this.proc(pid);
    p.names.set(m.name, m);
    p.mapped += m.len;
  }

  addMapped(pid: number, bytes: number): void {
    this.proc(pid).mapped += bytes;
  }

  /** Room to fork `pid`: the child may come to hold as much as its parent. */
  canFork(pid: number): boolean {
    const p = this.proc(pid);
    let touched = 0;
    for (const m of p.names.values()) touched += m.touched;
    return p.mapped <= this.mapRoom && touched <= this.touchRoom;
  }

  fork(pid: number): number {
    const p = this.proc(pid);
    const child = this.newPid();
    const names = new Map<string, Mapping>();
    for (const [n, m] of p.names) names.set(n, { ...m });
    this.procs.set(child, { pid: child, names, mapped: p.mapped });
    return child;
  }

  spawn(): number {
    const pid = this.newPid();
    this.procs.set(pid, { pid, names: new Map(), mapped: 0 });
    return pid;
  }

  exit(pid: number): void {
    this.procs.delete(pid);
  }

  /** [start, start + len) of `m` was touched (faulted in). */
  touch(m: Mapping, start: number, len: number): void {
    // A name whose range was unmapped may have been mapped again by MAP_FIXED: count it all the same.
    const end = Math.min(m.len, start + len);
    if (end > start) m.touched = Math.min(m.len, m.touched + (end - start));
  }

  /** [start, start + len) of `m` was unmapped. */
  unmap(pid: number, m: Mapping, start: number, len: number): void {
    if (start === 0 && len >= m.len && !m.gone) {
      m.gone = true;
      m.touched = 0;
      this.proc(pid).mapped -= m.len;
    }
  }

  takePin(): string {
    const name = `p${this.nextPin++}`;
    this.pins.push(name);
    return name;
  }

  takeHold(): string {
    const name = `h${this.nextHold++}`;
    this.holds.push(name);
    return name;
  }

  /** Release the held pin or migration at `i` of `list`. */
  release(list: string[], i: number): string {
    return list.splice(i, 1)[0]!;
  }
}
