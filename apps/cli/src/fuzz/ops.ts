import type { Step } from "@hugemm/scenario";
import { step } from "./case";
import type { Dice } from "./dice";
import type { GenModel, Mapping, Proc } from "./model";
import type { ArchProfile } from "./profile";
import { mapLength, pickOffset, pickRange, type Range } from "./ranges";
import { pickSetting } from "./settings";
import { addrText, sizeText } from "./text";

/** A file the sequence declares under `files:`. */
export interface GenFile {
  readonly name: string;
  readonly size: number;
  readonly shmem: boolean;
}

/** What the step builders draw from and update. */
export interface GenContext {
  readonly d: Dice;
  readonly p: ArchProfile;
  readonly model: GenModel;
  /** The sequence may map one PUD THP (its machine has room for one). */
  readonly pud: boolean;
  pudMapped: boolean;
  readonly files: readonly GenFile[];
}

/** At most this many live processes. */
export const MAX_PROCS = 4;

/**
 * madvise advice, weighted to what THP cares about. Every advice the
 * scenario format accepts appears (collapse is EINVAL without khugepaged).
 */
export const ADVICE_WEIGHTS: readonly (readonly [string, number])[] = [
  ["hugepage", 5],
  ["nohugepage", 3],
  ["dontneed", 5],
  ["free", 4],
  ["pageout", 3],
  ["cold", 3],
  ["populate_read", 2],
  ["populate_write", 3],
  ["dontfork", 1.5],
  ["collapse", 2],
  ["normal", 0.4],
  ["random", 0.4],
  ["sequential", 0.4],
  ["willneed", 0.5],
  ["dofork", 0.5],
  ["dontdump", 0.3],
  ["dodump", 0.3],
  ["wipeonfork", 0.8],
  ["keeponfork", 0.4],
  ["dontneed_locked", 0.5],
];

const THP_ADVICE = new Set(["hugepage", "nohugepage", "collapse"]);

const MMAP_PROT = [
  ["rw", 75],
  ["r", 10],
  ["none", 5],
  ["rwx", 5],
  ["rx", 5],
] as const;

const MPROTECT_PROT = [
  ["r", 35],
  ["rw", 35],
  ["none", 15],
  ["rwx", 5],
  ["w", 5],
  ["rx", 5],
] as const;

/** Live processes that have bound at least one name. */
export function namedProcs(g: GenContext): Proc[] {
  return [...g.model.procs.values()].filter((p) => p.names.size > 0);
}

/** A name of `proc`, mostly one still mapped. */
function pickMapping(g: GenContext, proc: Proc): Mapping {
  return g.d.weighted([...proc.names.values()].map((m) => [m, m.gone ? 0.1 : 1] as const));
}

/** A process with names, a mapping of it and a range on that mapping. */
function pickTarget(g: GenContext, maxLen = Infinity): { pid: number; r: Range } | null {
  const procs = namedProcs(g);
  if (procs.length === 0 || maxLen < g.p.pageSize) return null;
  const proc = g.d.pick(procs);
  return { pid: proc.pid, r: pickRange(g.d, g.p, pickMapping(g, proc), maxLen) };
}

function anyPid(g: GenContext): number {
  return g.d.pick([...g.model.procs.keys()]);
}

