import { ZERO_FILL } from "@hugemm/core";
import type { z } from "zod";
import { address, leaf, obj, pattern, pid, size } from "../fields";
import type { StepDefinition } from "../registry";
import { touchOutcome } from "./outcome";

const readArg = obj({ pid, at: address, len: size });

/** User loads over a range, faulting as needed. */
export const read: StepDefinition<z.output<typeof readArg>> = {
  schema: readArg,
  summary: "user loads over a range, faulting as needed",
  run(ctx, a) {
    return touchOutcome(ctx.k.touch(ctx.mm(a.pid), ctx.address(a.pid, a.at, "at"), ctx.size(a.len, "len"), false));
  },
};

/** What a store writes: a pattern seed, or `zero` for zero bytes. */
const storePattern = leaf<number | "zero">('a pattern seed (a whole number in [0, 2^32)) or "zero" (zero bytes)', (v) => v === "zero" || pattern.safeParse(v).success);

const writeArg = obj({ pid, at: address, len: size, pattern: storePattern });

/**
 * User stores over a range writing a data pattern: each page's contents
 * derive from the seed and the page's address; `pattern: zero` stores zero
 * bytes (a written page that holds only zeroes, as the underused-THP shrinker
 * and the split's zero-page remap look for).
 */
export const write: StepDefinition<z.output<typeof writeArg>> = {
  schema: writeArg,
  summary: "user stores over a range, writing the data pattern seeded by `pattern` (`zero`: zero bytes)",
  run(ctx, a) {
    return touchOutcome(ctx.k.touch(ctx.mm(a.pid), ctx.address(a.pid, a.at, "at"), ctx.size(a.len, "len"), true, a.pattern === "zero" ? ZERO_FILL : a.pattern));
  },
};
