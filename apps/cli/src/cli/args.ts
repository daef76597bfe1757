import { UsageError } from "./errors";

/** One option of a command: `--name value`, `--name=value`, or a flag. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  /** May be given more than once (values collect in order). */
  readonly multiple?: boolean;
  readonly short?: string;
  /** The value's placeholder in help ("N", "FILE", "key=value"). */
  readonly value?: string;
  readonly help: string;
}

export interface PositionalSpec {
  readonly name: string;
  readonly help: string;
  readonly optional?: boolean;
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  /** Option values by name: string, string[] (multiple), or true. */
  readonly values: Readonly<Record<string, string | readonly string[] | true | undefined>>;
}

/**
 * Parse a command's arguments. Unknown options, missing values and surplus
 * positionals are UsageErrors naming the input and the accepted choices.
 */
export function parseArgs(cmd: string, argv: readonly string[], options: Readonly<Record<string, OptionSpec>>, positionals: readonly PositionalSpec[]): ParsedArgs {
  const values: Record<string, string | string[] | true> = {};
  const pos: string[] = [];
  const byShort = new Map(Object.entries(options).flatMap(([name, o]) => (o.short === undefined ? [] : [[o.short, name] as const])));
  const known = () => Object.keys(options).map((n) => `--${n}`).join(", ");
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (onlyPositionals || !a.startsWith("-") || a === "-") {
      pos.push(a);
      continue;
    }
    if (a === "--") {
      onlyPositionals = true;
      continue;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      inline = eq < 0 ? undefined : a.slice(eq + 1);
    } else {
      name = byShort.get(a.slice(1));
      if (name === undefined) throw new UsageError(`${cmd}: unknown option "${a}": expected one of ${known()}`);
    }
    const spec = options[name];
    if (spec === undefined) throw new UsageError(`${cmd}: unknown option "${a}": expected one of ${known()}`);
    if (spec.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`${cmd}: --${name} takes no value (got "${inline}")`);
      values[name] = true;
      continue;
    }
    let v = inline;
    if (v === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-" && !/^-\d/.test(next))) throw new UsageError(`${cmd}: --${name} needs a value: ${spec.value ?? "a value"}`);
      v = next;
      i++;
    }
    if (spec.multiple === true) {
      const prev = values[name];
      values[name] = Array.isArray(prev) ? [...prev, v] : [v];
    } else {
      if (values[name] !== undefined) throw new UsageError(`${cmd}: --${name} given twice ("${String(values[name])}" and "${v}"): expected it once`);
      values[name] = v;
    }
  }
  const required = positionals.filter((p) => p.optional !== true).length;
  if (pos.length < required) {
    const missing = positionals[pos.length]!;
    throw new UsageError(`${cmd}: missing <${missing.name}>: expected ${missing.help} (see hugemm ${cmd} --help)`);
  }
  if (pos.length > positionals.length) {
    const extra = pos[positionals.length]!;
    throw new UsageError(`${cmd}: unexpected argument "${extra}": ${positionals.length === 0 ? `${cmd} takes no arguments` : `expected only ${positionals.map((p) => `<${p.name}>`).join(" ")}`}`);
  }
  return { positionals: pos, values };
}

/** A string option's value, if given. */
export function str(a: ParsedArgs, name: string): string | undefined {
  const v = a.values[name];
  return typeof v === "string" ? v : undefined;
}

/** A repeatable option's values, split on commas too ("--arch a,b --arch c"). */
export function list(a: ParsedArgs, name: string, splitCommas = false): string[] {
  const v = a.values[name];
  const all = v === undefined || v === true ? [] : typeof v === "string" ? [v] : [...v];
  return splitCommas ? all.flatMap((x) => x.split(",")).map((x) => x.trim()).filter((x) => x !== "") : all;
}

export function flag(a: ParsedArgs, name: string): boolean {
  return a.values[name] === true;
}

/** A whole-number option. */
export function int(cmd: string, a: ParsedArgs, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = str(a, name);
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : /^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v, 16) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${cmd}: --${name} "${v}": expected a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? "" : ` to ${max}`}`);
  return n;
}
