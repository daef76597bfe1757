import { readFileSync } from "node:fs";
import { ERRNO } from "@hugemm/core";
import type { z } from "zod";
import { parseArchSpec } from "./arch";
import { ScenarioError } from "./errors";
import { expected, size } from "./fields";
import { machineField, stepDefinition, stepNames } from "./registry";
import { scenarioSchema, swapDevice } from "./schema";
import { ScopeChecker } from "./scope";
import { errorAt, locate, parseSource, type SourceMap } from "./source";
import { settingText } from "./steps/control";
import { FAULT_ERRORS } from "./steps/outcome";
import { didYouMean } from "./suggest";
import type { Scenario, Step } from "./types";

/** What `expectError:` accepts: an errno name or a fault. */
export const EXPECTABLE_ERRORS: readonly string[] = [...Object.keys(ERRNO), ...FAULT_ERRORS];

/** The issue to report: an unknown field first (a misspelt key also makes the real one "missing"), else the first. */
function pickIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue {
  return issues.find((i) => i.code === "unrecognized_keys" || (i.code === "custom" && i.params?.unknownKey === true)) ?? issues[0]!;
}

/** A schema issue as a ScenarioError at its field (at the key itself for unknown fields). */
function issueError(src: SourceMap | undefined, file: string, base: readonly PropertyKey[], issue: z.core.$ZodIssue, fallback?: { line: number; column: number }): ScenarioError {
  if (issue.code === "unrecognized_keys") return errorAt(src, file, [...base, ...issue.path, issue.keys[0]!], issue.message, true, fallback);
  if (issue.code === "invalid_key") {
    const inner = issue.issues[0];
    return errorAt(src, file, [...base, ...issue.path], inner?.message ?? issue.message, false, fallback);
  }
  const key = issue.code === "custom" && issue.params?.unknownKey === true;
  return errorAt(src, file, [...base, ...issue.path], issue.message, key, fallback);
}

/** Pull a step out of its one-key map: name, argument (expectError taken out) and position. */
function readStep(raw: unknown, i: number, src: SourceMap, file: string): Step {
  const path = ["steps", i];
  if (raw === null || typeof raw !== "object" || Array.isArray(raw) || Object.keys(raw).length !== 1) {
    const keys = raw !== null && typeof raw === "object" && !Array.isArray(raw) ? Object.keys(raw) : [];
    const got = keys.length > 1 ? `a map with ${keys.length} keys (${keys.join(", ")})` : undefined;
    throw errorAt(src, file, path, got === undefined ? expected("a step: a map with one key naming it, such as { mmap: {...} }", raw) : `expected a step: a map with one key naming it, got ${got}`);
  }
  const [op, value] = Object.entries(raw)[0]!;
  const pos = locate(src, path);
  let arg: unknown = value;
  let expectError: string | undefined;
  if (arg !== null && typeof arg === "object" && !Array.isArray(arg) && "expectError" in arg) {
    const { expectError: e, ...rest } = arg as Record<string, unknown>;
    if (typeof e !== "string" || !EXPECTABLE_ERRORS.includes(e)) {
      throw errorAt(src, file, [...path, op, "expectError"], expected(`an errno or fault name (${EXPECTABLE_ERRORS.join(", ")})`, e));
    }
    expectError = e;
    arg = rest;
  }
  let expectOk = false;
  if (arg !== null && typeof arg === "object" && !Array.isArray(arg) && "expectOk" in arg) {
    const { expectOk: e, ...rest } = arg as Record<string, unknown>;
    if (e !== true) throw errorAt(src, file, [...path, op, "expectOk"], expected("true (the step must succeed)", e));
    if (expectError !== undefined) throw errorAt(src, file, [...path, op, "expectOk"], "expected either expectOk or expectError, got both");
    expectOk = true;
    arg = rest;
  }
  const step: Step = { op, arg, line: pos.line, column: pos.column };
  if (expectOk) return { ...step, expectOk: true };
  return expectError === undefined ? step : { ...step, expectError };
}

/**
 * Check every step of a scenario against its schema, then follow the
 * processes, names, pins and checkpoints it makes and uses. Returns what the
 * runner needs to know (the counters the expects name, every pid).
 */
