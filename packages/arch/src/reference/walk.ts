import type { ArchBackend } from "../backend";
import { entryRegs, entryToBigInt } from "../entry";
import { tableIndex } from "../geometry";
import type { HardwareWalk, TableStore, WalkAccess, WalkStep } from "../walk";
import { DIRTY, EXEC, LEAF, PRESENT, USER, WRITE, YOUNG } from "./bits";

/**
 * The reference MMU: walk top-down; PRESENT clear is a translation fault;
 * LEAF ends the walk where the level allows leaves; write and user
 * permission must be granted at every level, exec only by the leaf.
 */
export function walkReference(b: ArchBackend, store: TableStore, rootPa: number, va: number, access: WalkAccess = {}): HardwareWalk {
  const g = b.geometry;
  const steps: WalkStep[] = [];
  const v = entryRegs(1);
  let tablePa = rootPa;
  let writable = true;
  let user = true;
  for (const t of g.tables) {
    const table = store.tableAt(tablePa);
    const level = t.level;
    if (table === undefined) {
      return { ok: false, va, fault: "bad-table", level, reason: `no table at 0x${tablePa.toString(16)}`, steps };
    }
    const index = tableIndex(t, va);
    b.readEntry(table, index, level, v, 0);
    steps.push({ level, tablePa, index, entryPa: tablePa + index * g.entryBytes, raw: entryToBigInt(v, 0), described: b.describe(v, 0, level) });
    const lo = v[0]!;
    if ((lo & PRESENT) === 0) {
      return { ok: false, va, fault: "translation", level, reason: "entry not present", steps };
    }
    writable &&= (lo & WRITE) !== 0;
    user &&= (lo & USER) !== 0;
    const isLeaf = level === 0 || (lo & LEAF) !== 0;
    if (!isLeaf) {
      tablePa = b.tablePa(v, 0, level);
      continue;
    }
    if (!t.leafAllowed) {
      return { ok: false, va, fault: "bad-table", level, reason: "leaf where the level holds only tables", steps };
    }
    const pageSize = 2 ** t.shift;
    const exec = (lo & EXEC) !== 0;
    const wantUser = access.user ?? true;
    if ((access.write && !writable) || (access.exec && !exec) || (wantUser && !user)) {
      return { ok: false, va, fault: "permission", level, reason: `${access.write ? "write" : access.exec ? "exec" : "read"} not permitted`, steps };
    }
    const young = (lo & YOUNG) !== 0;
    const dirty = (lo & DIRTY) !== 0;
    return {
      ok: true,
      va,
      pa: b.pfn(v, 0, level) * g.pageSize + (va % pageSize),
      level,
      pageSize,
      tlbSize: pageSize,
      read: true,
      write: writable,
      exec,
      user,
      young,
      dirty,
      setsYoung: !young,
      setsDirty: access.write === true && !dirty,
      steps,
    };
  }
  throw new Error("unreachable: the last table is a PTE table");
}
