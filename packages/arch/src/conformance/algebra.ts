import { expect } from "vitest";
import { PMD, PTE, PUD, type Level } from "../level";
import { PROT_COUNT, VM_EXEC, VM_NONE, VM_READ, VM_SHARED, VM_WRITE, protIsSharedWritable, protString } from "../prot";
import { entryHex, entryRegs, sameEntry } from "../entry";
import type { Kit } from "./kit";

/** debug_vm_pgtable's basic, leaf, THP, special, protnone, soft-dirty and uffd-wp families. */
export function algebraChecks(k: Kit): void {
  const b = k.b;
  for (const { level, requires } of k.leafLevels) {
    const L = k.levelLabel(level);
    k.check(`${L} basic: young/dirty/write algebra for all 16 protections`, requires, () => {
      for (let prot = 0; prot < PROT_COUNT; prot++) basicAlgebra(k, level, prot);
    });
    k.check(`${L} basic: fresh entries per protection`, requires, () => {
      for (let prot = 0; prot < PROT_COUNT; prot++) {
        const pfn = k.pfnAt(level);
        const p = k.leaf(level, pfn, prot);
        const what = `${L} ${protString(prot)} ${entryHex(p, 0)}`;
        // PROT_NONE stays present (NUMA hinting) only where the kernel has pXd_protnone: PTE and PMD.
        if (level !== PUD || !isProtNone(prot)) expect(b.present(p, 0, level), `${what} present`).toBe(true);
        expect(b.none(p, 0, level), `${what} none`).toBe(false);
        expect(b.dirty(p, 0, level), `${what} fresh entry is clean`).toBe(false);
        expect(b.write(p, 0, level), `${what} writable iff shared+write`).toBe(protIsSharedWritable(prot));
        expect(b.pfn(p, 0, level), `${what} pfn`).toBe(pfn);
        expect(b.special(p, 0, level), `${what} special`).toBe(false);
        if (b.capabilities.softDirty) expect(b.softDirty(p, 0, level), `${what} soft-dirty`).toBe(false);
        if (b.capabilities.uffdWp) expect(b.uffdWp(p, 0, level), `${what} uffd-wp`).toBe(false);
        if ((prot & (VM_READ | VM_WRITE | VM_EXEC)) !== 0) {
          expect(b.exec(p, 0, level), `${what} exec`).toBe((prot & VM_EXEC) !== 0);
          // Exec-only mappings (arm64 PAGE_EXECONLY) are not user-readable.
          if ((prot & (VM_READ | VM_WRITE)) !== 0) expect(b.user(p, 0, level), `${what} user`).toBe(true);
          if (b.capabilities.protnone) expect(b.protnone(p, 0, level), `${what} protnone`).toBe(false);
        }
      }
    });
  }

  k.check("PMD leaf: pmd_leaf(pmd_mkhuge(pfn_pmd())) and pmd_bad(pmd_mkhuge())", ["pmdThp"], () => {
    for (let prot = 0; prot < PROT_COUNT; prot++) {
      const p = k.leaf(PMD, k.pfnAt(PMD), prot);
      expect(b.leaf(p, 0, PMD), protString(prot)).toBe(true);
      expect(b.bad(p, 0, PMD), protString(prot)).toBe(true);
      expect(b.table(p, 0, PMD), protString(prot)).toBe(false);
    }
  });
  k.check("PUD leaf: pud_leaf(pud_mkhuge(pfn_pud())) and pud_bad(pud_mkhuge())", ["pudLeaf"], () => {
    for (let prot = 0; prot < PROT_COUNT; prot++) {
      const p = k.leaf(PUD, k.pfnAt(PUD), prot);
      expect(b.leaf(p, 0, PUD), protString(prot)).toBe(true);
      expect(b.table(p, 0, PUD), protString(prot)).toBe(false);
      if (!k.g.levels[PMD]!.folded) expect(b.bad(p, 0, PUD), protString(prot)).toBe(true);
    }
  });
  k.check("table entries: populate gives a present, non-bad, non-leaf table pointer at every table level", [], () => {
    const tables = k.g.tables;
    for (let i = 0; i + 1 < tables.length; i++) {
      const t = tables[i]!;
      const next = tables[i + 1]!;
      const maxPa = (k.g.maxPfn + 1) * k.g.pageSize - next.tableBytes;
      for (const pa of [next.tableBytes, Math.floor(maxPa / 3 / next.tableBytes) * next.tableBytes, maxPa]) {
        for (const user of [true, false]) {
          const v = entryRegs(1);
          b.tableEntry(v, 0, t.level, pa, user);
          const what = `${k.levelLabel(t.level)} table -> 0x${pa.toString(16)} ${entryHex(v, 0)}`;
          expect(b.table(v, 0, t.level), what).toBe(true);
          expect(b.present(v, 0, t.level), what).toBe(true);
          expect(b.none(v, 0, t.level), what).toBe(false);
          expect(b.bad(v, 0, t.level), what).toBe(false);
          expect(t.level === PTE || !b.leaf(v, 0, t.level), what).toBe(true);
          expect(b.tablePa(v, 0, t.level), what).toBe(pa);
        }
      }
    }
  });

  k.check("PMD THP: pmd_trans_huge(pmd_mkhuge()); pmd_mkinvalid keeps present, trans_huge, leaf and pfn", ["pmdThp"], () => {
    for (let prot = 0; prot < PROT_COUNT; prot++) {
      const pfn = k.pfnAt(PMD);
      const p = k.leaf(PMD, pfn, prot);
      expect(b.transHuge(p, 0, PMD)).toBe(true);
      const inv = k.with(p, PMD, b.mkinvalid);
      const what = `${protString(prot)} ${entryHex(inv, 0)}`;
      expect(b.present(inv, 0, PMD), what).toBe(true);
      expect(b.transHuge(inv, 0, PMD), what).toBe(true);
      expect(b.leaf(inv, 0, PMD), what).toBe(true);
      expect(b.pfn(inv, 0, PMD), what).toBe(pfn);
    }
  });
  k.check("PUD THP: pud_trans_huge(pud_mkhuge())", ["pudThp"], () => {
    for (let prot = 0; prot < PROT_COUNT; prot++) {
      const p = k.leaf(PUD, k.pfnAt(PUD), prot);
      expect(b.transHuge(p, 0, PUD), protString(prot)).toBe(true);
    }
  });

  k.check("special: pte_special(pte_mkspecial())", ["special"], () => {
    for (let prot = 0; prot < PROT_COUNT; prot++) {
      const p = k.leaf(PTE, k.pfnAt(PTE), prot);
      expect(b.special(p, 0, PTE)).toBe(false);
      const s = k.with(p, PTE, b.mkspecial);
      expect(b.special(s, 0, PTE), protString(prot)).toBe(true);
      expect(b.pfn(s, 0, PTE)).toBe(k.pfnAt(PTE));
    }
  });

  k.check("protnone PTE: PROT_NONE entries are protnone and still present", ["protnone"], () => {
    protnone(k, PTE);
  });
  k.check("protnone PMD: PROT_NONE huge PMDs are protnone and still present", ["protnone", "pmdThp"], () => {
    protnone(k, PMD);
  });

  for (const level of [PTE, PMD] as const) {
    const L = k.levelLabel(level);
    const req = level === PTE ? (["softDirty"] as const) : (["softDirty", "pmdThp"] as const);
    k.check(`${L} soft-dirty: mksoft_dirty sets it, clear_soft_dirty clears it, nothing else moves`, req, () => {
      flagPair(k, level, "softDirty", b.mksoftDirty, b.clearSoftDirty, b.softDirty);
    });
    const reqU = level === PTE ? (["uffdWp"] as const) : (["uffdWp", "pmdThp"] as const);
    k.check(`${L} uffd-wp: mkuffd_wp sets it and write-protects, clear_uffd_wp clears only the flag`, reqU, () => {
      for (let prot = 0; prot < PROT_COUNT; prot++) {
        const pfn = k.pfnAt(level);
        const p = k.leaf(level, pfn, prot);
        b.mkdirty(p, 0, level);
        const set = k.with(p, level, b.mkuffdWp);
        const what = `${L} ${protString(prot)} ${entryHex(set, 0)}`;
        // pte_mkuffd_wp() is pte_wrprotect(pte_set_flags(pte, UFFD_WP)).
        expect(b.uffdWp(set, 0, level), what).toBe(true);
        expect(b.write(set, 0, level), `${what} write-protected`).toBe(false);
        expect(b.dirty(set, 0, level), `${what} dirty kept`).toBe(true);
        expect(b.pfn(set, 0, level)).toBe(pfn);
        const clear = k.with(set, level, b.clearUffdWp);
        expect(b.uffdWp(clear, 0, level), what).toBe(false);
        expect(b.write(clear, 0, level), `${what} clearing uffd-wp does not make writable`).toBe(false);
        expect(sameEntry(clear, 0, k.with(p, level, b.wrprotect), 0), `${what} clear leaves the write-protected entry`).toBe(true);
      }
    });
  }
}

