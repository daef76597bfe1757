import { hex } from "@hugemm/core";
import type { z } from "zod";
import { address, bindName, flagSet, leaf, obj, oneOf, pageLength, pid, size, text } from "../fields";
import { ADVICE, MAP_FLAGS, MREMAP_FLAGS, flagBits, isProt, protBits, PROT_WORDS } from "../flags";
import type { StepDefinition } from "../registry";
import { sysOutcome } from "./outcome";
import { madviseCollapseDetail } from "../features/khugepaged";

const prot = leaf<string | string[]>(`a protection: one of ${PROT_WORDS.join(", ")}, or a list of read, write, exec`, isProt);

const mmapArg = obj({
  pid,
  as: bindName.optional(),
  addr: address.optional(),
  len: pageLength,
  prot,
  flags: flagSet(Object.keys(MAP_FLAGS), "mmap flags"),
  file: text.optional(),
  offset: size.optional(),
});

/** mmap(2); `as:` names the mapping's address in the process. */
export const mmap: StepDefinition<z.output<typeof mmapArg>> = {
  schema: mmapArg,
  summary: "mmap(2): map anonymous memory or a declared file; `as:` names the address",
  scope(s, a) {
    s.pid(a.pid);
    if (a.addr !== undefined) s.address(a.pid, a.addr, "addr");
    if (a.file !== undefined) s.file(a.file, "file");
    if (a.as !== undefined) s.bind(a.pid, a.as);
  },
  run(ctx, a, step) {
    const mm = ctx.mm(a.pid);
    const r = ctx.k.mmap(mm, {
      addr: a.addr === undefined ? 0 : ctx.address(a.pid, a.addr, "addr"),
      len: ctx.size(a.len, "len"),
      prot: protBits(a.prot),
      flags: flagBits(MAP_FLAGS, a.flags),
      file: a.file === undefined ? null : ctx.file(a.file, "file"),
      offset: a.offset === undefined ? 0 : ctx.size(a.offset, "offset"),
    });
    if (a.as !== undefined) ctx.bind(a.pid, a.as, r.ok ? r.value : -1, r.ok ? undefined : `its mmap${step.line > 0 ? ` at line ${step.line}` : ""} failed with ${r.errno}`);
    return sysOutcome(r, (addr) => `mapped at ${hex(addr)}`);
  },
};

const rangeArg = obj({ pid, at: address, len: pageLength });

/** munmap(2). */
export const munmap: StepDefinition<z.output<typeof rangeArg>> = {
  schema: rangeArg,
  summary: "munmap(2)",
  run(ctx, a) {
    return sysOutcome(ctx.k.munmap(ctx.mm(a.pid), ctx.address(a.pid, a.at, "at"), ctx.size(a.len, "len")));
  },
};

const mprotectArg = obj({ pid, at: address, len: pageLength, prot });

/** mprotect(2). */
export const mprotect: StepDefinition<z.output<typeof mprotectArg>> = {
  schema: mprotectArg,
  summary: "mprotect(2)",
  run(ctx, a) {
    return sysOutcome(ctx.k.mprotect(ctx.mm(a.pid), ctx.address(a.pid, a.at, "at"), ctx.size(a.len, "len"), protBits(a.prot)));
  },
};

const mremapArg = obj({
  pid,
  at: address,
  len: pageLength,
  newLen: pageLength,
  flags: flagSet(Object.keys(MREMAP_FLAGS), "mremap flags").optional(),
  to: address.optional(),
  as: bindName.optional(),
});

/** mremap(2); `as:` rebinds a name to the result. */
export const mremap: StepDefinition<z.output<typeof mremapArg>> = {
  schema: mremapArg,
  summary: "mremap(2): resize or move a mapping; `as:` names the result",
  scope(s, a) {
    s.pid(a.pid);
    s.address(a.pid, a.at, "at");
    if (a.to !== undefined) s.address(a.pid, a.to, "to");
    if (a.as !== undefined) s.bind(a.pid, a.as);
  },
  run(ctx, a, step) {
    const r = ctx.k.mremap(
      ctx.mm(a.pid),
      ctx.address(a.pid, a.at, "at"),
      ctx.size(a.len, "len"),
      ctx.size(a.newLen, "newLen"),
      a.flags === undefined ? 0 : flagBits(MREMAP_FLAGS, a.flags),
      a.to === undefined ? 0 : ctx.address(a.pid, a.to, "to"),
    );
    if (a.as !== undefined) ctx.bind(a.pid, a.as, r.ok ? r.value : -1, r.ok ? undefined : `its mremap${step.line > 0 ? ` at line ${step.line}` : ""} failed with ${r.errno}`);
    return sysOutcome(r, (addr) => `now at ${hex(addr)}`);
  },
};

const madviseArg = obj({ pid, at: address, len: pageLength, advice: oneOf(Object.keys(ADVICE), `an madvise advice: one of ${Object.keys(ADVICE).join(", ")}`) });

/** madvise(2) with a lower-case MADV name. */
export const madvise: StepDefinition<z.output<typeof madviseArg>> = {
  schema: madviseArg,
  summary: "madvise(2): advice by lower-case MADV_ name (hugepage, dontneed, pageout, ...)",
  run(ctx, a) {
    const r = ctx.k.madvise(ctx.mm(a.pid), ctx.address(a.pid, a.at, "at"), ctx.size(a.len, "len"), ADVICE[a.advice]!);
    // MADV_COLLAPSE says what it did with each PMD range, whatever madvise returned.
    const ranges = a.advice === "collapse" ? madviseCollapseDetail(ctx.k) : "";
    const out = sysOutcome(r);
    return ranges === "" ? out : { ...out, detail: out.detail === undefined ? ranges : `${out.detail}\n${ranges}` };
  },
};
