import { hex } from "@hugemm/core";
import type { CollapseAttempt, RangeRecord } from "./control";
import { scanName } from "./scan-result";

/** "2M", "64K": the size of a folio of `order` with `pageSize` pages. */
function sizeName(pageSize: number, order: number): string {
  const b = pageSize * 2 ** order;
  return b >= 2 ** 30 ? `${b / 2 ** 30}G` : b >= 2 ** 20 ? `${b / 2 ** 20}M` : `${b / 1024}K`;
}

/** Attempts in runs: consecutive windows of one order, back to back, with one result, become "64K x32 at 0x...: succeed". */
function formatAttempts(attempts: readonly CollapseAttempt[], pageSize: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < attempts.length; ) {
    const a = attempts[i]!;
    const size = pageSize * 2 ** a.order;
    let n = 1;
    while (i + n < attempts.length) {
      const b = attempts[i + n]!;
      if (b.order !== a.order || b.result !== a.result || b.addr !== a.addr + n * size) break;
      n++;
    }
    out.push(`${sizeName(pageSize, a.order)}${n > 1 ? ` x${n}` : ""} at ${hex(a.addr)}: ${scanName(a.result)}`);
    i += n;
  }
  return out;
}

/**
 * One line per range tried: pid, address, SCAN result, and the
 * collapse_huge_page attempts inside it ("pid 1 0x200000: succeed [2M at
 * 0x200000: succeed]"). At most `max` lines; the rest are counted.
 */
export function formatRanges(ranges: readonly RangeRecord[], pageSize: number, max = 32): string {
  const lines: string[] = [];
  for (const r of ranges.slice(0, max)) {
    const tries = formatAttempts(r.attempts, pageSize);
    lines.push(`  pid ${r.pid} ${hex(r.addr)}: ${scanName(r.result)}${tries.length > 0 ? ` [${tries.join(", ")}]` : ""}`);
  }
  if (ranges.length > max) lines.push(`  ... and ${ranges.length - max} more ranges`);
  return lines.join("\n");
}
