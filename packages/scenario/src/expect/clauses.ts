import { z } from "zod";
import { address, expected, isSize, leaf, obj, oneOf, pattern, pid, size, text } from "../fields";
import type { ScopeCheck } from "../scope";
import { pagemapClause, pinClause, smapsClause, type PinClause } from "./views";

/** The comparisons a counter clause may make. */
export const COMPARISONS = { equals: "=", atLeast: ">=", atMost: "<=", greaterThan: ">", lessThan: "<" } as const;
export type Comparison = keyof typeof COMPARISONS;

const num = leaf<number>("a number", (v) => typeof v === "number" && Number.isFinite(v));

const counterClause = obj({
  counter: text,
  since: text.optional(),
  equals: num.optional(),
  atLeast: num.optional(),
  atMost: num.optional(),
  greaterThan: num.optional(),
  lessThan: num.optional(),
}).superRefine((c, ctx) => {
  const n = Object.keys(COMPARISONS).filter((k) => c[k as Comparison] !== undefined).length;
  if (n !== 1) ctx.addIssue({ code: "custom", message: `expected exactly one of ${Object.keys(COMPARISONS).join(", ")}, got ${n}` });
});

/** What `mapped` may expect at an address. */
export const MAPPED_LEVELS = ["pte", "pmd", "pud", "none", "swap", "migration"] as const;

/** The page-table level of the entry `mapped` finds (for a softleaf: where the swap or migration entry sits). */
export const ENTRY_LEVELS = ["pte", "pmd", "pud"] as const;

const mappedClause = obj({ mapped: obj({ pid, at: address, level: oneOf(MAPPED_LEVELS), entry: oneOf(ENTRY_LEVELS).optional() }) });

const census = z.record(
  z.string().refine((k) => isSize(k), { error: (iss) => expected('a folio size such as "4K", "64K", "2M" or "1G"', iss.input) }),
  leaf<number>("a count of folios (a whole number, not negative)", (v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0),
  { error: (iss) => (iss.code === "invalid_type" ? expected('a census: a map of folio size ("4K", "2M", ...) to a count', iss.input) : undefined) },
);

const foliosClause = obj({ folios: obj({ pid, at: address, len: size, census }) });

const entriesClause = obj({ entries: obj({ pid, at: address, len: size, census }) });

const dataPattern = leaf<number | "zero" | "file">('a pattern seed (a whole number in [0, 2^32)), "zero", or "file"', (v) => v === "zero" || v === "file" || pattern.safeParse(v).success);

const dataClause = obj({ data: obj({ pid, at: address, len: size, pattern: dataPattern, writtenAt: address.optional() }) });

const invariantsClause = obj({ invariants: oneOf(["clean"] as const) });

/** Each clause kind: the key that names it and the schema of the whole clause. */
export const CLAUSES = {
  counter: counterClause,
  mapped: mappedClause,
  folios: foliosClause,
  entries: entriesClause,
  data: dataClause,
  invariants: invariantsClause,
  smaps: smapsClause,
  pagemap: pagemapClause,
  pin: pinClause,
} as const;
export type ClauseKind = keyof typeof CLAUSES;
export type CounterClause = z.output<typeof counterClause>;
export type MappedClause = z.output<typeof mappedClause>["mapped"];
export type FoliosClause = z.output<typeof foliosClause>["folios"];
export type EntriesClause = z.output<typeof entriesClause>["entries"];
export type DataClause = z.output<typeof dataClause>["data"];

/** The kind of a clause: the one kind key it has, or undefined. */
export function clauseKind(c: unknown): ClauseKind | undefined {
  if (c === null || typeof c !== "object" || Array.isArray(c)) return undefined;
  const kinds = Object.keys(CLAUSES).filter((k) => k in c);
  return kinds.length === 1 ? (kinds[0] as ClauseKind) : undefined;
}

const CLAUSE_WHAT = `an expect clause: a map with one of ${Object.keys(CLAUSES).join(", ")}`;

/** The `expect` step's argument: a list of clauses, each checked by its kind's schema. */
export const expectArg = z.array(z.unknown(), { error: (iss) => expected(`a list of expect clauses (${Object.keys(CLAUSES).join(", ")})`, iss.input) }).superRefine((list, ctx) => {
  list.forEach((c, i) => {
    const kind = clauseKind(c);
    if (kind === undefined) {
      ctx.addIssue({ code: "custom", path: [i], message: expected(CLAUSE_WHAT, c) });
      return;
    }
    const r = CLAUSES[kind].safeParse(c);
    if (!r.success) {
      for (const iss of r.error.issues) {
        // A bad record key carries its own message inside; unknown fields keep their key in the path.
        const message = iss.code === "invalid_key" ? (iss.issues[0]?.message ?? iss.message) : iss.message;
        const path = iss.code === "unrecognized_keys" ? [i, ...iss.path, iss.keys[0]!] : [i, ...iss.path];
        ctx.addIssue({ code: "custom", path, message, params: { unknownKey: iss.code === "unrecognized_keys" } });
      }
    }
  });
});

/** The names, processes and checkpoints the clauses use. */
export function expectScope(s: ScopeCheck, list: readonly unknown[]): void {
  list.forEach((raw, i) => {
    const kind = clauseKind(raw)!;
    if (kind === "counter") {
      const c = raw as CounterClause;
      if (c.since !== undefined) s.since(c.since, [i, "since"]);
      s.counter(c.counter, [i, "counter"]);
      return;
    }
    if (kind === "invariants") return;
    if (kind === "pin") {
      const c = (raw as { pin: PinClause }).pin;
      if (!s.held.pin.has(c.name)) throw s.error([i, "pin", "name"], `unknown pin "${c.name}": expected a pin held here (${s.held.pin.size === 0 ? "none" : [...s.held.pin].join(", ")})`);
      return;
    }
    const body = (raw as Record<string, { pid: number; at: number | string; writtenAt?: number | string }>)[kind]!;
    s.pid(body.pid, [i, kind, "pid"]);
    s.address(body.pid, body.at, [i, kind, "at"]);
    if (body.writtenAt !== undefined) s.address(body.pid, body.writtenAt, [i, kind, "writtenAt"]);
  });
}
