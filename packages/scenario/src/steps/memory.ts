import { MADV, MPOL_MF_MOVE, MPOL_MF_MOVE_ALL } from "@hugemm/core";
import type { z } from "zod";
import { address, bindName, count, obj, oneOf, pageLength, pid } from "../fields";
import type { StepDefinition } from "../registry";
import { done, plural, sysOutcome } from "./outcome";

/** move_pages(2) flags: `move` (MPOL_MF_MOVE, what an unprivileged caller gets) or `move_all` (MPOL_MF_MOVE_ALL). */
const MOVE_FLAGS = { move: MPOL_MF_MOVE, move_all: MPOL_MF_MOVE_ALL } as const;

const migrateArg = obj({
  pid,
  at: address,
  len: pageLength,
  node: count,
  flags: oneOf(["move", "move_all"] as const, "move_pages flags: move (MPOL_MF_MOVE) or move_all (MPOL_MF_MOVE_ALL)").optional(),
  hold: bindName.optional(),
});

/**
 * move_pages of the folios mapped in a range to a node. `flags: move` (the
 * default, as move_pages without MPOL_MF_MOVE_ALL) leaves folios another
 * process may map, their pages' status -EACCES; `move_all` moves them too.
 * With `hold:` the folios stay unmapped behind migration entries (faults
 * on them wait) until `migrate_finish` names the same hold.
 */
export const migrate: StepDefinition<z.output<typeof migrateArg>> = {
  schema: migrateArg,
  summary: "migrate the folios mapped in a range to `node` (move_pages); `flags: move` (default) skips shared folios with -EACCES, `move_all` moves them; `hold:` leaves them behind migration entries until migrate_finish",
  scope(s, a) {
    s.generic(a);
    s.node(a.node, "node");
    if (a.hold !== undefined) s.take("migration", a.hold, "hold");
  },
  run(ctx, a) {
    const job = ctx.k.migrateRange(ctx.mm(a.pid), ctx.address(a.pid, a.at, "at"), ctx.size(a.len, "len"), a.node, a.hold !== undefined, MOVE_FLAGS[a.flags ?? "move"]);
    const skipped = job.eaccesPages > 0 ? `; ${plural(job.eaccesPages, "page")} of shared folios -EACCES` : "";
    if (a.hold === undefined) return done(`moved ${plural(job.moved, "folio")} to node ${a.node}${skipped}`);
    ctx.migrations.set(a.hold, job);
    return done(`holding the folios behind migration entries as "${a.hold}"${skipped}`);
  },
};

const finishArg = obj({ hold: bindName });

/** Finish a held migration: the folios move and their mappings come back. */
export const migrate_finish: StepDefinition<z.output<typeof finishArg>> = {
  schema: finishArg,
  summary: "finish a migration held by `migrate ... hold:`",
  scope(s, a) {
    s.release("migration", a.hold, "hold");
  },
  run(ctx, a) {
    const job = ctx.migrations.get(a.hold);
    if (job === undefined) throw ctx.error("hold", `unknown migration "${a.hold}": expected a migration held here`);
    ctx.migrations.delete(a.hold);
    return done(`moved ${plural(ctx.k.finishMigration(job), "folio")}`);
  },
};

const rangeArg = obj({ pid, at: address, len: pageLength });

/** MADV_PAGEOUT over a range. */
export const pageout: StepDefinition<z.output<typeof rangeArg>> = {
  schema: rangeArg,
  summary: "madvise(MADV_PAGEOUT) over a range",
  run(ctx, a) {
    return sysOutcome(ctx.k.madvise(ctx.mm(a.pid), ctx.address(a.pid, a.at, "at"), ctx.size(a.len, "len"), MADV.PAGEOUT));
  },
};

const pressureArg = obj({ pages: count, node: count.optional() });

/** Memory pressure: direct reclaim of at least `pages` pages from a node. */
export const pressure: StepDefinition<z.output<typeof pressureArg>> = {
  schema: pressureArg,
  summary: "memory pressure: reclaim at least `pages` pages from `node` (shrink_node)",
  scope(s, a) {
    if (a.node !== undefined) s.node(a.node, "node");
  },
  run(ctx, a) {
    return done(`reclaimed ${plural(ctx.k.reclaim(a.pages, a.node ?? 0), "page")}`);
  },
};

const nodeArg = obj({ node: count.optional() });

/** kswapd runs on a node until its zones are above their high watermarks. */
export const kswapd: StepDefinition<z.output<typeof nodeArg>> = {
  schema: nodeArg,
  summary: "run kswapd on `node` until its zones are balanced",
  scope(s, a) {
    if (a.node !== undefined) s.node(a.node, "node");
  },
  run(ctx, a) {
    return done(`reclaimed ${plural(ctx.k.runKswapd(a.node ?? 0), "page")}`);
  },
};

const noArg = obj({});

/** /proc/sys/vm/compact_memory. */
export const compact: StepDefinition<z.output<typeof noArg>> = {
  schema: noArg,
  summary: "compact every zone (/proc/sys/vm/compact_memory)",
  run(ctx) {
    ctx.k.compactMemory();
    return done();
  },
};

/** drop_caches=2: the shrinkers (deferred split queue, huge zero folio). */
export const shrink: StepDefinition<z.output<typeof noArg>> = {
  schema: noArg,
  summary: "run the shrinkers: the deferred split queue and the huge zero folio (drop_caches=2)",
  run(ctx) {
    return done(`freed ${plural(ctx.k.dropSlab(), "object")}`);
  },
};

const splitArg = obj({ pid, at: address, len: pageLength, order: count.optional(), offset: count.optional() });

/** debugfs split_huge_pages over a range: to `order`, or non-uniformly around page `offset` of each folio. */
export const split: StepDefinition<z.output<typeof splitArg>> = {
  schema: splitArg,
  summary: "split the THPs mapped in a range to `order` (debugfs split_huge_pages; `offset` for a non-uniform split)",
  run(ctx, a) {
    const at = ctx.address(a.pid, a.at, "at");
    const [n, total] = ctx.k.splitHugePages(ctx.mm(a.pid), at, at + ctx.size(a.len, "len"), a.order ?? 0, a.offset ?? -1);
    return done(`split ${n} of ${plural(total, "THP")}`);
  },
};
