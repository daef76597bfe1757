import { mixTag } from "@hugemm/core";
import { fields, type Step, type StepContext, type StepDefinition, type StepOutcome } from "@hugemm/scenario";
import { z } from "zod";
import { installZoneDevice } from "../feature";
import { PROT, type MirrorResult } from "../mirror";

const { obj, pid, address, pageLength, pattern, bool, count, leaf } = fields;

const device = leaf<string>("a device name declared under machine.devices", (v) => typeof v === "string" && v !== "");
const range = { pid, at: address, len: pageLength, device };

function ok(detail: string): StepOutcome {
  return { ok: true, detail };
}

function outcome(r: MirrorResult, what: string): StepOutcome {
  const detail = `${r.cpages} page${r.cpages === 1 ? "" : "s"} ${what}, ${r.faults} device fault${r.faults === 1 ? "" : "s"}`;
  return r.errno === 0 ? ok(detail) : { ok: false, error: r.errno, detail };
}

/** The device and the calling process's mirror of it, with the range in pages. */
function target(ctx: StepContext, a: { pid: number; at: number | string; len: number | string; device: string }) {
  const zd = installZoneDevice(ctx.k);
  let dev;
  try {
    dev = zd.device(a.device);
  } catch (e) {
    throw ctx.error("device", (e as Error).message.replace(/^invalid device "[^"]*": /, `unknown device "${a.device}": `));
  }
  const mm = ctx.mm(a.pid);
  return { dev, mirror: dev.mirror(mm), addr: ctx.address(a.pid, a.at, "at"), npages: ctx.size(a.len, "len") / ctx.k.pageSize };
}

/** Record one expect clause a device step carries. */
function check(ctx: StepContext, step: Step, path: readonly PropertyKey[], clause: string, expected: string | number, actual: string | number): void {
  const pass = expected === actual;
  ctx.expects.push({ step: ctx.index, line: ctx.lineOf(path, step), kind: "device", clause, pass, expected, actual, message: pass ? `${clause}: ${actual}` : `${clause}: expected ${expected}, found ${actual}` });
}

const countsExpect = obj({ cpages: count.optional(), faults: count.optional() }).optional();

function checkCounts(ctx: StepContext, step: Step, r: MirrorResult, e: { cpages?: number | undefined; faults?: number | undefined } | undefined): void {
  if (e?.cpages !== undefined) check(ctx, step, ["expect", "cpages"], "cpages", e.cpages, r.cpages);
  if (e?.faults !== undefined) check(ctx, step, ["expect", "faults"], "faults", e.faults, r.faults);
}

const migrateArg = obj({ ...range, compound: bool.optional(), expect: countsExpect });

/** HMM_DMIRROR_MIGRATE_TO_DEV. */
export const migrate_to_device: StepDefinition<z.output<typeof migrateArg>> = {
  schema: migrateArg,
  summary: "migrate a range to a device's private or coherent memory (THPs whole unless compound: false), then read it back through the device",
  run(ctx, a, step) {
    const { dev, mirror, addr, npages } = target(ctx, a);
    const r = dev.migrateToDevice(mirror, addr, npages, a.compound ?? true);
    checkCounts(ctx, step, r, a.expect);
    return outcome(r, `on ${dev.name}`);
  },
};

const toRamArg = obj({ ...range, expect: countsExpect });

/** HMM_DMIRROR_MIGRATE_TO_SYS. */
export const migrate_to_ram: StepDefinition<z.output<typeof toRamArg>> = {
  schema: toRamArg,
  summary: "migrate a device's pages in a range back to system memory",
  run(ctx, a, step) {
    const { dev, mirror, addr, npages } = target(ctx, a);
    const r = dev.migrateToSystem(mirror, addr, npages);
    checkCounts(ctx, step, r, a.expect);
    return outcome(r, "collected");
  },
};

const readArg = obj({ ...range, expect: obj({ cpages: count.optional(), faults: count.optional(), pattern: leaf<number | "zero">('a pattern seed or "zero"', (v) => v === "zero" || pattern.safeParse(v).success).optional() }).optional() });

/** HMM_DMIRROR_READ. */
export const device_read: StepDefinition<z.output<typeof readArg>> = {
  schema: readArg,
  summary: "the device reads a range through its page table, faulting in what it lacks (hmm_range_fault)",
  run(ctx, a, step) {
    const { dev, mirror, addr, npages } = target(ctx, a);
    const r = mirror.read(addr, npages);
    checkCounts(ctx, step, r, a.expect);
    const want = a.expect?.pattern;
    if (want !== undefined && r.errno === 0) {
      const ps = ctx.k.pageSize;
      let bad = -1;
      for (let i = 0; i < r.data.length && bad < 0; i++) {
        const expected = want === "zero" ? 0 : mixTag(want, addr / ps + i);
        if (r.data[i] !== expected) bad = i;
      }
      check(ctx, step, ["expect", "pattern"], `data ${String(want)}`, "every page", bad < 0 ? "every page" : `page ${bad} differs`);
    }
    return outcome(r, `read by ${dev.name}`);
  },
};

const writeArg = obj({ ...range, pattern, expect: countsExpect });

/** HMM_DMIRROR_WRITE. */
export const device_write: StepDefinition<z.output<typeof writeArg>> = {
  schema: writeArg,
  summary: "the device stores the data pattern seeded by `pattern` over a range, faulting in what it lacks",
  run(ctx, a, step) {
    const { dev, mirror, addr, npages } = target(ctx, a);
    const r = mirror.write(addr, npages, a.pattern);
    checkCounts(ctx, step, r, a.expect);
    return outcome(r, `written by ${dev.name}`);
  },
};

const PROT_NAMES = Object.keys(PROT) as (keyof typeof PROT)[];
const protText = leaf<string>(`snapshot flags joined by | (${PROT_NAMES.join(", ")})`, (v) => typeof v === "string" && v.split("|").every((p) => PROT_NAMES.includes(p.trim() as keyof typeof PROT)));

/** The snapshot byte as text: ERROR, NONE, or the flags joined by |. */
export function protName(p: number): string {
  if (p === PROT.ERROR) return "ERROR";
  if (p === PROT.NONE) return "NONE";
  const kind = p & 0xf0;
  const out: string[] = [];
  for (const n of ["ZERO", "DEV_PRIVATE_LOCAL", "DEV_PRIVATE_REMOTE", "DEV_COHERENT_LOCAL", "DEV_COHERENT_REMOTE"] as const) if (kind === PROT[n]) out.push(n);
  for (const n of ["READ", "WRITE", "PMD", "PUD"] as const) if (p & PROT[n]) out.push(n);
  return out.join("|");
}

function protValue(t: string): number {
  return t.split("|").reduce((v, n) => v | PROT[n.trim() as keyof typeof PROT], 0);
}

const snapshotExpect = z.union([z.array(protText), obj({ all: protText })], { error: () => 'expected a list of snapshot flags, one per page, or { all: "<flags>" }' });
const snapshotArg = obj({ ...range, expect: snapshotExpect.optional() });

/** HMM_DMIRROR_SNAPSHOT, with an expect clause over its per-page result. */
export const device_snapshot: StepDefinition<z.output<typeof snapshotArg>> = {
  schema: snapshotArg,
  summary: "what the device sees of each page of a range without faulting (ERROR, NONE, ZERO|READ, DEV_PRIVATE_LOCAL|WRITE|PMD, ...)",
  run(ctx, a, step) {
    const { mirror, addr, npages } = target(ctx, a);
    const snap = mirror.snapshot(addr, npages).map(protName);
    const e = a.expect;
    if (Array.isArray(e)) {
      if (e.length !== npages) throw ctx.error("expect", `expected ${npages} entries (one per page of len), got ${e.length}`);
      e.forEach((want, i) => check(ctx, step, ["expect", i], `page ${i}`, protName(protValue(want)), snap[i]!));
    } else if (e !== undefined) {
      const want = protName(protValue(e.all));
      const bad = snap.findIndex((s) => s !== want);
      check(ctx, step, ["expect", "all"], `every page ${want}`, want, bad < 0 ? want : `page ${bad}: ${snap[bad]}`);
    }
    return ok(summarize(snap));
  },
};

/** "512 × DEV_PRIVATE_LOCAL|WRITE|PMD" runs. */
function summarize(snap: readonly string[]): string {
  const runs: string[] = [];
  for (let i = 0; i < snap.length; ) {
    let j = i;
    while (j < snap.length && snap[j] === snap[i]) j++;
    runs.push(j - i === 1 ? snap[i]! : `${j - i} × ${snap[i]}`);
    i = j;
  }
  return runs.join(", ");
}

const exclusiveArg = obj({ ...range, expect: countsExpect });

/** HMM_DMIRROR_EXCLUSIVE. */
export const device_exclusive: StepDefinition<z.output<typeof exclusiveArg>> = {
  schema: exclusiveArg,
  summary: "the device takes a range for atomic access (make_device_exclusive); CPU access takes pages back",
  run(ctx, a, step) {
    const { dev, mirror, addr, npages } = target(ctx, a);
    const r = mirror.exclusive(addr, npages);
    checkCounts(ctx, step, r, a.expect);
    return outcome(r, `held by ${dev.name}`);
  },
};

const checkExclusiveArg = obj({ ...range });

/** HMM_DMIRROR_CHECK_EXCLUSIVE: EPERM while the device still holds a page of the range. */
export const device_check_exclusive: StepDefinition<z.output<typeof checkExclusiveArg>> = {
  schema: checkExclusiveArg,
  summary: "EPERM while the device still holds any page of the range for atomics",
  run(ctx, a) {
    const { mirror, addr, npages } = target(ctx, a);
    const r = ctx.k.op("device-check-exclusive", () => mirror.checkExclusive(addr, npages));
    return r === 0 ? ok("no page held") : { ok: false, error: r, detail: "a page is still held for atomics" };
  },
};

const failArg = obj({ device });

/** HMM_DMIRROR_FLAG_FAIL_ALLOC. */
export const device_fail_alloc: StepDefinition<z.output<typeof failArg>> = {
  schema: failArg,
  summary: "the device's next memory allocation fails (to force the THP split fallback)",
  scope() {},
  run(ctx, a) {
    const zd = installZoneDevice(ctx.k);
    if (!zd.devices.has(a.device)) throw ctx.error("device", `unknown device "${a.device}": expected one of ${[...zd.devices.keys()].join(", ") || "the devices under machine.devices (none is declared)"}`);
    zd.device(a.device).failNextAlloc();
    return ok(`${a.device}'s next allocation fails`);
  },
};

