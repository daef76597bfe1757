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
  tableIndex,
  type WalkAccess,
  type WalkFault,
  type WalkStep,
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
  checkCanonical(geometry, va);
  const steps: WalkStep[] = [];
  const reg = new Uint32Array(2);
  const userAccess = access.user ?? true;
  const physLimitHi = geometry.physBits >= 52 ? 0 : (PFN_MASK_HI & ~((1 << (geometry.physBits - 32)) - 1)) >>> 0;
  let writable = true;
  let user = true;
  let noExec = false;
  let tablePa = rootPa;

  const fault = (kind: WalkFault, level: Level, reason: string): HardwareWalk => ({ ok: false, va, fault: kind, level, reason, steps });

  for (const t of geometry.tables) {
    const table = store.tableAt(tablePa);
    if (table === undefined) return fault("bad-table", t.level, `no ${levelName(t.level)} table at ${hex(tablePa)}`);
    const index = tableIndex(t, va);
    reg[0] = table[index * 2]!;
    reg[1] = table[index * 2 + 1]!;
    const lo = reg[0];
    const hi = reg[1];
    const described = describe(reg, 0, t.level);
    steps.push({ level: t.level, tablePa, index, entryPa: tablePa + index * 8, raw: (BigInt(hi) << 32n) | BigInt(lo), described });

    if ((lo & _PAGE_PRESENT) === 0) return fault("translation", t.level, notPresentReason(described));
    if ((hi & physLimitHi) !== 0) return fault("bad-table", t.level, `reserved bit: address above MAXPHYADDR (${geometry.physBits} bits)`);
    writable &&= (lo & _PAGE_RW) !== 0;
    user &&= (lo & _PAGE_USER) !== 0;
    noExec ||= (hi & _PAGE_NX_HI) !== 0;

    const pse = (lo & _PAGE_PSE) !== 0;
    if (t.level >= P4D && pse) return fault("bad-table", t.level, `reserved bit: PS is reserved in a ${levelName(t.level)} entry`);
    const leaf = t.level === PTE || ((t.level === PMD || t.level === PUD) && pse);
    if (!leaf) {
      tablePa = entryAddress(lo, hi, PTE_PFN_MASK_LO);
      continue;
    }

    const maskLo = pfnMaskLo(t.level, lo);
    if (pse && (lo & PTE_PFN_MASK_LO & ~maskLo & ~0x1000) !== 0) {
      return fault("bad-table", t.level, "reserved bit: low address bits of a huge leaf must be 0");
    }
    const pageSize = 2 ** t.shift;
    if (userAccess && !user) return fault("permission", t.level, "user access to a supervisor page");
    if (access.write && !writable) return fault("permission", t.level, "write to a read-only mapping (RW clear at some level)");
    if (access.exec && noExec) return fault("permission", t.level, "instruction fetch from a no-execute mapping (NX set at some level)");
    if (access.exec && !userAccess && user) return fault("permission", t.level, "supervisor instruction fetch from a user page (SMEP)");
    const young = (lo & _PAGE_ACCESSED) !== 0;
    const dirty = (lo & _PAGE_DIRTY) !== 0;
    return {
      ok: true,
      va,
      pa: entryAddress(lo, hi, maskLo) + (va % pageSize),
      level: t.level,
      pageSize,
      tlbSize: pageSize,
      read: true,
      write: writable,
      exec: !noExec,
      user,
      young,
      dirty,
      setsYoung: !young,
      setsDirty: access.write === true && !dirty,
      steps,
    };
  }
  return fault("bad-table", PTE, "walk ended without a leaf");
}

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

/** Addresses must be canonical: bits above vaBits-1 all equal to bit vaBits-1. */
function checkCanonical(g: Geometry, va: number): void {
  const half = 2 ** (g.vaBits - 1);
  const ok = Number.isInteger(va) && va >= 0 && (va < half || (va >= 2 ** 64 - half && va < 2 ** 64));
  if (!ok) {
    throw new ArchInputError("virtual address", va, `a canonical ${g.vaBits}-bit address: [0, ${hex(half)}) or [2^64 - ${hex(half)}, 2^64)`);
  }
}
