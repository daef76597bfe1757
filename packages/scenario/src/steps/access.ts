import type { z } from "zod";
import { address, obj, pattern, pid, size } from "../fields";
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

const writeArg = obj({ pid, at: address, len: size, pattern });

/** User stores over a range writing a data pattern: each page's contents derive from the seed and the page's address. */
export const write: StepDefinition<z.output<typeof writeArg>> = {
  schema: writeArg,
  summary: "user stores over a range, writing the data pattern seeded by `pattern`",
  run(ctx, a) {
    return touchOutcome(ctx.k.touch(ctx.mm(a.pid), ctx.address(a.pid, a.at, "at"), ctx.size(a.len, "len"), true, a.pattern));
  },
};
