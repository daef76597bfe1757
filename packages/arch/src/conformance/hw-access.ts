import { expect } from "vitest";
import { allocRoot, mapLeaf } from "../chain";
import { entryRegs } from "../entry";
import { type Level, PMD, PUD } from "../level";
import type { ProtIndex } from "../prot";
import { TableMemory } from "../walk";
import type { Kit } from "./kit";

/**
 * hwAccess() is the hot path's MMU; walk() is its reference. For every
 * protection, young/dirty state and access, the two agree on whether the
 * access faults, and a permitted access leaves exactly what the walk says
 * the hardware sets. The entries the kernel calls present but the MMU does
 * not use (PROT_NONE, pmd_mkinvalid/pudp_invalidate) are among the cases.
 */
export function hwAccessChecks(k: Kit): void {
  for (const { level, requires } of k.leafLevels) {
    k.check(`hwAccess: agrees with walk at the ${k.levelLabel(level)} level for every protection and access`, requires, () => {
      for (let prot = 0; prot < 16; prot++) {
        for (const state of [0, 1, 2, 3]) agree(k, level, prot as ProtIndex, (state & 1) !== 0, (state & 2) !== 0, false);
      }
    });
  }
  for (const { level, requires } of k.leafLevels.filter((l) => l.level === PMD || l.level === PUD)) {
    k.check(`hwAccess: an invalidated ${k.levelLabel(level)} leaf (${level === PMD ? "pmd" : "pud"}_mkinvalid) faults as the walk does`, requires, () => {
      for (let prot = 0; prot < 16; prot++) agree(k, level, prot as ProtIndex, true, true, true);
    });
  }
}

function agree(k: Kit, level: Level, prot: ProtIndex, young: boolean, dirty: boolean, invalid: boolean): void {
  const b = k.b;
  const size = 2 ** k.g.levels[level]!.shift;
  for (const write of [false, true]) {
    const mem = new TableMemory();
    const root = allocRoot(b, mem);
    const va = k.userVa(size, 4);
    const slot = mapLeaf(b, mem, root, va, level, k.pfnAt(level), prot, { young, dirty });
    const before = entryRegs(1);
    b.readEntry(slot.table, slot.index, level, before, 0);
    if (invalid) {
      b.mkinvalid(before, 0, level);
      b.writeEntry(slot.table, slot.index, level, before, 0);
    }
    const what = `${k.levelLabel(level)} prot ${prot}${young ? " young" : " old"}${dirty ? " dirty" : " clean"}${invalid ? " invalidated" : ""}, ${write ? "write" : "read"}`;
    const hw = b.walk(mem, root, va, { write });
    const ok = b.hwAccess(slot.table, slot.index, level, write);
    expect(ok, `${what}: hwAccess ${ok ? "permits" : "faults"}, walk ${hw.ok ? "permits" : `faults (${hw.reason})`}`).toBe(hw.ok);
    const after = entryRegs(1);
    b.readEntry(slot.table, slot.index, level, after, 0);
    if (!ok) {
      expect([after[0], after[1]], `${what}: a faulting access changes nothing`).toEqual([before[0], before[1]]);
      continue;
    }
    const want = Uint32Array.from(before);
    if (hw.ok && hw.setsYoung) b.mkyoung(want, 0, level);
    if (hw.ok && hw.setsDirty) b.mkdirty(want, 0, level);
    expect(b.young(after, 0, level), `${what}: young after the access`).toBe(true);
    if (write) expect(b.dirty(after, 0, level), `${what}: dirty after a write`).toBe(true);
    expect([after[0], after[1]], `${what}: the hardware sets what the walk said it would`).toEqual([want[0], want[1]]);
  }
}