/** mmap: anonymous (private or shared), a file or shmem file (private or shared), now and then MAP_FIXED over a name's range. */
export function genMmap(g: GenContext): Step | null {
  const { d, p, model } = g;
  const pid = anyPid(g);
  const proc = model.proc(pid);
  const over = proc.names.size > 0 && d.chance(0.15) ? pickMapping(g, proc) : null;
  const kind = d.weighted([
    ["anon", 50],
    ["shared", 12],
    ["file", g.files.some((f) => !f.shmem) ? 20 : 0],
    ["shmem", g.files.some((f) => f.shmem) ? 13 : 0],
  ] as const);
  const flags: string[] = [];
  const arg: Record<string, unknown> = { pid };
  let len = mapLength(d, p);
  let file: GenFile | undefined;
  let offset = 0;
  if (kind === "anon" || kind === "shared") {
    flags.push(kind === "anon" ? "private" : "shared", "anonymous");
    if (kind === "anon" && g.pud && !g.pudMapped && over === null && d.chance(0.1) && p.pudSize! <= model.mapRoom) {
      len = p.pudSize!;
      g.pudMapped = true;
    }
  } else {
    file = d.pick(g.files.filter((f) => f.shmem === (kind === "shmem")));
    flags.push(d.weighted([["private", 5], ["shared", 4], ["shared_validate", 1]]));
    if (d.chance(0.3)) offset = d.below(Math.floor(file.size / p.pageSize)) * p.pageSize;
    const left = file.size - offset;
    len = d.chance(0.9) ? Math.min(len, left) : left + d.int(1, 4) * p.pageSize;
  }
  if (len > model.mapRoom) len = p.pageSize * d.int(1, 4);
  if (len > model.mapRoom) return null;
  // MAP_POPULATE faults in the whole mapping: only where that fits what may still be touched.
  if (len <= model.touchRoom && d.chance(0.08)) flags.push("populate");
  if (d.chance(0.06)) flags.push("noreserve");
  if (kind === "anon" && d.chance(0.03)) flags.push("stack");
  if (kind === "anon" && d.chance(0.02)) flags.push("growsdown");
  if (over !== null) {
    arg.addr = addrText(over.name, pickOffset(d, p, over.len), p.pmdSize);
    flags.push(d.chance(0.8) ? "fixed" : "fixed_noreplace");
    model.addMapped(pid, len);
  } else {
    const name = model.newName();
    arg.as = name;
    // Only non-fixed mmaps bind names: they cannot fail here, so every bound name has an address.
    model.bind(pid, { name, len, kind, touched: flags.includes("populate") ? len : 0, gone: false });
  }
  arg.len = sizeText(len);
  arg.prot = d.weighted(MMAP_PROT);
  arg.flags = flags.join("|");
  if (file !== undefined) {
    arg.file = file.name;
    if (offset > 0) arg.offset = sizeText(offset);
  }
  return step("mmap", arg);
}

/** read or write over a range, within what may still be touched. */
export function genAccess(g: GenContext, write: boolean): Step | null {
  const t = pickTarget(g, g.model.touchRoom);
  if (t === null) return null;
  g.model.touch(t.r.m, t.r.offset, t.r.len);
  const arg: Record<string, unknown> = { pid: t.pid, at: t.r.at, len: sizeText(t.r.len) };
  if (write) arg.pattern = g.d.int(1, 999);
  return step(write ? "write" : "read", arg);
}

export function genMunmap(g: GenContext): Step | null {
  const t = pickTarget(g);
  if (t === null) return null;
  g.model.unmap(t.pid, t.r.m, t.r.offset, t.r.len);
  return step("munmap", { pid: t.pid, at: t.r.at, len: sizeText(t.r.len) });
}

/**
 * munmap of a whole mapping that has been touched: frees what may be
 * touched for the steps to come, so a long sequence keeps faulting.
 */
export function genUnmapWhole(g: GenContext): Step | null {
  const touched = [...g.model.procs.values()].flatMap((p) => [...p.names.values()].filter((m) => m.touched > 0 && !m.gone).map((m) => [p.pid, m] as const));
  if (touched.length === 0) return null;
  const [pid, m] = g.d.pick(touched);
  g.model.unmap(pid, m, 0, m.len);
  return step("munmap", { pid, at: m.name, len: sizeText(m.len) });
}

export function genMprotect(g: GenContext): Step | null {
  const t = pickTarget(g);
  if (t === null) return null;
  return step("mprotect", { pid: t.pid, at: t.r.at, len: sizeText(t.r.len), prot: g.d.weighted(MPROTECT_PROT) });
}

