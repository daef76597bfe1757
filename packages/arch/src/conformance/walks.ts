import { expect } from "vitest";
import type { HugeSize } from "../backend";
import { allocRoot, mapHuge, mapLeaf, mapPtes } from "../chain";
import { entryRegs } from "../entry";
import { type Level, PTE, PMD, PUD } from "../level";
import { PROT_COUNT, VM_EXEC, VM_NONE, VM_READ, VM_SHARED, VM_WRITE, type ProtIndex } from "../prot";
import fc from "fast-check";
import { TableMemory, Translation, type HardwareWalk, type WalkAccess } from "../walk";
import type { Kit } from "./kit";

const RW_SHARED = VM_READ | VM_WRITE | VM_SHARED;

/** Hardware walks of built table chains: a base page, PMD and PUD leaves, contiguous runs, every huge size. */
export function walkChecks(k: Kit): void {
  const b = k.b;
  const g = k.g;

  const leafWalk = (level: Level, offsetInto: (size: number) => number[]) => {
    const mem = new TableMemory();
    const root = allocRoot(b, mem);
    const size = 2 ** g.levels[level]!.shift;
    const va = k.userVa(size);
    const pfn = k.pfnAt(level);
    mapLeaf(b, mem, root, va, level, pfn, RW_SHARED, { young: true, dirty: true });
    for (const off of offsetInto(size)) {
      const w = b.walk(mem, root, va + off, { write: true });
      const t = expectOk(w, `${k.levelLabel(level)} leaf at va 0x${(va + off).toString(16)}`);
      expect(t.pa).toBe(pfn * g.pageSize + off);
      expect(t.level).toBe(level);
      expect(t.pageSize).toBe(size);
      expect(t.tlbSize).toBe(size);
      expect(t.read && t.write && t.user).toBe(true);
      expect(t.young && t.dirty).toBe(true);
      expect(t.setsYoung || t.setsDirty).toBe(false);
      const levels = g.tables.filter((x) => x.level >= level).map((x) => x.level);
      expect(t.steps.map((s) => s.level)).toEqual(levels);
    }
  };

  k.check("walk: a 4K (base) page translates byte for byte with its permissions", [], () => {
    leafWalk(PTE, (size) => [0, 0x123 % size, size - 1]);
  });
  k.check("walk: base-page permissions per protection (read-only, exec, PROT_NONE, old and clean)", [], () => {
    const check = (prot: ProtIndex, access: WalkAccess, ok: boolean, what: string) => {
      const mem = new TableMemory();
      const root = allocRoot(b, mem);
      const va = k.userVa(g.pageSize, 5);
      mapLeaf(b, mem, root, va, PTE, k.pfnAt(PTE), prot, { young: true });
      const w = b.walk(mem, root, va + 8, access);
      expect(w.ok, `${what}: ${w.ok ? "translated" : w.reason}`).toBe(ok);
      if (!ok && !w.ok) expect(["permission", "translation"]).toContain(w.fault);
    };
    check(VM_READ, {}, true, "read of a read-only page");
    check(VM_READ, { write: true }, false, "write to a read-only page");
    check(VM_READ | VM_WRITE, { write: true }, false, "write to a private writable page before COW (PAGE_COPY)");
    check(VM_READ | VM_EXEC, { exec: true }, true, "exec of an exec page");
    check(VM_READ, { exec: true }, false, "exec of a non-exec page");
    check(VM_NONE, {}, false, "read of a PROT_NONE page");
    // Old and clean: the hardware (or its miss handler) would set young and dirty.
    const mem = new TableMemory();
    const root = allocRoot(b, mem);
    const va = k.userVa(g.pageSize, 6);
    mapLeaf(b, mem, root, va, PTE, k.pfnAt(PTE), RW_SHARED);
    const t = expectOk(b.walk(mem, root, va, { write: true }), "write to an old clean writable page");
    expect(t.dirty, "clean before the write").toBe(false);
    expect(t.setsDirty, "the write sets dirty").toBe(true);
  });
  k.check("walk: an unmapped address faults at the level where the chain stops", [], () => {
    const mem = new TableMemory();
    const root = allocRoot(b, mem);
    const w = b.walk(mem, root, k.userVa(g.pageSize, 7));
    expect(w.ok).toBe(false);
    if (!w.ok) {
      expect(w.fault).toBe("translation");
      expect(w.level).toBe(g.tables[0]!.level);
      expect(w.steps.length).toBe(1);
    }
  });
  k.check("walk: a PMD leaf", ["pmdThp"], () => {
    leafWalk(PMD, (size) => [0, size / 2 + 0x40, size - 1]);
  });
  k.check("walk: a PUD leaf", ["pudLeaf"], () => {
    leafWalk(PUD, (size) => [0, size / 2 + 0x40, size - 1]);
  });
  k.check("walk: a contiguous run of PTEs counts once in the TLB", ["contPte"], () => {
    const t = g.tables[g.tables.length - 1]!;
    const n = t.contEntries;
    const size = n * g.pageSize;
    const mem = new TableMemory();
    const root = allocRoot(b, mem);
    const va = k.userVa(size);
    const pfn = Math.floor(k.pfnAt(PMD) / n) * n;
    mapPtes(b, mem, root, va, pfn, n, RW_SHARED, { young: true });
    for (const off of [0, size / 2 + 4, size - 1]) {
      const w = expectOk(b.walk(mem, root, va + off), `cont run at +0x${off.toString(16)}`);
      expect(w.pa).toBe(pfn * g.pageSize + off);
      expect(w.pageSize).toBe(g.pageSize);
      expect(w.tlbSize).toBe(size);
    }
  });

  for (const size of b.hugeSizes) {
    const name = `walk: a ${sizeName(size.shift)} huge page (${k.levelLabel(size.level)} x${size.ncontig}${size.cont ? " cont" : ""}${size.viaPteTables ? " via PTE tables" : ""})`;
    const requires = size.level === PMD && !size.viaPteTables ? (["pmdThp"] as const) : size.level === PUD ? (["pudLeaf"] as const) : ([] as const);
    k.check(name, requires, () => hugeWalk(k, size));
  }
}