/** The young/dirty/write rows of pte_basic_tests (and the newest mkwrite_novma rows). */
function basicAlgebra(k: Kit, level: Level, prot: number): void {
  const b = k.b;
  const pfn = k.pfnAt(level);
  const p = k.leaf(level, pfn, prot);
  const w = (cond: boolean, what: string) => expect(cond, `${k.levelLabel(level)} ${protString(prot)} ${entryHex(p, 0)}: ${what}`).toBe(true);
  w(!b.dirty(k.with(p, level, b.wrprotect), 0, level), "fresh entry stays clean through wrprotect");
  w(sameEntry(p, 0, k.copy(p), 0), "same");
  w(b.young(k.with(p, level, b.mkold, b.mkyoung), 0, level), "young(mkyoung(mkold))");
  w(!b.young(k.with(p, level, b.mkyoung, b.mkold), 0, level), "!young(mkold(mkyoung))");
  w(b.dirty(k.with(p, level, b.mkclean, b.mkdirty), 0, level), "dirty(mkdirty(mkclean))");
  w(!b.dirty(k.with(p, level, b.mkdirty, b.mkclean), 0, level), "!dirty(mkclean(mkdirty))");
  w(b.write(k.with(p, level, b.wrprotect, b.mkwrite), 0, level), "write(mkwrite(wrprotect))");
  w(!b.write(k.with(p, level, b.mkwrite, b.wrprotect), 0, level), "!write(wrprotect(mkwrite))");
  w(!b.dirty(k.with(p, level, b.mkclean, b.wrprotect), 0, level), "!dirty(wrprotect(mkclean))");
  w(b.dirty(k.with(p, level, b.mkdirty, b.wrprotect), 0, level), "dirty(wrprotect(mkdirty)): wrprotect keeps dirty");
  w(b.dirty(k.with(p, level, b.mkdirty, b.mkwrite), 0, level), "dirty(mkwrite_novma(mkdirty))");
  w(!b.dirty(k.with(p, level, b.mkclean, b.mkwrite), 0, level), "!dirty(mkwrite_novma(mkclean)): making writable does not make dirty");
  w(b.write(k.with(p, level, b.mkwrite, b.mkdirty), 0, level), "write(mkdirty(mkwrite_novma))");
  w(b.write(k.with(p, level, b.wrprotect, b.mkdirty, b.mkwrite), 0, level), "write(mkwrite(mkdirty(wrprotect)))");
  for (const ops of [[b.mkold], [b.mkyoung], [b.mkdirty], [b.mkclean], [b.mkwrite], [b.wrprotect], [b.mkdirty, b.wrprotect, b.mkwrite]]) {
    w(b.pfn(k.with(p, level, ...ops), 0, level) === pfn, "pfn survives young/dirty/write changes");
  }
  w(b.young(k.with(p, level, b.mkyoung, b.mkdirty, b.mkclean, b.wrprotect, b.mkwrite), 0, level), "young survives dirty/write changes");
}

