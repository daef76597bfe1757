import type { ArchBackend } from "../backend";
import type { CapabilityName } from "../capabilities";
import { entryRegs, type EntryReg } from "../entry";
import { tableFor } from "../geometry";
import { type Level, PTE, PMD, PUD, levelName } from "../level";
import type { ProtIndex } from "../prot";

/** One conformance check: a name, the capabilities it needs, and its body. */
export interface ConformanceCheck {
  /** Family / check name, stable across versions (used in skip reports). */
  readonly name: string;
  /** Capabilities that must all be declared for the check to run. */
  readonly requires: readonly CapabilityName[];
  readonly run: () => void;
}

export interface ConformanceOptions {
  /** Seed for every property-based check. */
  readonly seed?: number;
  /** Runs per property. */
  readonly numRuns?: number;
  /**
   * Checks the backend is known to fail because it reproduces the kernel's own
   * behaviour where that behaviour breaks the rule the check holds (check
   * name -> why). They run as expected failures: the suite turns red if one
   * starts passing, so the entry cannot outlive the deviation.
   */
  readonly expectedFailures?: Readonly<Record<string, string>>;
}

/** What every family gets: the backend, its geometry and the kit's helpers. */
export class Kit {
  readonly seed: number;
  readonly numRuns: number;
  readonly checks: ConformanceCheck[] = [];

  constructor(
    readonly b: ArchBackend,
    options: ConformanceOptions,
  ) {
    this.seed = options.seed ?? 0x5eed;
    this.numRuns = options.numRuns ?? 200;
  }

  get g() {
    return this.b.geometry;
  }

  check(name: string, requires: readonly CapabilityName[], run: () => void): void {
    this.checks.push({ name, requires, run });
  }

  /** fast-check parameters: seeded, so every run checks the same cases. */
  get fc() {
    return { seed: this.seed, numRuns: this.numRuns };
  }

  /** Levels that hold leaves, with the capability each needs: PTE always, PMD with THP, PUD with PUD leaves. */
  get leafLevels(): readonly { level: Level; requires: readonly CapabilityName[] }[] {
    return [
      { level: PTE, requires: [] },
      { level: PMD, requires: ["pmdThp"] },
      { level: PUD, requires: ["pudLeaf"] },
    ];
  }

  /** Levels that hold softleaves: PTE always, PMD with THP migration. */
  get softleafLevels(): readonly { level: Level; requires: readonly CapabilityName[] }[] {
    return [
      { level: PTE, requires: [] },
      { level: PMD, requires: ["pmdSoftleaf"] },
    ];
  }

  /** Base pages one entry at `level` maps. */
  pagesAt(level: Level): number {
    return 2 ** (this.g.levels[level]!.shift - this.g.pageShift);
  }

  /** A fixed pfn aligned for a leaf at `level`, well inside the addressable range. */
  pfnAt(level: Level): number {
    const pages = this.pagesAt(level);
    const p = Math.floor((this.g.maxPfn * 0.37) / pages) * pages;
    return p > 0 ? p : 0;
  }

  /** The highest pfn a leaf at `level` can start at. */
  maxPfnAt(level: Level): number {
    const pages = this.pagesAt(level);
    return Math.floor((this.g.maxPfn + 1) / pages - 1) * pages;
  }

  /** A user virtual address aligned to `size`, the `k`-th such slot from the bottom of user space. */
  userVa(size: number, k = 3): number {
    const va = size * k;
    if (va + size > 2 ** this.g.userVaBits) throw new RangeError(`no room for a ${size}-byte mapping in ${this.b.id} user space`);
    return va;
  }

  levelLabel(level: Level): string {
    return levelName(level).toUpperCase();
  }

  /** A register holding a leaf at `level` (pfnEntry + mkhuge). */
  leaf(level: Level, pfn: number, prot: ProtIndex): EntryReg {
    const v = entryRegs(1);
    this.b.pfnEntry(v, 0, level, pfn, prot);
    this.b.mkhuge(v, 0, level);
    return v;
  }

  copy(v: EntryReg): EntryReg {
    return Uint32Array.from(v);
  }

  /** Apply a modifier to a copy and return it: mirrors the kernel's value-returning helpers. */
  with(v: EntryReg, level: Level, ...ops: ((v: EntryReg, o: number, level: Level) => void)[]): EntryReg {
    const c = this.copy(v);
    for (const op of ops) op.call(this.b, c, 0, level);
    return c;
  }

  hasTable(level: Level): boolean {
    return tableFor(this.g, level) !== undefined;
  }
}
