import { hex } from "@hugemm/core";
import type { RangeRecord } from "./control";
import { scanName } from "./scan-result";

/** "2M", "64K": the size of a folio of `order` with `pageSize` pages. */
function sizeName(pageSize: number, order: number): string {
  const b = pageSize * 2 ** order;
  return b >= 2 ** 30 ? `${b / 2 ** 30}G` : b >= 2 ** 20 ? `${b / 2 ** 20}M` : `${b / 1024}K`;
}

/**
 * One line per range tried: pid, address, SCAN result, and every collapse
 * attempt inside it ("pid 1 0x200000: succeed [2M at 0x200000: succeed]").
 * At most `max` lines; the rest are summed up.
 */
export function formatRanges(ranges: readonly RangeRecord[], pageSize: number, max = 32): string {
  const lines: string[] = [];
  for (const r of ranges.slice(0, max)) {
    const tries = r.attempts.map((a) => `${sizeName(pageSize, a.order)} at ${hex(a.addr)}: ${scanName(a.result)}`);
    lines.push(`pid ${r.pid} ${hex(r.addr)}: ${scanName(r.result)}${tries.length > 0 ? ` [${tries.join(", ")}]` : ""}`);
  }
  if (ranges.length > max) lines.push(`... and ${ranges.length - max} more ranges`);
  return lines.join("\n");
}
