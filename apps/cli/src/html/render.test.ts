import { createArm64Backend } from "@hugemm/arch-arm64";
import { describe, expect, it } from "vitest";
import { chartAssets } from "./assets";
import { escapeHtml, inlineScript, jsonForScript } from "./escape";
import { htmlReportFromRuns } from "./extract";
import { hex, kB, mapsRange, shortSize } from "./format";
import { renderHtml } from "./render";
import { AT, buildFixture } from "./testing/fixture";

const EVIL_SCENARIO = `<script>alert("s")</script> & 'q'`;
const EVIL_VMA = `</div><img src=x onerror=alert(1)>`;
const EVIL_CLAUSE = `</script><b>bold</b>`;
const EVIL_COUNTER = `"><svg onload=alert(1)>`;

function hostile(): string {
  const f = buildFixture(undefined, EVIL_SCENARIO);
  f.parent.vmas.lookup(AT.base)!.name = EVIL_VMA;
  const run = {
    ...f,
    checkpoints: f.checkpoints.map((c) => ({ name: `${c.name}<i>`, counters: { ...c.counters, [EVIL_COUNTER]: 1 } })),
    expects: [{ clause: EVIL_CLAUSE, pass: false, expected: "<!-- x -->", actual: { tag: "</script>" } }],
  };
  return renderHtml(htmlReportFromRuns([run], { counters: ["thp_fault_alloc", EVIL_COUNTER] }));
}

function dataBlock(html: string): unknown {
  const m = /<script type="application\/json" id="hugemm-data">([^<]*)<\/script>/.exec(html);
  if (m === null) throw new Error("no data block");
  return JSON.parse(m[1]!);
}

function kindCounts(html: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of html.matchAll(/<span class="run" data-kind="([a-z-]+)"/g)) out[m[1]!] = (out[m[1]!] ?? 0) + 1;
  return out;
}