/** vm_get_page_prot() gives PAGE_NONE when no access bit is set. */
function isProtNone(prot: number): boolean {
  return (prot & (VM_READ | VM_WRITE | VM_EXEC)) === 0;
}

function protnone(k: Kit, level: Level): void {
  const b = k.b;
  for (const prot of [VM_NONE, VM_SHARED]) {
    const p = k.leaf(level, k.pfnAt(level), prot);
    expect(b.protnone(p, 0, level), `${protString(prot)} ${entryHex(p, 0)} protnone`).toBe(true);
    expect(b.present(p, 0, level), `${protString(prot)} ${entryHex(p, 0)} present`).toBe(true);
    expect(b.pfn(p, 0, level)).toBe(k.pfnAt(level));
  }
  for (const prot of [VM_READ, VM_READ | VM_WRITE, VM_EXEC, VM_READ | VM_WRITE | VM_SHARED]) {
    const p = k.leaf(level, k.pfnAt(level), prot);
    expect(b.protnone(p, 0, level), protString(prot)).toBe(false);
  }
}

type Op = (v: Uint32Array, o: number, level: Level) => void;
type Pred = (v: Uint32Array, o: number, level: Level) => boolean;

function flagPair(k: Kit, level: Level, name: string, mk: Op, clear: Op, test: Pred): void {
  const b = k.b;
  for (let prot = 0; prot < PROT_COUNT; prot++) {
    const pfn = k.pfnAt(level);
    const p = k.leaf(level, pfn, prot);
    const set = k.with(p, level, mk);
    expect(test.call(b, set, 0, level), `${name} after mk (${protString(prot)})`).toBe(true);
    expect(test.call(b, k.with(set, level, clear), 0, level), `${name} after clear (${protString(prot)})`).toBe(false);
    expect(b.pfn(set, 0, level)).toBe(pfn);
    expect(b.write(set, 0, level)).toBe(b.write(p, 0, level));
    expect(b.dirty(set, 0, level)).toBe(b.dirty(p, 0, level));
    expect(sameEntry(k.with(set, level, clear), 0, p, 0), `${name} clear restores the entry`).toBe(true);
  }
}
