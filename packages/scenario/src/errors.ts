/**
 * Bad scenario input: where it is (file, line, column, and the field as a
 * path such as `steps[3].mmap.len`) and what was expected there. Line and
 * column are 1-based; 0 means the input has no source position (a
 * `--set` option, a scenario built in code without positions).
 */
export class ScenarioError extends Error {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly field: string;
  /** What was wrong, without the position prefix. */
  readonly reason: string;

  constructor(file: string, line: number, column: number, field: string, reason: string) {
    super(formatScenarioError(file, line, column, field, reason));
    this.name = "ScenarioError";
    this.file = file;
    this.line = line;
    this.column = column;
    this.field = field;
    this.reason = reason;
  }
}

/** `<file>:<line>:<col>: <field>: <what was wrong>`, leaving out what is unknown. */
export function formatScenarioError(file: string, line: number, column: number, field: string, reason: string): string {
  const where = line > 0 ? `${file}:${line}:${column > 0 ? column : 1}` : file;
  return field === "" ? `${where}: ${reason}` : `${where}: ${field}: ${reason}`;
}

/** A value as an error message quotes it. */
export function show(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  if (Array.isArray(v)) return "a list";
  return "a map";
}