function hugeWalk(k: Kit, size: HugeSize): void {
  const b = k.b;
  const g = k.g;
  const bytes = 2 ** size.shift;
  const mem = new TableMemory();
  const root = allocRoot(b, mem);
  const va = k.userVa(bytes);
  const pages = bytes / g.pageSize;
  const pfn = Math.floor(k.pfnAt(PTE) / pages) * pages;
  const slot = mapHuge(b, mem, root, va, pfn, RW_SHARED, size, { young: true });
  for (const off of [0, g.pageSize, bytes / 2 + 0x10, bytes - 1]) {
    const w = expectOk(b.walk(mem, root, va + off), `${sizeName(size.shift)} at +0x${off.toString(16)}`);
    expect(w.pa, `pa at +0x${off.toString(16)}`).toBe(pfn * g.pageSize + off);
    expect(w.tlbSize).toBe(bytes);
    expect(w.write && w.read).toBe(true);
  }
  const e = entryRegs(1);
  b.getHugeEntry(mem, slot.table, slot.index, va, e, 0, size);
  expect(b.pfn(e, 0, size.level)).toBe(pfn);
  expect(b.young(e, 0, size.level)).toBe(true);
  expect(b.write(e, 0, size.level)).toBe(true);
  const ctx = { user: true, folioCovers: () => true, flushTlbRange: () => {} };
  b.wrprotectHugeEntry(ctx, mem, slot.table, slot.index, va, size);
  b.getHugeEntry(mem, slot.table, slot.index, va, e, 0, size);
  expect(b.write(e, 0, size.level), "huge_ptep_set_wrprotect").toBe(false);
  expect(b.walk(mem, root, va + bytes - 1, { write: true }).ok).toBe(false);
  const want = Uint32Array.from(e);
  b.mkwrite(want, 0, size.level);
  b.mkdirty(want, 0, size.level);
  expect(b.setHugeAccessFlags(ctx, mem, slot.table, slot.index, va, want, 0, true, size)).toBe(true);
  b.getHugeEntry(mem, slot.table, slot.index, va, e, 0, size);
  expect(b.write(e, 0, size.level) && b.dirty(e, 0, size.level), "huge_ptep_set_access_flags").toBe(true);
  expectOk(b.walk(mem, root, va + bytes - 1, { write: true }), "write after set_access_flags");
  b.getAndClearHugeEntry(ctx, mem, slot.table, slot.index, va, e, 0, size);
  expect(b.pfn(e, 0, size.level)).toBe(pfn);
  for (const off of [0, bytes - 1]) expect(b.walk(mem, root, va + off).ok, "cleared").toBe(false);
}

export function sizeName(shift: number): string {
  const units = ["", "K", "M", "G", "T"];
  let i = Math.floor(shift / 10);
  if (i >= units.length) i = units.length - 1;
  return `${2 ** (shift - 10 * i)}${units[i]}`;
}

function expectOk(w: HardwareWalk, what: string) {
  if (!w.ok) expect.fail(`${what}: ${w.fault} fault at ${w.level}: ${w.reason}`);
  return w as Extract<HardwareWalk, { ok: true }>;
}

