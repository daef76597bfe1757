import { describe, expect, it } from "vitest";
import type { EntryReg } from "../entry";
import { type Level } from "../level";
import type { ProtIndex } from "../prot";
import type { HardwareWalk, TableStore, WalkAccess } from "../walk";
import type { DescribedEntry } from "../describe";
import { ReferenceBackend } from "../reference/backend";
import { conformanceChecks, missingCapabilities } from "./index";

/** Run every applicable check; return the names of those that fail. */
function failures(b: ReferenceBackend): string[] {
  const failed: string[] = [];
  for (const c of conformanceChecks(b, { numRuns: 60 })) {
    if (missingCapabilities(b, c).length > 0) continue;
    try {
      c.run();
    } catch {
      failed.push(c.name);
    }
  }
  return failed;
}

/** Each mutant breaks one rule the kernel relies on; the kit must notice through the named check. */
const MUTANTS: [string, RegExp, () => ReferenceBackend][] = [
  [
    "wrprotect drops dirty",
    /basic: young\/dirty\/write algebra/,
    () =>
      new (class extends ReferenceBackend {
        override wrprotect(v: EntryReg, o: number): void {
          super.wrprotect(v, o);
          this.mkclean(v, o);
        }
      })(),
  ],
  [
    "mkwrite makes the entry dirty",
    /basic: young\/dirty\/write algebra/,
    () =>
      new (class extends ReferenceBackend {
        override mkwrite(v: EntryReg, o: number): void {
          super.mkwrite(v, o);
          this.mkdirty(v, o);
        }
      })(),
  ],
  [
    "pfn loses its top bit",
    /pfn round trip/,
    () =>
      new (class extends ReferenceBackend {
        override pfn(v: EntryReg, o: number): number {
          return super.pfn(v, o) % 2 ** 35;
        }
      })(),
  ],
  [
    "swap offset drops the high word",
    /swap round trip/,
    () =>
      new (class extends ReferenceBackend {
        override swpOffset(v: EntryReg, o: number): number {
          return super.swpOffset(v, o) % 2 ** 16;
        }
      })(),
  ],
  [
    "exclusive also sets soft-dirty",
    /softleaf flags|swap exclusive/,
    () =>
      new (class extends ReferenceBackend {
        override swpMkExclusive(v: EntryReg, o: number): void {
          super.swpMkExclusive(v, o);
          this.swpMkSoftDirty(v, o);
        }
      })(),
  ],
  [
    "describe forgets a bit",
    /describe/,
    () =>
      new (class extends ReferenceBackend {
        override describe(v: EntryReg, o: number, level: Level): DescribedEntry {
          const d = super.describe(v, o, level);
          return { ...d, fields: d.fields.filter((f) => f.name !== "YOUNG") };
        }
      })(),
  ],
  [
    "the MMU ignores write permission",
    /walk: base-page permissions/,
    () =>
      new (class extends ReferenceBackend {
        override walk(store: TableStore, rootPa: number, va: number, access?: WalkAccess): HardwareWalk {
          return super.walk(store, rootPa, va, { ...access, write: false });
        }
      })(),
  ],
  [
    "pfnEntry accepts any pfn",
    /bad input: a pfn/,
    () =>
      new (class extends ReferenceBackend {
        override pfnEntry(out: EntryReg, o: number, level: Level, pfn: number, prot: ProtIndex): void {
          super.pfnEntry(out, o, level, Math.min(pfn, this.geometry.maxPfn), prot);
        }
      })(),
  ],
  [
    "mkinvalid makes a huge PMD non-present",
    /PMD THP/,
    () =>
      new (class extends ReferenceBackend {
        override mkinvalid(v: EntryReg, o: number): void {
          v[o] = 0;
        }
      })(),
  ],
  [
    "pte_advance_pfn skips a page",
    /pte_advance_pfn/,
    () =>
      new (class extends ReferenceBackend {
        override advancePfn(v: EntryReg, o: number, level: Level, nr: number): void {
          super.advancePfn(v, o, level, nr + 1);
        }
      })(),
  ],
  [
    "soft-dirty declared but not kept",
    /soft-dirty/,
    () =>
      new (class extends ReferenceBackend {
        override mksoftDirty(): void {}
      })(),
  ],
  [
    "get_and_clear_full_ptes forgets dirty pages after the first",
    /set_ptes\(nr\)/,
    () =>
      new (class extends ReferenceBackend {
        override getAndClearEntries(ctx: Parameters<ReferenceBackend["getAndClearEntries"]>[0], table: Uint32Array, index: number, level: Level, va: number, nr: number, out: EntryReg, o: number): void {
          this.getAndClear(ctx, table, index, level, va, out, o);
          for (let i = 1; i < nr; i++) this.clearSlot(table, index + i, level);
        }
      })(),
  ],
  [
    "user space larger than the tables translate",
    /geometry: levels/,
    () =>
      new (class extends ReferenceBackend {
        override readonly geometry = { ...new ReferenceBackend().geometry, userVaBits: 49 };
      })(),
  ],
];

describe("conformance kit", () => {
  it("passes the reference backend", () => {
    expect(failures(new ReferenceBackend())).toEqual([]);
  });

  for (const [name, check, make] of MUTANTS) {
    it(`catches a backend where ${name}`, () => {
      const failed = failures(make());
      expect(failed.length, `no check failed for "${name}"`).toBeGreaterThan(0);
      expect(failed.some((f) => check.test(f)), `expected a failure matching ${check}, got: ${failed.join("; ")}`).toBe(true);
    });
  }

  it("names every check uniquely", () => {
    const names = conformanceChecks(new ReferenceBackend()).map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