describe("renderHtml", () => {
  it("escapes every name it prints: scenario, VMA, checkpoint, counter, clause and values", () => {
    const html = hostile();
    for (const raw of [EVIL_SCENARIO, EVIL_VMA, EVIL_CLAUSE, EVIL_COUNTER, "<i>", "<!-- x -->", "<img", "<svg onload", "<b>"]) expect(html).not.toContain(raw);
    expect(html).toContain("<title>hugemm run: &lt;script&gt;alert(&quot;s&quot;)&lt;/script&gt; &amp; &#39;q&#39;</title>");
    expect(html).toContain("<span>&lt;/div&gt;&lt;img src=x onerror=alert(1)&gt;</span>");
    expect(html).toContain("<code>&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;</code>");
    expect(html).toContain(`<option value="&quot;&gt;&lt;svg onload=alert(1)&gt;" selected>`);
    expect(html).toContain("<code>{&quot;tag&quot;:&quot;&lt;/script&gt;&quot;}</code>");
    // Exactly the page's three scripts end: the data, uPlot and the page's own.
    expect(html.match(/<\/script>/g)?.length).toBe(3);
    // The data block carries the names unchanged.
    const data = dataBlock(html) as { defaults: string[]; columns: { checkpoints: { name: string; counters: Record<string, number> }[] }[] };
    expect(data.defaults).toEqual(["thp_fault_alloc", EVIL_COUNTER]);
    expect(data.columns[0]!.checkpoints[0]!.name).toBe("faulted<i>");
    expect(data.columns[0]!.checkpoints[0]!.counters[EVIL_COUNTER]).toBe(1);
  });

  it("loads nothing from anywhere: no src or external href, no @import or url(), uPlot inline", () => {
    const html = renderHtml(htmlReportFromRuns([buildFixture()]));
    const assets = chartAssets();
    expect(html).toContain(assets.script.slice(0, 200));
    const own = html.replace(assets.script, "").replace(assets.style, "");
    expect(own).not.toMatch(/\bsrc\s*=/i);
    expect(own).not.toMatch(/<link\b/i);
    expect(own).not.toMatch(/@import|url\(/i);
    expect(own).not.toMatch(/https?:|\/\/[a-z]/i);
    for (const m of html.matchAll(/href="([^"]*)"/g)) expect(m[1]!.startsWith("#")).toBe(true);
    expect(assets.style).not.toMatch(/@import|url\(/i);
  });

  it("draws one cell per run with its kind and order, hover text and a legend", () => {
    const html = renderHtml(htmlReportFromRuns([buildFixture()]));
    // Parent: pte, mthp, none, pmd, pte, swap; child: pte, pte, mthp, none, pmd, pte, swap.
    expect(kindCounts(html)).toEqual({ pte: 5, mthp: 2, none: 2, pmd: 2, swap: 2 });
    expect(html).toContain('<span class="run" data-kind="mthp" data-order="4" style="flex-grow:64" title="0x20000000-0x20040000 (256K): PTEs of a large folio (mTHP, PTE-mapped THP), folio order 4 (64K), 4 folios"></span>');
    expect(html).toContain('title="0x40000000-0x40200000 (2M): PMD leaf (2M), folio order 9 (2M), 1 folio"');
    expect(html).toContain('<div class="hole">… 255.98M unmapped …</div>');
    expect(html).toContain(`<span>${mapsRange(AT.base, AT.base + 16384, 8)} rw-p</span><span>16K</span>`);
    expect(html).toContain('<li><span class="swatch" data-kind="cont"></span>contiguous PTE run (not on this arch)</li>');
    expect(html).toContain('<rect x="0" y="0" width="1" height="1" data-phys="other" data-order="-1"><title>pfn 0x0-0x1 (4K): other allocations (zero page, kernel)</title></rect>');
    expect(html).toContain(
      '<p class="strip-caption">pfn 0x0-0x40000: 1G, 1019.26M free in the buddy lists, the rest 4856K (pcp 408K, anon 2068K, mthp 256K, thp 2M, page tables 72K, other 4K)</p>',
    );
    expect(html).toContain('<div class="chart" id="chart-0" data-drawn="0"></div>');
    for (const h of ["<h2>Key numbers</h2>", "<h2>Address space by mapping size</h2>", "<h2>Physical memory by free order and use</h2>", "<h2>Counters across checkpoints</h2>", "<h2>Expectations</h2>"]) expect(html).toContain(h);
    expect(html).toContain('<td class="fail">FAIL</td>');
    expect(html).toContain("<caption>2 passed, 1 failed</caption>");
  });

  it("marks coarsened cells and says what they hold", () => {
    const html = renderHtml(htmlReportFromRuns([buildFixture()], { maxRunsPerVma: 1, maxCellsPerZone: 2 }));
    expect(html).toContain('<span class="run" data-kind="mthp" data-order="4" data-mixed style="flex-grow:256" title="0x20000000-0x20100000 (1M), mixed: 768K not populated; 256K PTEs of a large folio (mTHP, PTE-mapped THP), folio order 4 (64K)"></span>');
    expect(html).toContain('<span title="too many runs to draw one by one">cells of 1M</span>');
    expect(html).toMatch(/<rect x="0" y="0" width="131072" height="1" data-phys="free" data-order="10" data-mixed><title>pfn 0x0-0x20000 \(512M\), mixed: /);
  });

  it("puts the arches side by side in compare mode with the comparison table", () => {
    const html = renderHtml(htmlReportFromRuns([buildFixture(), buildFixture(createArm64Backend("4k-48"))]));
    expect(html).toContain("<h2>Comparison</h2>");
    expect(html).toContain("<caption>Side by side: page tables, memory mapped at each size, TLB entries</caption>");
    expect(html).toContain('<th scope="col">x86-64:4level</th><th scope="col">arm64:4k-48</th>');
    expect(html).toContain('<tr><th scope="row">TLB entries to cover every mapping (a contiguous run counts once)</th><td class="num">1162</td><td class="num">1057</td></tr>');
    expect(html).toContain('<tr><th scope="row">Mapped by contiguous PTE runs</th><td class="num">0 kB</td><td class="num">448 kB</td></tr>');
    expect(html.match(/<div class="cols" style="--n:2">/g)?.length).toBe(4);
    expect(html).toContain('<div class="chart" id="chart-1" data-drawn="0"></div>');
    expect(kindCounts(html)["cont"]).toBe(2);
  });

  it("renders the same report the same way every time", () => {
    const r = htmlReportFromRuns([buildFixture()]);
    expect(renderHtml(r)).toBe(renderHtml(r));
  });
});

describe("escaping and formatting helpers", () => {
  it("escapes HTML, script JSON and inline script", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    expect(jsonForScript({ s: "</script><!--&\u2028" })).toBe('{"s":"\\u003c/script\\u003e\\u003c!--\\u0026\\u2028"}');
    expect(JSON.parse(jsonForScript({ s: "</script>\u2029" }))).toEqual({ s: "</script>\u2029" });
    expect(inlineScript('var s = "</SCRIPT>";')).toBe('var s = "<\\/SCRIPT>";');
  });

  it("formats sizes, kB, addresses and maps ranges as the kernel does", () => {
    expect([4096, 65536, 258048, 2 ** 21, 4231168, 268419072, 3 * 2 ** 30, 100].map(shortSize)).toEqual(["4K", "64K", "252K", "2M", "4132K", "255.98M", "3G", "100B"]);
    expect(kB(2 ** 21)).toBe("2048 kB");
    expect(hex(4096)).toBe("0x1000");
    expect(mapsRange(0x1000, 0x2000, 12)).toBe("000000001000-000000002000");
  });
});
