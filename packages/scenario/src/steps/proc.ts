import { CLEAR_REFS_ALL, CLEAR_REFS_MM_HIWATER_RSS, lruAddDrain } from "@hugemm/core";
import type { z } from "zod";
import { leaf, obj, pid } from "../fields";
import type { StepDefinition } from "../registry";
import { done } from "./outcome";

const CLEAR_REFS_WHAT = ["", "referenced bits of every page", "referenced bits of anonymous pages", "referenced bits of file-backed pages", "soft-dirty bits", "the peak rss"];

const clearRefsArg = obj({
  pid,
  value: leaf<number>("a clear_refs value: 1 (all), 2 (anon), 3 (mapped), 4 (soft-dirty) or 5 (mm hiwater rss)", (v) => Number.isInteger(v) && (v as number) >= CLEAR_REFS_ALL && (v as number) <= CLEAR_REFS_MM_HIWATER_RSS),
});

/** A write to /proc/pid/clear_refs, as the kernel takes its values. */
export const clear_refs: StepDefinition<z.output<typeof clearRefsArg>> = {
  schema: clearRefsArg,
  summary: "write 1-5 to /proc/pid/clear_refs: clear referenced bits (all, anon, file), soft-dirty bits, or the peak rss",
  run(ctx, a) {
    ctx.k.clearRefs(ctx.mm(a.pid), a.value);
    return done(`cleared the ${CLEAR_REFS_WHAT[a.value]}`);
  },
};

const drainArg = obj({});

/** lru_add_drain: the per-CPU LRU batches move now (what a reclaim, migration or munmap would do first). */
export const lru_add_drain: StepDefinition<z.output<typeof drainArg>> = {
  schema: drainArg,
  summary: "move the per-CPU LRU batches now (lru_deactivate, lru_lazyfree), as reclaim, migration and munmap do first",
  run(ctx) {
    ctx.k.op("lru-add-drain", () => lruAddDrain(ctx.k));
    return done("drained the per-CPU LRU batches");
  },
};