/** translate() against walk(): the same answer, field for field, at mapped, unmapped and boundary addresses, for every access. */
export function translateChecks(k: Kit): void {
  const b = k.b;
  const g = k.g;
  const caps = b.capabilities;
  type Kind = { kind: "ptes"; nr: number } | { kind: "leaf"; level: Level } | { kind: "huge"; size: HugeSize };
  const kinds: Kind[] = [{ kind: "ptes", nr: 1 }];
  const last = g.tables[g.tables.length - 1]!;
  kinds.push({ kind: "ptes", nr: Math.min(last.entries, Math.max(2, last.contEntries * 2)) });
  if (caps.pmdThp) kinds.push({ kind: "leaf", level: PMD });
  if (caps.pudLeaf) kinds.push({ kind: "leaf", level: PUD });
  for (const size of b.hugeSizes) {
    const needs = size.level === PMD && !size.viaPteTables ? caps.pmdThp : size.level === PUD ? caps.pudLeaf : true;
    if (needs) kinds.push({ kind: "huge", size });
  }
  const bytesOf = (x: Kind): number => (x.kind === "ptes" ? x.nr * g.pageSize : x.kind === "leaf" ? 2 ** g.levels[x.level]!.shift : 2 ** x.size.shift);
  const region = Math.max(...kinds.map(bytesOf));
  const mapping = fc.record({
    kind: fc.nat(kinds.length - 1),
    prot: fc.integer({ min: 0, max: PROT_COUNT - 1 }),
    young: fc.boolean(),
    dirty: fc.boolean(),
  });
  const probe = fc.record({ at: fc.nat(7), frac: fc.double({ min: 0, max: 1, noNaN: true }), write: fc.boolean(), exec: fc.boolean(), user: fc.boolean() });

  k.check("walk: translate() agrees with the explained walk on every address and access", [], () => {
    fc.assert(
      fc.property(fc.array(mapping, { minLength: 1, maxLength: 4 }), fc.array(probe, { minLength: 1, maxLength: 24 }), (maps, probes) => {
        const mem = new TableMemory();
        const root = allocRoot(b, mem);
        const spans: { va: number; bytes: number }[] = [];
        maps.forEach((m, i) => {
          const x = kinds[m.kind]!;
          const va = k.userVa(region, 3 + i);
          const bytes = bytesOf(x);
          const opts = { young: m.young, dirty: m.dirty };
          if (x.kind === "ptes") mapPtes(b, mem, root, va, Math.floor(k.pfnAt(PMD) / x.nr) * x.nr, x.nr, m.prot as ProtIndex, opts);
          else if (x.kind === "leaf") mapLeaf(b, mem, root, va, x.level, k.pfnAt(x.level), m.prot as ProtIndex, opts);
          else mapHuge(b, mem, root, va, Math.floor(k.pfnAt(PTE) / (bytes / g.pageSize)) * (bytes / g.pageSize), m.prot as ProtIndex, x.size, opts);
          spans.push({ va, bytes });
        });
        const t = new Translation();
        for (const p of probes) {
          const s = spans[p.at % spans.length]!;
          // Inside the mapping, or (at >= 4) in the unmapped rest of its region.
          const va = p.at < 4 ? s.va + Math.floor(p.frac * (s.bytes - 1)) : s.va + s.bytes + Math.floor(p.frac * (region - s.bytes - 1));
          const access: WalkAccess = { write: p.write, exec: p.exec, user: p.user };
          const w = b.walk(mem, root, va, access);
          const ok = b.translate(mem, root, va, access, t);
          const at = `0x${va.toString(16)} ${JSON.stringify(access)}`;
          expect(ok, at).toBe(w.ok);
          expect(t.ok, at).toBe(w.ok);
          expect(t.va, at).toBe(va);
          expect(t.level, at).toBe(w.level);
          if (!w.ok) {
            expect(t.fault, at).toBe(w.fault);
            continue;
          }
          const { steps: _steps, ...want } = w;
          expect({ ok: t.ok, va: t.va, pa: t.pa, level: t.level, pageSize: t.pageSize, tlbSize: t.tlbSize, read: t.read, write: t.write, exec: t.exec, user: t.user, young: t.young, dirty: t.dirty, setsYoung: t.setsYoung, setsDirty: t.setsDirty }, at).toEqual(want);
          expect(t.tlbVa, at).toBe(va - (va % w.tlbSize));
          expect(t.tlbPa, at).toBe(w.pa - (va % w.tlbSize));
        }
      }),
      k.fc,
    );
  });
}
