import { stringify } from "yaml";
import { z } from "zod";
import { expected, leaf } from "../fields";
import type { StepDefinition } from "../registry";
import { clauseKind, expectArg, expectScope, type CounterClause, type DataClause, type EntriesClause, type FoliosClause, type MappedClause } from "../expect/clauses";
import { evalCounter, evalData, evalEntries, evalFolios, evalInvariants, evalMapped, type Verdict } from "../expect/evaluate";
import { evalPagemap, evalPin, evalSmaps, type PagemapClause, type PinClause, type SmapsClause } from "../expect/views";
import { done } from "./outcome";

/** A setting's value as written: sysfs takes text, so numbers and booleans are written as text. */
export const settingValue = leaf<string | number | boolean>("a setting value (text, a number, or true/false)", (v) => typeof v === "string" || typeof v === "number" || typeof v === "boolean");
export const settingsMap = z.record(z.string(), settingValue, {
  error: (iss) => (iss.code === "invalid_type" ? expected('a map of settings, such as { "transparent_hugepage/enabled": always }', iss.input) : undefined),
});

/** sysfs text of a setting value: booleans as 1/0. */
export function settingText(v: string | number | boolean): string {
  return typeof v === "boolean" ? (v ? "1" : "0") : String(v);
}

/** Change settings in the middle of a run. */
export const set: StepDefinition<z.output<typeof settingsMap>> = {
  schema: settingsMap,
  summary: "apply settings now, in order (the same keys as the top-level settings:)",
  scope() {},
  run(ctx, a) {
    for (const [key, v] of Object.entries(a)) ctx.applySetting(key, settingText(v), (reason) => ctx.error([key], reason));
    return done(Object.entries(a).map(([key, v]) => `${key}=${settingText(v)}`).join(" "));
  },
};

const checkpointName = leaf<string>('a checkpoint name (text other than "start" and "end")', (v) => typeof v === "string" && v !== "" && v !== "start" && v !== "end");

/** Snapshot every counter under a name, for `since:` and for the reports. */
export const checkpoint: StepDefinition<string> = {
  schema: checkpointName,
  summary: "snapshot every counter under a name (for `since:` and for charts)",
  scope(s, name) {
    s.defineCheckpoint(name, []);
  },
  run(ctx, name) {
    ctx.checkpoint(name);
    return done(`counters saved as "${name}"`);
  },
};

/** A clause in one line of YAML flow style. */
function clauseText(c: unknown): string {
  return stringify(c, { collectionStyle: "flow", lineWidth: 0 }).trim();
}

/** Check what must hold now: each clause's result is recorded, pass or fail. */
export const expect: StepDefinition<unknown[]> = {
  schema: expectArg,
  summary: "check counters, mapping levels, folio census, data, smaps fields, pagemap entries, pinned data and invariants",
  scope(s, list) {
    expectScope(s, list);
  },
  run(ctx, list, step) {
    let now: Record<string, number> | undefined;
    let failed = 0;
    list.forEach((c, i) => {
      const kind = clauseKind(c)!;
      const path = [i, kind];
      let v: Verdict;
      if (kind === "counter") v = evalCounter(ctx, c as CounterClause, (now ??= ctx.counters()), [i]);
      else if (kind === "mapped") v = evalMapped(ctx, (c as { mapped: MappedClause }).mapped, path);
      else if (kind === "folios") v = evalFolios(ctx, (c as { folios: FoliosClause }).folios, path);
      else if (kind === "entries") v = evalEntries(ctx, (c as { entries: EntriesClause }).entries, path);
      else if (kind === "data") v = evalData(ctx, (c as { data: DataClause }).data, path);
      else if (kind === "smaps") v = evalSmaps(ctx, (c as { smaps: SmapsClause }).smaps, path);
      else if (kind === "pagemap") v = evalPagemap(ctx, (c as { pagemap: PagemapClause }).pagemap, path);
      else if (kind === "pin") v = evalPin(ctx, (c as { pin: PinClause }).pin, path);
      else v = evalInvariants(ctx);
      if (!v.pass) failed++;
      ctx.expects.push({ step: ctx.index, line: ctx.lineOf([i], step), kind, clause: clauseText(c), ...v });
    });
    return done(`${list.length - failed} of ${list.length} passed`);
  },
};
