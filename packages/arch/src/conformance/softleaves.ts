import fc from "fast-check";
import { expect } from "vitest";
import { entryHex, entryRegs, sameEntry, type EntryReg } from "../entry";
import { type Level, PTE } from "../level";
import {
  MAX_SWAPFILES,
  PTE_MARKER_GUARD,
  PTE_MARKER_POISONED,
  PTE_MARKER_UFFD_WP,
  SWP_DEVICE_EXCLUSIVE,
  SWP_DEVICE_READ,
  SWP_DEVICE_WRITE,
  SWP_HWPOISON,
  SWP_MIGRATION_READ,
  SWP_MIGRATION_READ_EXCLUSIVE,
  SWP_MIGRATION_WRITE,
  SWP_PTE_MARKER,
  SWP_TYPE_COUNT,
  SoftleafType,
  migrationDirty,
  migrationOffset,
  migrationYoung,
  softleafPfn,
  softleafTypeOf,
} from "../softleaf";
import type { Kit } from "./kit";

/** Swap and softleaf families: round trips, exclusive, soft-dirty, migration, device-private, markers. */
export function softleafChecks(k: Kit): void {
  const b = k.b;
  const maxOffset = b.softleaf.maxOffset;
  const arbOffset = fc.bigInt({ min: 1n, max: BigInt(maxOffset) }).map(Number);
  const arbType = fc.integer({ min: 0, max: SWP_TYPE_COUNT - 1 });

  for (const { level, requires } of k.softleafLevels) {
    const L = k.levelLabel(level);
    const mk = (type: number, offset: number): EntryReg => {
      const v = entryRegs(1);
      b.softleafEntry(v, 0, level, type, offset);
      return v;
    };

    k.check(`${L} swap round trip: type and offset at their extremes`, requires, () => {
      for (const type of [0, 1, MAX_SWAPFILES - 1, SWP_TYPE_COUNT - 1]) {
        for (const offset of [0, 1, 2 ** 20 - 1, Math.floor(maxOffset / 2), maxOffset - 1, maxOffset]) {
          if (offset > maxOffset || collidesWithNone(type, offset, maxOffset)) continue;
          roundTrip(k, level, mk(type, offset), type, offset);
        }
      }
    });
    k.check(`${L} swap round trip (property): any type and offset`, requires, () => {
      fc.assert(
        fc.property(arbType, arbOffset, (type, offset) => {
          if (!collidesWithNone(type, offset, maxOffset)) roundTrip(k, level, mk(type, offset), type, offset);
        }),
        k.fc,
      );
    });
    k.check(`${L} swap exclusive: the all-ones entry gains and loses exclusive without changing`, requires, () => {
      const e = mk(MAX_SWAPFILES - 1, maxOffset);
      expect(b.swpExclusive(e, 0, level)).toBe(false);
      const x = k.with(e, level, b.swpMkExclusive);
      expect(b.swpExclusive(x, 0, level), entryHex(x, 0)).toBe(true);
      expect(b.isSoftleaf(x, 0, level)).toBe(true);
      expect(b.swpType(x, 0, level)).toBe(MAX_SWAPFILES - 1);
      expect(b.swpOffset(x, 0, level)).toBe(maxOffset);
      if (b.capabilities.softDirty) expect(b.swpSoftDirty(x, 0, level)).toBe(false);
      if (b.capabilities.uffdWp) expect(b.swpUffdWp(x, 0, level)).toBe(false);
      const c = k.with(x, level, b.swpClearExclusive);
      expect(b.swpExclusive(c, 0, level)).toBe(false);
      expect(sameEntry(c, 0, e, 0), "clearing exclusive restores the entry").toBe(true);
    });
    k.check(`${L} softleaf flags: exclusive, soft-dirty and uffd-wp are independent of each other and of the entry`, requires, () => {
      const flags = flagOps(k, level);
      fc.assert(
        fc.property(arbType, arbOffset, fc.subarray(flags.map((_, i) => i)), fc.subarray(flags.map((_, i) => i)), (type, offset, on, off) => {
          if (collidesWithNone(type, offset, maxOffset)) return;
          const v = mk(type, offset);
          for (const i of on) flags[i]!.set(v);
          for (const i of off) flags[i]!.clear(v);
          flags.forEach((f, i) => {
            expect(f.test(v), `${f.name} (set ${on}, cleared ${off})`).toBe(on.includes(i) && !off.includes(i));
          });
          expect(b.swpType(v, 0, level)).toBe(type);
          expect(b.swpOffset(v, 0, level)).toBe(offset);
          expect(b.isSoftleaf(v, 0, level)).toBe(true);
          // Rebuilding from type and offset and re-applying the flags gives the same bits.
          const r = mk(b.swpType(v, 0, level), b.swpOffset(v, 0, level));
          flags.forEach((f) => f.test(v) && f.set(r));
          expect(sameEntry(r, 0, v, 0), `rebuild ${entryHex(r, 0)} vs ${entryHex(v, 0)}`).toBe(true);
        }),
        k.fc,
      );
    });
    k.check(`${L} migration entries: read, read-exclusive and write carry the pfn (and young/dirty where supported)`, requires, () => {
      const f = b.softleaf;
      const pfns = [0, 1, k.pfnAt(PTE), k.g.maxPfn];
      for (const [type, kind] of [
        [SWP_MIGRATION_READ, SoftleafType.MIGRATION_READ],
        [SWP_MIGRATION_READ_EXCLUSIVE, SoftleafType.MIGRATION_READ_EXCLUSIVE],
        [SWP_MIGRATION_WRITE, SoftleafType.MIGRATION_WRITE],
      ] as const) {
        for (const pfn of pfns) {
          for (const young of [false, true]) {
            for (const dirty of [false, true]) {
              const e = mk(type, migrationOffset(f, pfn, young, dirty));
              const off = b.swpOffset(e, 0, level);
              const what = `type ${type} pfn ${pfn} young ${young} dirty ${dirty} ${entryHex(e, 0)}`;
              expect(softleafTypeOf(b.swpType(e, 0, level)), what).toBe(kind);
              expect(softleafPfn(f, off), what).toBe(pfn);
              expect(migrationYoung(f, off), what).toBe(young && f.migrationYoungDirty);
              expect(migrationDirty(f, off), what).toBe(dirty && f.migrationYoungDirty);
              expect(b.present(e, 0, level), what).toBe(false);
              expect(b.none(e, 0, level), what).toBe(false);
              expect(b.table(e, 0, level), what).toBe(false);
              // make_readable_migration_entry(swp_offset(writable)) keeps the pfn.
              const r = mk(SWP_MIGRATION_READ, off);
              expect(softleafPfn(f, b.swpOffset(r, 0, level))).toBe(pfn);
              expect(softleafTypeOf(b.swpType(r, 0, level))).toBe(SoftleafType.MIGRATION_READ);
            }
          }
        }
      }
    });
    k.check(`${L} migration entries (property): any pfn up to the highest the arch addresses`, requires, () => {
      const f = b.softleaf;
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: BigInt(k.g.maxPfn) }).map(Number), fc.boolean(), fc.boolean(), (pfn, young, dirty) => {
          const e = mk(SWP_MIGRATION_WRITE, migrationOffset(f, pfn, young, dirty));
          expect(softleafPfn(f, b.swpOffset(e, 0, level))).toBe(pfn);
          expect(migrationYoung(f, b.swpOffset(e, 0, level))).toBe(young && f.migrationYoungDirty);
          expect(migrationDirty(f, b.swpOffset(e, 0, level))).toBe(dirty && f.migrationYoungDirty);
        }),
        k.fc,
      );
    });
    k.check(`${L} device-private read/write and device-exclusive entries carry the pfn`, requires, () => {
      for (const [type, kind] of [
        [SWP_DEVICE_READ, SoftleafType.DEVICE_PRIVATE_READ],
        [SWP_DEVICE_WRITE, SoftleafType.DEVICE_PRIVATE_WRITE],
        [SWP_DEVICE_EXCLUSIVE, SoftleafType.DEVICE_EXCLUSIVE],
      ] as const) {
        for (const pfn of [0, 1, k.pfnAt(PTE), k.g.maxPfn]) {
          const e = mk(type, pfn);
          expect(softleafTypeOf(b.swpType(e, 0, level))).toBe(kind);
          expect(softleafPfn(b.softleaf, b.swpOffset(e, 0, level))).toBe(pfn);
          const x = k.with(e, level, b.swpMkExclusive);
          expect(softleafPfn(b.softleaf, b.swpOffset(x, 0, level))).toBe(pfn);
        }
      }
    });
  }

  const L = k.levelLabel(PTE);
  k.check(`${L} hwpoison and marker entries round trip`, [], () => {
    const hw = entryRegs(1);
    b.softleafEntry(hw, 0, PTE, SWP_HWPOISON, k.g.maxPfn);
    expect(softleafTypeOf(b.swpType(hw, 0, PTE))).toBe(SoftleafType.HWPOISON);
    expect(b.swpOffset(hw, 0, PTE)).toBe(k.g.maxPfn);
    for (const marker of [PTE_MARKER_UFFD_WP, PTE_MARKER_POISONED, PTE_MARKER_GUARD, PTE_MARKER_GUARD | PTE_MARKER_UFFD_WP]) {
      const m = entryRegs(1);
      b.softleafEntry(m, 0, PTE, SWP_PTE_MARKER, marker);
      expect(softleafTypeOf(b.swpType(m, 0, PTE))).toBe(SoftleafType.MARKER);
      expect(b.swpOffset(m, 0, PTE)).toBe(marker);
    }
  });
  k.check("PTE swap soft-dirty: pte_swp_mksoft_dirty / pte_swp_clear_soft_dirty on a swap entry", ["softDirty"], () => {
    swapFlag(k, PTE, b.swpMkSoftDirty, b.swpClearSoftDirty, b.swpSoftDirty);
  });
  k.check("PMD swap soft-dirty: on a PMD migration entry", ["softDirty", "pmdSoftleaf"], () => {
    swapFlag(k, 1, b.swpMkSoftDirty, b.swpClearSoftDirty, b.swpSoftDirty);
  });
  k.check("PTE swap uffd-wp: pte_swp_mkuffd_wp / pte_swp_clear_uffd_wp on a swap entry", ["uffdWp"], () => {
    swapFlag(k, PTE, b.swpMkUffdWp, b.swpClearUffdWp, b.swpUffdWp);
  });
}