/** madvise with weighted advice; the populating advice counts as touching. */
export function genMadvise(g: GenContext): Step | null {
  // Without THP, MADV_HUGEPAGE, NOHUGEPAGE and COLLAPSE are EINVAL: try them now and then only.
  const advice = g.d.weighted(g.p.pmdThp ? ADVICE_WEIGHTS : ADVICE_WEIGHTS.map(([a, w]) => [a, THP_ADVICE.has(a) ? w / 10 : w] as const));
  const populate = advice === "populate_read" || advice === "populate_write";
  const t = pickTarget(g, populate ? g.model.touchRoom : Infinity);
  if (t === null) return null;
  if (populate) g.model.touch(t.r.m, t.r.offset, t.r.len);
  return step("madvise", { pid: t.pid, at: t.r.at, len: sizeText(t.r.len), advice });
}

/**
 * mremap: shrink, grow in place, grow with MREMAP_MAYMOVE, move to a fixed
 * address (another name's range, or just past this one), or MREMAP_DONTUNMAP.
 * The result is not named: a failed mremap would leave the name without an
 * address.
 */
export function genMremap(g: GenContext): Step | null {
  const { d, p, model } = g;
  const procs = namedProcs(g);
  if (procs.length === 0) return null;
  const proc = d.pick(procs);
  const m = pickMapping(g, proc);
  const u = p.pageSize;
  const offset = d.chance(0.7) ? 0 : pickOffset(d, p, m.len);
  const rest = Math.max(u, m.len - offset);
  const oldLen = d.chance(0.5) ? rest : Math.max(u, d.int(1, Math.max(1, Math.floor(rest / u))) * u);
  let kind = d.weighted([
    ["shrink", 25],
    ["grow", 15],
    ["maymove", 20],
    ["fixed", 25],
    ["dontunmap", 15],
  ] as const);
  const growBy = d.chance(0.5) ? d.int(1, 16) * u : p.pmdSize;
  const grows = kind === "grow" || kind === "maymove" || (kind === "fixed" && d.chance(0.3));
  const added = (grows ? growBy : 0) + (kind === "dontunmap" ? oldLen : 0);
  if (added > model.mapRoom) kind = "shrink";
  const arg: Record<string, unknown> = { pid: proc.pid, at: addrText(m.name, offset, p.pmdSize), len: sizeText(oldLen) };
  if (kind === "shrink") {
    const cut = oldLen > u ? d.int(1, Math.floor(oldLen / u) - 1) * u : 0;
    arg.newLen = sizeText(Math.max(u, oldLen - (d.chance(0.3) && oldLen > p.pmdSize ? p.pmdSize : cut)));
    return step("mremap", arg);
  }
  model.addMapped(proc.pid, added);
  if (kind === "grow" || kind === "maymove") {
    arg.newLen = sizeText(oldLen + growBy);
    if (kind === "maymove") arg.flags = "maymove";
    return step("mremap", arg);
  }
  arg.newLen = sizeText(kind === "dontunmap" ? oldLen : grows ? oldLen + growBy : oldLen);
  const fixed = kind === "fixed" || d.chance(0.3);
  arg.flags = kind === "dontunmap" ? (fixed ? "maymove|fixed|dontunmap" : "maymove|dontunmap") : "maymove|fixed";
  // Moved away whole: the name's range is left unmapped.
  if (kind === "fixed" && offset === 0 && oldLen >= m.len) m.gone = true;
  if (fixed) {
    const others = [...proc.names.values()].filter((x) => x !== m);
    if (others.length > 0 && d.chance(0.6)) {
      const to = d.pick(others);
      arg.to = addrText(to.name, pickOffset(d, p, to.len), p.pmdSize);
    } else {
      // Just past the mapping, rounded up to a PMD boundary: a move that keeps PMD alignment.
      const past = Math.ceil((m.len + p.pmdSize) / p.pmdSize) * p.pmdSize;
      arg.to = addrText(m.name, past, p.pmdSize);
    }
  }
  return step("mremap", arg);
}

export function genFork(g: GenContext): Step | null {
  const { d, model } = g;
  if (model.procs.size >= MAX_PROCS) return null;
  const pids = [...model.procs.keys()].filter((pid) => model.canFork(pid));
  if (pids.length === 0) return null;
  const pid = d.pick(pids);
  return step("fork", { pid, child: model.fork(pid) });
}

