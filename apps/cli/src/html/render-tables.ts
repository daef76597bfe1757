import { escapeHtml } from "./escape";
import { kB, shortSize } from "./format";
import type { ArchColumn, ArchSummary, MappingSizes } from "./model";

interface SummaryRow {
  readonly label: string;
  readonly value: (s: ArchSummary, z: MappingSizes) => string;
}

const SUMMARY_ROWS: readonly SummaryRow[] = [
  { label: "Page-table pages (PageTables, deposited included)", value: (s, z) => `${s.pgtablePages} (${kB(s.pgtablePages * z.page)})` },
  { label: "Mapped by PTEs of base pages", value: (s) => kB(s.mappedBytes.pte) },
  { label: "Mapped by PTEs of large folios (mTHP)", value: (s) => kB(s.mappedBytes.mthp) },
  { label: "Mapped by contiguous PTE runs", value: (s) => kB(s.mappedBytes.cont) },
  { label: "Mapped by PMD leaves", value: (s) => kB(s.mappedBytes.pmd) },
  { label: "Mapped by PUD leaves", value: (s) => kB(s.mappedBytes.pud) },
  { label: "Zero page and huge zero folio", value: (s) => kB(s.mappedBytes.zero + s.mappedBytes["huge-zero"]) },
  { label: "Swap entries", value: (s) => kB(s.swapBytes) },
  { label: "TLB entries to cover every mapping (a contiguous run counts once)", value: (s) => String(s.tlbEntries) },
  { label: "Free (buddy lists)", value: (s, z) => `${kB(s.freePages * z.page)} of ${kB(s.totalPages * z.page)}` },
];

/** Key numbers, one column per arch: the comparison table in compare mode. */
export function summaryTable(cols: readonly ArchColumn[], compare: boolean): string {
  const caption = compare ? "Side by side: page tables, memory mapped at each size, TLB entries" : "Key numbers";
  const head = `<tr><th scope="col">summed over processes</th>${cols.map((c) => `<th scope="col">${escapeHtml(c.archId)}</th>`).join("")}</tr>`;
  const sizes = `<tr><th scope="row">Page, contiguous run, PMD, PUD sizes</th>${cols.map((c) => `<td class="num">${[c.sizes.page, c.sizes.cont, c.sizes.pmd, c.sizes.pud].map(shortSize).join(", ")}</td>`).join("")}</tr>`;
  const rows = SUMMARY_ROWS.map((r) => `<tr><th scope="row">${escapeHtml(r.label)}</th>${cols.map((c) => `<td class="num">${r.value(c.summary, c.sizes)}</td>`).join("")}</tr>`).join("");
  return `<div class="scroll"><table id="summary-table"><caption>${caption}</caption><thead>${head}</thead><tbody>${sizes}${rows}</tbody></table></div>`;
}

/** One column's expect results. */
export function expectTable(c: ArchColumn, showHeading: boolean): string {
  const heading = showHeading ? `<h3>${escapeHtml(c.archId)}</h3>` : "";
  if (c.expects.length === 0) return `<div class="col">${heading}<p class="note">The scenario states no expectations.</p></div>`;
  const failed = c.expects.filter((e) => !e.pass).length;
  const rows = c.expects
    .map(
      (e) =>
        `<tr data-pass="${e.pass ? "1" : "0"}"><td><code>${escapeHtml(e.clause)}</code></td><td class="${e.pass ? "pass" : "fail"}">${e.pass ? "pass" : "FAIL"}</td><td><code>${escapeHtml(e.expected)}</code></td><td><code>${escapeHtml(e.actual)}</code></td></tr>`,
    )
    .join("");
  return (
    `<div class="col">${heading}<div class="scroll"><table class="expects"><caption>${c.expects.length - failed} passed, ${failed} failed</caption>` +
    `<thead><tr><th scope="col">clause</th><th scope="col">result</th><th scope="col">expected</th><th scope="col">actual</th></tr></thead><tbody>${rows}</tbody></table></div></div>`
  );
}

/** One column's counters at each checkpoint (the charted ones), static until the script takes over. */
export function counterTable(c: ArchColumn, ci: number, names: readonly string[]): string {
  const head = `<tr><th scope="col">checkpoint</th>${names.map((n) => `<th scope="col">${escapeHtml(n)}</th>`).join("")}</tr>`;
  const rows = c.checkpoints
    .map((cp) => `<tr><th scope="row">${escapeHtml(cp.name)}</th>${names.map((n) => `<td class="num">${cp.counters[n] ?? "-"}</td>`).join("")}</tr>`)
    .join("");
  return `<div class="scroll"><table id="counters-table-${ci}" class="counters"><caption>Counters at each checkpoint</caption><thead>${head}</thead><tbody>${rows}</tbody></table></div>`;
}
