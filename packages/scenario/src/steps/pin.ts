import { FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE } from "@hugemm/core";
import type { z } from "zod";
import { address, bindName, bool, obj, pid, size } from "../fields";
import type { StepDefinition } from "../registry";
import { done, failed, plural } from "./outcome";

const pinArg = obj({ pid, at: address, len: size, as: bindName, write: bool.optional(), longterm: bool.optional() });

/** pin_user_pages (FOLL_PIN) over a range, held under a name until `unpin`. */
export const pin: StepDefinition<z.output<typeof pinArg>> = {
  schema: pinArg,
  summary: "pin_user_pages (FOLL_PIN, optionally FOLL_WRITE / FOLL_LONGTERM), held as `as:` until unpin",
  scope(s, a) {
    s.pid(a.pid);
    s.address(a.pid, a.at, "at");
    s.take("pin", a.as, "as");
  },
  run(ctx, a) {
    const k = ctx.k;
    const ps = k.pageSize;
    const at = ctx.address(a.pid, a.at, "at");
    const len = ctx.size(a.len, "len");
    const first = Math.floor(at / ps);
    const nr = Math.ceil((at + len) / ps) - first;
    const flags = FOLL_PIN | (a.write === true ? FOLL_WRITE : 0) | (a.longterm === true ? FOLL_LONGTERM : 0);
    const res = k.gup(ctx.mm(a.pid), first * ps, nr, flags);
    ctx.pins.set(a.as, { pid: a.pid, start: first * ps, res, flags, write: a.write === true });
    const detail = `pinned ${res.pages.length} of ${plural(nr, "page")}`;
    return res.error === null ? done(detail) : failed(res.error, detail);
  },
};

const unpinArg = obj({ pin: bindName });

/** unpin_user_pages (dirtying them for a writable pin). */
export const unpin: StepDefinition<z.output<typeof unpinArg>> = {
  schema: unpinArg,
  summary: "unpin_user_pages of a pin taken by `pin`",
  scope(s, a) {
    s.release("pin", a.pin, "pin");
  },
  run(ctx, a) {
    const p = ctx.pins.get(a.pin);
    if (p === undefined) throw ctx.error("pin", `unknown pin "${a.pin}": expected a pin held here`);
    ctx.k.unpin(p.res, FOLL_PIN, p.write);
    ctx.pins.delete(a.pin);
    return done(`released ${plural(p.res.pages.length, "page")}`);
  },
};