export function genSpawn(g: GenContext): Step | null {
  if (g.model.procs.size >= MAX_PROCS) return null;
  return step("spawn", { pid: g.model.spawn() });
}

/** A process exits; one always stays. */
export function genExit(g: GenContext): Step | null {
  if (g.model.procs.size < 2) return null;
  const pid = anyPid(g);
  g.model.exit(pid);
  return step("exit", { pid });
}

/** pin_user_pages over a range (at most two PMDs), sometimes writable, sometimes long-term. */
export function genPin(g: GenContext): Step | null {
  const t = pickTarget(g, Math.min(g.model.touchRoom, 2 * g.p.pmdSize));
  if (t === null) return null;
  g.model.touch(t.r.m, t.r.offset, t.r.len);
  const arg: Record<string, unknown> = { pid: t.pid, at: t.r.at, len: sizeText(t.r.len), as: g.model.takePin() };
  if (g.d.chance(0.5)) arg.write = true;
  if (g.d.chance(0.3)) arg.longterm = true;
  return step("pin", arg);
}

export function genUnpin(g: GenContext): Step | null {
  if (g.model.pins.length === 0) return null;
  return step("unpin", { pin: g.model.release(g.model.pins, g.d.below(g.model.pins.length)) });
}

/** Migrate a range to node 0 or 1; sometimes held behind migration entries until migrate_finish. */
export function genMigrate(g: GenContext): Step | null {
  const t = pickTarget(g);
  if (t === null) return null;
  const arg: Record<string, unknown> = { pid: t.pid, at: t.r.at, len: sizeText(t.r.len), node: g.d.below(2) };
  if (g.d.chance(0.3)) arg.hold = g.model.takeHold();
  return step("migrate", arg);
}

export function genMigrateFinish(g: GenContext): Step | null {
  if (g.model.holds.length === 0) return null;
  return step("migrate_finish", { hold: g.model.release(g.model.holds, g.d.below(g.model.holds.length)) });
}

export function genPageout(g: GenContext): Step | null {
  const t = pickTarget(g);
  if (t === null) return null;
  return step("pageout", { pid: t.pid, at: t.r.at, len: sizeText(t.r.len) });
}

export function genPressure(g: GenContext): Step {
  const arg: Record<string, unknown> = { pages: g.d.pick([16, 64, 256, 1024, 4096]) };
  if (g.d.chance(0.5)) arg.node = g.d.below(2);
  return step("pressure", arg);
}

export function genKswapd(g: GenContext): Step {
  return step("kswapd", g.d.chance(0.5) ? { node: g.d.below(2) } : {});
}

/** khugepaged for a few rounds or a full pass (never untilIdle: a sequence's steps stay short). */
export function genKhugepaged(g: GenContext): Step {
  return step("khugepaged", g.d.chance(0.5) ? { scans: 1 + g.d.below(4) } : { passes: 1 });
}

/**
 * debugfs split to an order from 0 to the PMD order (a PUD THP splits to
 * PMD-size folios), sometimes non-uniformly around a page of each folio.
 */
export function genSplit(g: GenContext): Step | null {
  const t = pickTarget(g);
  if (t === null) return null;
  const arg: Record<string, unknown> = { pid: t.pid, at: t.r.at, len: sizeText(t.r.len) };
  if (g.d.chance(0.7)) arg.order = g.d.int(0, Math.max(0, g.p.pmdOrder));
  if (g.d.chance(0.3)) arg.offset = g.d.below(2 ** Math.max(0, g.p.pmdOrder));
  return step("split", arg);
}

/** One THP setting, now and then two. */
export function genSet(g: GenContext): Step {
  const arg: Record<string, string | number> = {};
  for (let i = g.d.chance(0.2) ? 2 : 1; i > 0; i--) {
    const [k, v] = pickSetting(g.d, g.p, g.pud);
    arg[k] = v;
  }
  return step("set", arg);
}