/**
 * swp_entry(0, 0) encodes as all zeros where the offset is stored as is, and
 * swp_entry(0, max) does where it is stored inverted (x86): both read as
 * pte_none. Neither reaches a page table (slot 0 is a swap device's header,
 * and no swap device spans the whole offset space), so the kit leaves them out.
 */
function collidesWithNone(type: number, offset: number, maxOffset: number): boolean {
  return type === 0 && (offset === 0 || offset === maxOffset);
}

function roundTrip(k: Kit, level: Level, v: EntryReg, type: number, offset: number): void {
  const b = k.b;
  const what = `${k.levelLabel(level)} swap type ${type} offset ${offset} ${entryHex(v, 0)}`;
  expect(b.isSoftleaf(v, 0, level), what).toBe(true);
  expect(b.present(v, 0, level), what).toBe(false);
  expect(b.none(v, 0, level), what).toBe(false);
  expect(b.swpType(v, 0, level), what).toBe(type);
  expect(b.swpOffset(v, 0, level), what).toBe(offset);
  expect(b.swpExclusive(v, 0, level), what).toBe(false);
  if (b.capabilities.softDirty) expect(b.swpSoftDirty(v, 0, level), what).toBe(false);
  if (b.capabilities.uffdWp) expect(b.swpUffdWp(v, 0, level), what).toBe(false);
  // Through table storage and back, bit for bit.
  const t = k.g.tables.find((x) => x.level === level);
  if (t !== undefined) {
    const table = new Uint32Array(t.tableWords);
    const back = entryRegs(1);
    b.writeEntry(table, t.entries - 1, level, v, 0);
    b.readEntry(table, t.entries - 1, level, back, 0);
    expect(sameEntry(back, 0, v, 0), `${what} via table`).toBe(true);
  }
}

