import {
  ArchInputError,
  type DescribedEntry,
  type EntryReg,
  type Geometry,
  type HardwareWalk,
  type Level,
  levelName,
  P4D,
  PMD,
  PTE,
  PUD,
  type TableStore,
  type WalkAccess,
  type WalkStep,
  Translation,
  hardwareWalkOf,
  walkPlan,
  type WalkPlan,
} from "@hugemm/arch";
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_NX_HI, _PAGE_PRESENT, _PAGE_PSE, _PAGE_RW, _PAGE_USER, PFN_MASK_HI, PTE_PFN_MASK_LO } from "./bits";
import { entryAddress, pfnMaskLo } from "./pfn";

const hex = (n: number): string => `0x${n.toString(16)}`;

/**
 * The MMU's view of a 4- or 5-level walk (Intel SDM vol. 3 ch. 4, AMD APM
 * vol. 2 ch. 5), as Linux configures it: CR0.WP, EFER.NXE and CR4.SMEP set.
 * Permissions combine across levels: a write needs RW everywhere, a user
 * access needs USER everywhere, and NX anywhere forbids execution. The MMU
 * would also set Accessed in every entry it uses; the walk reports that
 * (setsYoung for the leaf) without writing anything. Not modelled: SMAP
 * (the kernel reaches user memory with EFLAGS.AC set), protection keys
 * (PKRU), and the PTI user/kernel PGD copies.
 */
export function walkTables(
  geometry: Geometry,
  store: TableStore,
  rootPa: number,
  va: number,
  access: WalkAccess,
  describe: (v: EntryReg, o: number, level: Level) => DescribedEntry,
): HardwareWalk {
  const t = new Translation();
  const steps: WalkStep[] = [];
  translateTables(geometry, walkPlan(geometry), store, rootPa, va, access, t, steps, describe);
  return hardwareWalkOf(t, steps);
}

/**
 * The walk itself, into `out`: with `steps` (and `describe`) every entry
 * read is recorded and every fault explained; without, nothing is
 * allocated on the way.
 */
export function translateTables(
  geometry: Geometry,
  plan: WalkPlan,
  store: TableStore,
  rootPa: number,
  va: number,
  access: WalkAccess,
  out: Translation,
  steps: WalkStep[] | null,
  describe: ((v: EntryReg, o: number, level: Level) => DescribedEntry) | null,
): boolean {
  const half = plan.vaSpan / 2;
  if (!((va >= 0 && va < half) || (va >= TWO_64 - half && va < TWO_64)) || !Number.isInteger(va)) checkCanonical(geometry, va);
  const userAccess = access.user ?? true;
  const physLimitHi = geometry.physBits >= 52 ? 0 : (PFN_MASK_HI & ~((1 << (geometry.physBits - 32)) - 1)) >>> 0;
  let writable = true;
  let user = true;
  let noExec = false;
  let tablePa = rootPa;
  const explain = steps !== null;

  for (let ti = 0; ti < plan.tables; ti++) {
    const level = plan.level[ti] as Level;
    const table = store.tableAt(tablePa);
    if (table === undefined) return out.fail(va, "bad-table", level, explain ? `no ${levelName(level)} table at ${hex(tablePa)}` : "");
    const index = Math.floor(va / plan.entrySize[ti]!) & plan.mask[ti]!;
    const lo = table[index * 2]!;
    const hi = table[index * 2 + 1]!;
    let described: DescribedEntry | undefined;
    if (steps !== null) {
      described = describe!(Uint32Array.of(lo, hi), 0, level);
      steps.push({ level: level, tablePa, index, entryPa: tablePa + index * 8, raw: (BigInt(hi) << 32n) | BigInt(lo), described });
    }

    if ((lo & _PAGE_PRESENT) === 0) return out.fail(va, "translation", level, described === undefined ? "" : notPresentReason(described));
    if ((hi & physLimitHi) !== 0) return out.fail(va, "bad-table", level, explain ? `reserved bit: address above MAXPHYADDR (${geometry.physBits} bits)` : "");
    writable &&= (lo & _PAGE_RW) !== 0;
    user &&= (lo & _PAGE_USER) !== 0;
    noExec ||= (hi & _PAGE_NX_HI) !== 0;

    const pse = (lo & _PAGE_PSE) !== 0;
    if (level >= P4D && pse) return out.fail(va, "bad-table", level, explain ? `reserved bit: PS is reserved in a ${levelName(level)} entry` : "");
    const leaf = level === PTE || ((level === PMD || level === PUD) && pse);
    if (!leaf) {
      // Below 2 GiB as a small integer: a store keyed by address then looks it up without boxing a double.
      const next = entryAddress(lo, hi, PTE_PFN_MASK_LO);
      tablePa = next < 0x80000000 ? next | 0 : next;
      continue;
    }

    const maskLo = pfnMaskLo(level, lo);
    if (pse && (lo & PTE_PFN_MASK_LO & ~maskLo & ~0x1000) !== 0) {
      return out.fail(va, "bad-table", level, explain ? "reserved bit: low address bits of a huge leaf must be 0" : "");
    }
    const pageSize = plan.entrySize[ti]!;
    if (userAccess && !user) return out.fail(va, "permission", level, explain ? "user access to a supervisor page" : "");
    if (access.write && !writable) return out.fail(va, "permission", level, explain ? "write to a read-only mapping (RW clear at some level)" : "");
    if (access.exec && noExec) return out.fail(va, "permission", level, explain ? "instruction fetch from a no-execute mapping (NX set at some level)" : "");
    if (access.exec && !userAccess && user) return out.fail(va, "permission", level, explain ? "supervisor instruction fetch from a user page (SMEP)" : "");
    const young = (lo & _PAGE_ACCESSED) !== 0;
    const dirty = (lo & _PAGE_DIRTY) !== 0;
    out.leaf(va, entryAddress(lo, hi, maskLo) + (va % pageSize), level, pageSize, pageSize);
    return out.perms(true, writable, !noExec, user, young, dirty, !young, access.write === true && !dirty);
  }
  return out.fail(va, "bad-table", PTE, explain ? "walk ended without a leaf" : "");
}

/** A user read: what translate() checks when no access is given. */
export const NO_ACCESS: WalkAccess = {};

function notPresentReason(d: DescribedEntry): string {
  switch (d.kind) {
    case "none":
      return "entry is none";
    case "protnone":
      return "PROT_NONE entry (PRESENT clear, PROTNONE set)";
    case "invalid-leaf":
      return "huge entry invalidated (pmd_mkinvalid): PRESENT clear";
    case "softleaf":
      return `non-present softleaf: ${d.summary}`;
    default:
      return `PRESENT clear: ${d.summary}`;
  }
}

const TWO_64 = 2 ** 64;

/** Addresses must be canonical: bits above vaBits-1 all equal to bit vaBits-1. */
function checkCanonical(g: Geometry, va: number): void {
  const half = 2 ** (g.vaBits - 1);
  const ok = Number.isInteger(va) && va >= 0 && (va < half || (va >= 2 ** 64 - half && va < 2 ** 64));
  if (!ok) {
    throw new ArchInputError("virtual address", va, `a canonical ${g.vaBits}-bit address: [0, ${hex(half)}) or [2^64 - ${hex(half)}, 2^64)`);
  }
}
