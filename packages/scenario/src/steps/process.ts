import type { z } from "zod";
import { obj, pid } from "../fields";
import type { StepDefinition } from "../registry";
import { done, failed } from "./outcome";

const forkArg = obj({ pid, child: pid });

/** fork(2): `child` gets a copy of the address space and of the parent's names. */
export const fork: StepDefinition<z.output<typeof forkArg>> = {
  schema: forkArg,
  summary: "fork(2): `child` gets a COW copy of `pid` and its names",
  scope(s, a) {
    s.pid(a.pid);
    s.addPid(a.child, "child", a.pid);
  },
  run(ctx, a, step) {
    const child = ctx.k.fork(ctx.mm(a.pid));
    if (child === null) {
      ctx.markUnborn(a.child, `its fork${step.line > 0 ? ` at line ${step.line}` : ""} failed with ENOMEM`);
      return failed("ENOMEM", "no memory to copy the address space");
    }
    ctx.addProcess(a.child, child, a.pid);
    return done(`child ${a.child}`);
  },
};

const pidArg = obj({ pid });

/** A new process with an empty address space. */
export const spawn: StepDefinition<z.output<typeof pidArg>> = {
  schema: pidArg,
  summary: "a new process with an empty address space",
  scope(s, a) {
    s.addPid(a.pid, "pid");
  },
  run(ctx, a) {
    ctx.addProcess(a.pid, ctx.k.createMm());
    return done();
  },
};

/** The process exits: its address space is torn down (pins it took stay held). */
export const exit: StepDefinition<z.output<typeof pidArg>> = {
  schema: pidArg,
  summary: "the process exits and its address space is torn down",
  scope(s, a) {
    s.pid(a.pid);
    s.removePid(a.pid);
  },
  run(ctx, a) {
    ctx.k.exit(ctx.mm(a.pid));
    ctx.removeProcess(a.pid);
    return done();
  },
};
