/** Numbers for people: 1.42M, 980.1k, 46.5. */
export function si(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1e9) return `${trim((n / 1e9).toFixed(2))}G`;
  if (a >= 1e6) return `${trim((n / 1e6).toFixed(2))}M`;
  if (a >= 1e3) return `${trim((n / 1e3).toFixed(1))}k`;
  if (a >= 100 || n === Math.round(n)) return trim(n.toFixed(1));
  return trim(n.toPrecision(3));
}

/** Bytes with binary prefixes: 46.5 B, 210.6 KiB. */
export function bytes(n: number): string {
  const a = Math.abs(n);
  if (a >= 2 ** 30) return `${trim((n / 2 ** 30).toFixed(1))} GiB`;
  if (a >= 2 ** 20) return `${trim((n / 2 ** 20).toFixed(1))} MiB`;
  if (a >= 2 ** 10) return `${trim((n / 2 ** 10).toFixed(1))} KiB`;
  return `${trim(n.toFixed(1))} B`;
}

/** A ratio: 0.71×, 12.4×. */
export function times(n: number): string {
  return `${n >= 10 ? n.toFixed(1) : n >= 0.1 ? n.toFixed(2) : n.toPrecision(2)}×`;
}

export function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** A signed relative change: +12.3%, -4.0%. */
export function change(fraction: number): string {
  return `${fraction >= 0 ? "+" : ""}${(fraction * 100).toFixed(1)}%`;
}

function trim(s: string): string {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** Round to `digits` decimals (for the JSON: stable, readable figures). */
export function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Text table: first column left-aligned, numbers right-aligned, other text columns left-aligned. */
export function textTable(head: readonly string[], rows: readonly (readonly string[])[], rightAligned: readonly boolean[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (rightAligned[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
