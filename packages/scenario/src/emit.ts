import { Document, isCollection, isMap, isSeq, type YAMLMap } from "yaml";
import type { FileSpec, MachineSpec, Step } from "./types";

/** Optional parts of a scenario written by scenarioFromOps. */
export interface ScenarioExtras {
  readonly description?: string;
  readonly seed?: number;
  readonly files?: Readonly<Record<string, FileSpec>>;
}

/**
 * The YAML text of a scenario (what fuzz writes for a minimal reproducer):
 * one step per line in flow style, expect clauses one per line.
 */
export function scenarioFromOps(
  name: string,
  machine: MachineSpec,
  settings: readonly (readonly [string, string])[] | Readonly<Record<string, string>>,
  steps: readonly Step[],
  extras: ScenarioExtras = {},
): string {
  if (!/^[a-z0-9-]+$/.test(name)) throw new RangeError(`invalid scenario name "${name}": expected lower-case letters, digits and -`);
  const pairs = Array.isArray(settings) ? settings : Object.entries(settings);
  const top: Record<string, unknown> = { name };
  if (extras.description !== undefined) top.description = extras.description;
  const m: Record<string, unknown> = { arch: machine.arch };
  if (machine.memory !== undefined) m.memory = machine.memory;
  m.nodes = machine.nodes;
  m.movable = machine.movable;
  m.swap = machine.swapKind === undefined ? machine.swap : { size: machine.swap, kind: machine.swapKind };
  for (const [key, v] of Object.entries(machine.extra ?? {})) m[key] = v;
  if (machine.kernel !== undefined) m.kernel = machine.kernel;
  top.machine = m;
  if (extras.seed !== undefined) top.seed = extras.seed;
  if (pairs.length > 0) top.settings = Object.fromEntries(pairs);
  if (extras.files !== undefined && Object.keys(extras.files).length > 0) top.files = extras.files;
  top.steps = steps.map((s) => {
    let arg = s.arg ?? {};
    if (s.expectError !== undefined) arg = { ...(arg as Record<string, unknown>), expectError: s.expectError };
    if (s.expectOk === true) arg = { ...(arg as Record<string, unknown>), expectOk: true };
    return { [s.op]: arg };
  });
  const doc = new Document(top);
  const seq = doc.get("steps", true);
  if (isSeq(seq)) {
    for (const item of seq.items) {
      const value = (item as YAMLMap).items[0]?.value;
      if (isSeq(value)) {
        for (const c of value.items) if (isCollection(c)) c.flow = true;
      }
      else if (isMap(value)) value.flow = true;
    }
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: true });
}
