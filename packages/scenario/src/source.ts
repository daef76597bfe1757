import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Node } from "yaml";
import { ScenarioError } from "./errors";

/** A place in a source file (1-based). */
export interface SourcePos {
  readonly line: number;
  readonly column: number;
}

/** Where each field of a parsed file sits: its value, and for map entries its key. */
export interface SourceMap {
  readonly file: string;
  readonly values: ReadonlyMap<string, SourcePos>;
  readonly keys: ReadonlyMap<string, SourcePos>;
}

/** `steps[3].mmap.len` from ["steps", 3, "mmap", "len"]. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "number") s += `[${p}]`;
    else s += s === "" ? String(p) : `.${String(p)}`;
  }
  return s;
}

/** The position to report for `field`: its key for unknown keys, else its value, else the closest enclosing field's. */
export function locate(map: SourceMap | undefined, path: readonly PropertyKey[], key = false, fallback?: SourcePos): SourcePos {
  if (map === undefined) return fallback ?? { line: 0, column: 0 };
  for (let n = path.length; n >= 0; n--) {
    const f = fieldPath(path.slice(0, n));
    const pos = (key && n === path.length ? map.keys.get(f) : undefined) ?? map.values.get(f);
    if (pos !== undefined) return pos;
  }
  return { line: 1, column: 1 };
}

/** A ScenarioError at `path` of a parsed file. */
export function errorAt(map: SourceMap | undefined, file: string, path: readonly PropertyKey[], reason: string, key = false, fallback?: SourcePos): ScenarioError {
  const pos = locate(map, path, key, fallback);
  return new ScenarioError(file, pos.line, pos.column, fieldPath(path), reason);
}

/**
 * Parse YAML (JSON is YAML too) into plain values, with the position of every
 * field. Malformed input is a ScenarioError at the parser's position.
 */
export function parseSource(text: string, file: string): { value: unknown; map: SourceMap } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, version: "1.2" });
  const err = doc.errors[0];
  if (err !== undefined) {
    const p = lc.linePos(err.pos[0]);
    throw new ScenarioError(file, p.line, p.col, "", `malformed YAML: ${err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`);
  }
  const values = new Map<string, SourcePos>();
  const keys = new Map<string, SourcePos>();
  const at = (offset: number): SourcePos => {
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const walk = (node: unknown, path: PropertyKey[]): void => {
    if (node === null || typeof node !== "object") return;
    const n = node as Node;
    if (n.range) values.set(fieldPath(path), at(n.range[0]));
    if (isMap(n)) {
      for (const item of n.items) {
        if (!isPair(item)) continue;
        const k = isScalar(item.key) ? String(item.key.value) : String(item.key);
        const child = [...path, k];
        const keyNode = item.key as Node | null;
        if (keyNode?.range) keys.set(fieldPath(child), at(keyNode.range[0]));
        if (item.value !== null && item.value !== undefined) walk(item.value, child);
        else if (keyNode?.range) values.set(fieldPath(child), at(keyNode.range[0]));
      }
    } else if (isSeq(n)) {
      n.items.forEach((item, i) => walk(item, [...path, i]));
    }
  };
  walk(doc.contents, []);
  return { value: doc.toJS({ maxAliasCount: 1000 }) as unknown, map: { file, values, keys } };
}