export function validateScenario(s: Scenario): ScopeChecker {
  const src = s.source;
  const scope = new ScopeChecker(s.file, src, new Set(Object.keys(s.files)), s.machine.nodes);
  s.steps.forEach((step, i) => {
    const fallback = step.line > 0 ? { line: step.line, column: step.column ?? 1 } : undefined;
    const def = stepDefinition(step.op);
    if (def === undefined) {
      throw errorAt(src, s.file, ["steps", i, step.op], `unknown step "${step.op}": expected one of ${stepNames().join(", ")}${didYouMean(step.op, stepNames())}`, true, fallback);
    }
    const arg = step.arg === null && def.schema.safeParse({}).success ? {} : step.arg;
    const r = def.schema.safeParse(arg);
    if (!r.success) throw issueError(src, s.file, ["steps", i, step.op], pickIssue(r.error.issues), fallback);
    if (step.expectError !== undefined && !EXPECTABLE_ERRORS.includes(step.expectError)) {
      throw errorAt(src, s.file, ["steps", i, step.op, "expectError"], expected(`an errno or fault name (${EXPECTABLE_ERRORS.join(", ")})`, step.expectError), false, fallback);
    }
    scope.at(i, ["steps", i, step.op], fallback);
    if (def.scope !== undefined) def.scope(scope, r.data);
    else scope.generic(r.data);
  });
  return scope;
}

/** `machine.swap`: a size, or { size, kind }. */
function readSwap(v: unknown, map: SourceMap, file: string): { swap: number | string; swapKind?: "block" | "zram" } {
  if (v === undefined) return { swap: 0 };
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const r = swapDevice.safeParse(v);
    if (!r.success) throw issueError(map, file, ["machine", "swap"], pickIssue(r.error.issues));
    return r.data.kind === undefined ? { swap: r.data.size } : { swap: r.data.size, swapKind: r.data.kind };
  }
  const r = size.safeParse(v);
  if (!r.success) throw errorAt(map, file, ["machine", "swap"], expected('a swap size such as "1G", or { size, kind } with kind block or zram', v));
  return { swap: r.data };
}

/** Take the registered `machine:` fields out of the file (checked by their own schemas) before the built-in schema sees it. */
function takeMachineFields(value: unknown, map: SourceMap, file: string): { value: unknown; extra: Record<string, unknown> } {
  const extra: Record<string, unknown> = {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { value, extra };
  const top = value as Record<string, unknown>;
  const m = top.machine;
  if (m === null || typeof m !== "object" || Array.isArray(m)) return { value, extra };
  const rest: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(m)) {
    const def = machineField(key);
    if (def === undefined) {
      rest[key] = v;
      continue;
    }
    const r = def.schema.safeParse(v);
    if (!r.success) throw issueError(map, file, ["machine", key], pickIssue(r.error.issues));
    extra[key] = r.data;
  }
  return { value: { ...top, machine: rest }, extra };
}

/** Parse a scenario from YAML or JSON text; `file` names it in errors. */
export function parseScenario(text: string, file: string): Scenario {
  const { value: raw, map } = parseSource(text, file);
  const { value, extra } = takeMachineFields(raw, map, file);
  const r = scenarioSchema.safeParse(value);
  if (!r.success) throw issueError(map, file, [], pickIssue(r.error.issues));
  const top = r.data;
  const m = top.machine ?? {};
  const arch = m.arch ?? "x86-64";
  try {
    parseArchSpec(arch);
  } catch (e) {
    throw errorAt(map, file, ["machine", "arch"], (e as Error).message);
  }
  for (const [name, f] of Object.entries(top.files ?? {})) {
    if (f.shmem === true && f.seed !== undefined) {
      throw errorAt(map, file, ["files", name, "seed"], "a seed gives a regular file's blocks: expected none on a shmem file, which starts zero-filled as a new shmem/memfd file does");
    }
  }
  const steps = top.steps.map((raw, i) => readStep(raw, i, map, file));
  const swap = readSwap(m.swap, map, file);
  const machine = { arch, nodes: m.nodes ?? 1, movable: m.movable ?? 0, ...swap, ...(m.memory === undefined ? {} : { memory: m.memory }), ...(m.kernel === undefined ? {} : { kernel: m.kernel }), ...(Object.keys(extra).length === 0 ? {} : { extra }) };
  const s: Scenario = {
    name: top.name,
    ...(top.description === undefined ? {} : { description: top.description }),
    file,
    machine,
    seed: top.seed ?? 1,
    settings: Object.entries(top.settings ?? {}).map(([k, v]) => [k, settingText(v)]),
    files: top.files ?? {},
    steps,
    source: map,
  };
  validateScenario(s);
  return s;
}

/** Read and parse a scenario file (.yaml, .yml or .json). */
export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    throw new ScenarioError(path, 0, 0, "", `cannot read the scenario file (${code}): expected a readable YAML or JSON file`);
  }
  return parseScenario(text, path);
}
