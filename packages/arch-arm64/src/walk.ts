import {
  ArchInputError,
  entryRegs,
  entryToBigInt,
  levelName,
  PTE,
  type HardwareWalk,
  type TableStore,
  type WalkAccess,
  type WalkStep,
  Translation,
  hardwareWalkOf,
  walkPlan,
  type Level,
  type WalkPlan,
} from "@hugemm/arch";
import type { Arm64Backend } from "./backend";
import {
  HI_AP_TABLE_NO_EL0,
  HI_AP_TABLE_RDONLY,
  HI_CONT,
  HI_PXN,
  HI_PXN_TABLE,
  HI_UXN,
  HI_UXN_TABLE,
  HI_WRITE,
  LO_AF,
  LO_RDONLY,
  LO_TYPE_MASK,
  LO_TYPE_PAGE,
  LO_USER,
  LO_VALID,
} from "./bits";
import { isDirty } from "./entry-algebra";
import { loadEntry } from "./table-storage";

/**
 * A stage-1 translation of a TTBR0 (user) address as the MMU performs it,
 * assuming FEAT_HAFDBS: a clear access flag is set by the walk instead of
 * faulting, and a write to a PTE_RDONLY page with DBM set is permitted and
 * clears PTE_RDONLY. Table descriptors restrict what lies below them
 * (APTable, UXNTable, PXNTable); the leaf's AP[2:1], UXN and PXN finish it.
 */
export function arm64Walk(b: Arm64Backend, store: TableStore, rootPa: number, va: number, access: WalkAccess = {}): HardwareWalk {
  const t = new Translation();
  const steps: WalkStep[] = [];
  arm64Translate(b, walkPlan(b.geometry), store, rootPa, va, access, t, steps);
  return hardwareWalkOf(t, steps);
}

const REG = entryRegs(1);

/** The walk itself, into `out`; with `steps` every entry read is recorded and every fault explained. */
export function arm64Translate(b: Arm64Backend, plan: WalkPlan, store: TableStore, rootPa: number, va: number, access: WalkAccess, out: Translation, steps: WalkStep[] | null): boolean {
  const g = b.geometry;
  if (!(Number.isInteger(va) && va >= 0)) {
    throw new ArchInputError("virtual address", va, "a non-negative integer");
  }
  const explain = steps !== null;
  const top = g.tables[0]!;
  if (va >= plan.vaSpan) {
    return out.fail(va, "translation", top.level, explain ? `va 0x${va.toString(16)} is outside the ${g.vaBits}-bit TTBR0 range` : "");
  }

  const reg = explain ? entryRegs(1) : REG;
  let tablePa = rootPa;
  let noEl0 = false;
  let rdonlyBelow = false;
  let uxnBelow = false;
  let pxnBelow = false;
  for (let ti = 0; ti < plan.tables; ti++) {
    const level = plan.level[ti] as Level;
    const table = store.tableAt(tablePa);
    if (table === undefined) {
      return out.fail(va, "bad-table", level, explain ? `no table at physical address 0x${tablePa.toString(16)}` : "");
    }
    const index = Math.floor(va / plan.entrySize[ti]!) & plan.mask[ti]!;
    loadEntry(table, index, reg, 0);
    if (steps !== null) steps.push({ level: level, tablePa, index, entryPa: tablePa + index * 8, raw: entryToBigInt(reg, 0), described: b.describe(reg, 0, level) });
    const lo = reg[0]!;
    const hi = reg[1]!;

    if ((lo & LO_VALID) === 0) {
      return out.fail(va, "translation", level, steps !== null ? `${levelName(level)} entry not valid: ${steps[steps.length - 1]!.described.summary}` : "");
    }
    if (level !== PTE && (lo & LO_TYPE_MASK) === LO_TYPE_PAGE) {
      noEl0 ||= (hi & HI_AP_TABLE_NO_EL0) !== 0;
      rdonlyBelow ||= (hi & HI_AP_TABLE_RDONLY) !== 0;
      uxnBelow ||= (hi & HI_UXN_TABLE) !== 0;
      pxnBelow ||= (hi & HI_PXN_TABLE) !== 0;
      // Below 2 GiB as a small integer: a store keyed by address then looks it up without boxing a double.
      const next = b.tablePa(reg, 0, level);
      tablePa = next < 0x80000000 ? next | 0 : next;
      continue;
    }
    if (level === PTE && (lo & LO_TYPE_MASK) !== LO_TYPE_PAGE) {
      return out.fail(va, "translation", level, explain ? "descriptor type 0b01 is reserved at the last level" : "");
    }
    if (plan.leafAllowed[ti] === 0) {
      return out.fail(va, "translation", level, explain ? `no block descriptors at the ${levelName(level)} level with this granule` : "");
    }

    const pageSize = plan.entrySize[ti]!;
    const cont = (hi & HI_CONT) !== 0;
    const tlbSize = cont ? pageSize * plan.contEntries[ti]! : pageSize;
    const outPa = b.codec.decode(lo, hi);
    const pa = outPa - (outPa % pageSize) + (va % pageSize);

    const el0 = (lo & LO_USER) !== 0 && !noEl0;
    const rdonly = (lo & LO_RDONLY) !== 0;
    const dbm = (hi & HI_WRITE) !== 0;
    const asUser = access.user ?? true;
    const read = asUser ? el0 : true;
    const write = read && !rdonlyBelow && (!rdonly || dbm);
    // A page EL0 may write is never executable at EL1.
    const el0Writable = el0 && !rdonlyBelow && !rdonly;
    const exec = asUser ? (hi & HI_UXN) === 0 && !uxnBelow : (hi & HI_PXN) === 0 && !pxnBelow && !el0Writable;

    if (access.exec) {
      if (!exec) return out.fail(va, "permission", level, explain ? (asUser ? "instruction fetch from a UXN page" : "instruction fetch from a PXN page") : "");
    } else {
      if (!read) return out.fail(va, "permission", level, explain ? "EL0 access to a page without PTE_USER (AP[1])" : "");
      if (access.write && !write) {
        return out.fail(va, "permission", level, explain ? (rdonlyBelow ? "write below an APTable read-only table" : "write to a read-only page (PTE_RDONLY without DBM)") : "");
      }
    }
    const young = (lo & LO_AF) !== 0;
    out.leaf(va, pa, level, pageSize, tlbSize);
    return out.perms(read, write, exec, el0, young, isDirty(reg, 0), !young, access.write === true && !access.exec && rdonly && dbm);
  }
  return out.fail(va, "bad-table", PTE, explain ? "the walk ran past the last table" : "");
}