interface FlagOp {
  readonly name: string;
  set(v: EntryReg): void;
  clear(v: EntryReg): void;
  test(v: EntryReg): boolean;
}

function flagOps(k: Kit, level: Level): FlagOp[] {
  const b = k.b;
  const ops: FlagOp[] = [
    { name: "exclusive", set: (v) => b.swpMkExclusive(v, 0, level), clear: (v) => b.swpClearExclusive(v, 0, level), test: (v) => b.swpExclusive(v, 0, level) },
  ];
  if (b.capabilities.softDirty) {
    ops.push({ name: "soft-dirty", set: (v) => b.swpMkSoftDirty(v, 0, level), clear: (v) => b.swpClearSoftDirty(v, 0, level), test: (v) => b.swpSoftDirty(v, 0, level) });
  }
  if (b.capabilities.uffdWp && level === PTE) {
    ops.push({ name: "uffd-wp", set: (v) => b.swpMkUffdWp(v, 0, level), clear: (v) => b.swpClearUffdWp(v, 0, level), test: (v) => b.swpUffdWp(v, 0, level) });
  }
  return ops;
}

type Op = (v: EntryReg, o: number, level: Level) => void;
type Pred = (v: EntryReg, o: number, level: Level) => boolean;

function swapFlag(k: Kit, level: Level, mk: Op, clear: Op, test: Pred): void {
  const b = k.b;
  const e = entryRegs(1);
  if (level === PTE) b.softleafEntry(e, 0, level, 3, 0x12345);
  else b.softleafEntry(e, 0, level, SWP_MIGRATION_WRITE, migrationOffset(b.softleaf, k.pfnAt(level), true, true));
  const s = k.with(e, level, mk);
  expect(test.call(b, s, 0, level), entryHex(s, 0)).toBe(true);
  expect(b.isSoftleaf(s, 0, level)).toBe(true);
  expect(b.swpType(s, 0, level)).toBe(b.swpType(e, 0, level));
  expect(b.swpOffset(s, 0, level)).toBe(b.swpOffset(e, 0, level));
  const c = k.with(s, level, clear);
  expect(test.call(b, c, 0, level)).toBe(false);
  expect(sameEntry(c, 0, e, 0)).toBe(true);
}
