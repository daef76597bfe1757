import fc from "fast-check";
import { expect } from "vitest";
import { entryHex, entryRegs, sameEntry } from "../entry";
import { PTE, PMD, PUD } from "../level";
import { PROT_COUNT, VM_EXEC, VM_READ, VM_WRITE, protIsSharedWritable, protString } from "../prot";
import type { Kit } from "./kit";

/** pfn round trips up to the highest pfn, through protections, mkinvalid, advance and table storage. */
export function pfnChecks(k: Kit): void {
  const b = k.b;
  const arbProt = fc.integer({ min: 0, max: PROT_COUNT - 1 });

  for (const { level, requires } of k.leafLevels) {
    const L = k.levelLabel(level);
    const pages = k.pagesAt(level);
    const maxStart = k.maxPfnAt(level);
    const arbPfn = fc.bigInt({ min: 0n, max: BigInt(maxStart / pages) }).map((n) => Number(n) * pages);

    k.check(`${L} pfn round trip at the extremes for all 16 protections`, requires, () => {
      for (const pfn of [0, pages, k.pfnAt(level), maxStart]) {
        for (let prot = 0; prot < PROT_COUNT; prot++) {
          const p = k.leaf(level, pfn, prot);
          expect(b.pfn(p, 0, level), `${L} pfn 0x${pfn.toString(16)} ${protString(prot)} ${entryHex(p, 0)}`).toBe(pfn);
        }
      }
    });
    k.check(`${L} pfn round trip (property): any pfn, any protection, through pte_modify to any other`, requires, () => {
      fc.assert(
        fc.property(arbPfn, arbProt, arbProt, fc.boolean(), fc.boolean(), (pfn, from, to, young, dirty) => {
          const p = k.leaf(level, pfn, from);
          if (young) b.mkyoung(p, 0, level);
          else b.mkold(p, 0, level);
          if (dirty) b.mkdirty(p, 0, level);
          expect(b.pfn(p, 0, level)).toBe(pfn);
          b.modify(p, 0, level, to);
          const what = `${L} ${protString(from)} -> ${protString(to)} ${entryHex(p, 0)}`;
          expect(b.pfn(p, 0, level), what).toBe(pfn);
          // A PROT_NONE PUD is not present on arches without pud_protnone (x86 pud_present tests only P).
          if (level !== PUD || (to & (VM_READ | VM_WRITE | VM_EXEC)) !== 0) expect(b.present(p, 0, level), what).toBe(true);
          expect(b.write(p, 0, level), what).toBe(protIsSharedWritable(to));
          // pte_modify keeps young; where the arch's PAGE_* carry the access bit through _PAGE_CHG_MASK (8xx) it may also set it.
          if (young) expect(b.young(p, 0, level), `${what} young kept`).toBe(true);
          expect(b.dirty(p, 0, level), `${what} dirty kept`).toBe(dirty);
          // pte_modify to the same protection as a fresh entry gives the fresh entry's permissions.
          const fresh = k.leaf(level, pfn, to);
          expect(b.exec(p, 0, level), what).toBe(b.exec(fresh, 0, level));
          expect(b.protnone(p, 0, level), what).toBe(b.protnone(fresh, 0, level));
        }),
        k.fc,
      );
    });
    k.check(`${L} entries survive table storage bit for bit`, requires, () => {
      const t = k.g.tables.find((x) => x.level === level);
      if (t === undefined) throw new Error(`${b.id} declares ${L} leaves but has no ${L} table`);
      const table = new Uint32Array(t.tableWords);
      const back = entryRegs(1);
      fc.assert(
        fc.property(arbPfn, arbProt, fc.integer({ min: 0, max: t.entries - 1 }), (pfn, prot, index) => {
          const p = k.leaf(level, pfn, prot);
          b.mkdirty(p, 0, level);
          b.writeEntry(table, index, level, p, 0);
          b.readEntry(table, index, level, back, 0);
          expect(sameEntry(back, 0, p, 0), `${entryHex(back, 0)} vs ${entryHex(p, 0)}`).toBe(true);
        }),
        k.fc,
      );
    });
  }

  k.check("PTE pte_advance_pfn: moves the pfn by nr pages for every protection", [], () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: BigInt(k.g.maxPfn - 64) }).map(Number), arbProt, fc.integer({ min: 1, max: 64 }), (pfn, prot, nr) => {
        const p = k.leaf(PTE, pfn, prot);
        b.advancePfn(p, 0, PTE, nr);
        expect(b.pfn(p, 0, PTE), `${protString(prot)} ${entryHex(p, 0)}`).toBe(pfn + nr);
        const fresh = k.leaf(PTE, pfn + nr, prot);
        expect(sameEntry(p, 0, fresh, 0), `advanced ${entryHex(p, 0)} vs fresh ${entryHex(fresh, 0)}`).toBe(true);
      }),
      k.fc,
    );
  });
  k.check("PMD pmd_mkinvalid keeps the pfn for every aligned pfn", ["pmdThp"], () => {
    const pages = k.pagesAt(PMD);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: BigInt(k.maxPfnAt(PMD) / pages) }).map((n) => Number(n) * pages), arbProt, (pfn, prot) => {
        const p = k.leaf(PMD, pfn, prot);
        b.mkinvalid(p, 0, PMD);
        expect(b.pfn(p, 0, PMD), entryHex(p, 0)).toBe(pfn);
      }),
      k.fc,
    );
  });
}
