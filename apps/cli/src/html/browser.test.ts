import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { htmlReportFromRuns, type RunLike } from "./extract";
import { renderHtml } from "./render";
import { buildFixture } from "./testing/fixture";

/*
 * The report in a real browser: Debian's Chromium, headless, driven by
 * playwright-core. .ci/run installs the chromium package; where it is
 * missing these tests are skipped with a note saying so.
 */

const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const NO_CHROMIUM = `no Chromium at ${CHROMIUM}: install Debian's chromium package (.ci/run does) to run the browser test`;

interface Loaded {
  readonly page: Page;
  /** Console errors and uncaught page errors. */
  readonly errors: string[];
  /** Every URL the page requested. */
  readonly requests: string[];
}

let browser: Browser | undefined;
let dir = "";

beforeAll(async () => {
  if (!HAVE_CHROMIUM) {
    console.warn(`browser test skipped: ${NO_CHROMIUM}`);
    return;
  }
  dir = mkdtempSync(join(tmpdir(), "hugemm-html-"));
  browser = await chromium.launch({ executablePath: CHROMIUM });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

/** Render the runs to a file and open it, recording errors and requests. */
async function open(runs: readonly RunLike[], name: string): Promise<Loaded> {
  const file = join(dir, `${name}.html`);
  writeFileSync(file, renderHtml(htmlReportFromRuns(runs)));
  const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('#chart-0[data-drawn="1"]', { timeout: 10_000 });
  return { page, errors, requests };
}

/** Rendered cells of the address-space map by kind, counted through their data attributes. */
function runKinds(page: Page): Promise<Record<string, number>> {
  return page.$$eval(".bar > .run", (els) => {
    const out: Record<string, number> = {};
    for (const e of els) {
      const k = e.getAttribute("data-kind") ?? "?";
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  });
}

describe("the HTML report in Chromium", () => {
  it("loads with no errors, fetches nothing, and shows the address-space map, physical map, charts and expects", async (ctx) => {
    ctx.skip(!HAVE_CHROMIUM, NO_CHROMIUM);
    const { page, errors, requests } = await open([buildFixture()], "run");
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(join(dir, "run.html")).href]);

    // Parent: 4K pages, 64K mTHP, a hole, a PMD, the split half, swap; the child adds its COW page.
    expect(await runKinds(page)).toEqual({ pte: 5, mthp: 2, none: 2, pmd: 2, swap: 2 });
    expect(await page.$$eval('.process[data-pid="1"] .run', (els) => els.map((e) => `${e.getAttribute("data-kind")}:${e.getAttribute("data-order")}`))).toEqual([
      "pte:0",
      "mthp:4",
      "none:-1",
      "pmd:9",
      "pte:0",
      "swap:-1",
    ]);
    // Every run is drawn, and the PMD takes half of its 4M VMA's bar.
    const widths = await page.$$eval('.vma[data-start="0x40000000"] .run', (els) => els.map((e) => e.getBoundingClientRect().width));
    expect(widths.length).toBe(4);
    expect(Math.abs(widths[0]! - widths[1]!)).toBeLessThan(2);
    expect(await page.$$eval(".bar > .run", (els) => els.every((e) => e.getBoundingClientRect().width >= 1))).toBe(true);
    expect(await page.getAttribute('.process[data-pid="1"] .run[data-kind="pmd"]', "title")).toBe("0x40000000-0x40200000 (2M): PMD leaf (2M), folio order 9 (2M), 1 folio");

    // The physical map: one strip, drawn, its cells covering the zone.
    const strip = await page.$eval("svg.strip", (svg) => {
      const rects = [...svg.querySelectorAll("rect")];
      return { width: svg.getBoundingClientRect().width, cells: rects.length, pages: rects.reduce((n, r) => n + Number(r.getAttribute("width")), 0), free: svg.querySelectorAll('rect[data-phys="free"]').length };
    });
    expect(strip.width).toBeGreaterThan(500);
    expect(strip.pages).toBe(262144);
    expect(strip.cells).toBeGreaterThan(10);
    expect(strip.free).toBeGreaterThan(5);

    // The chart: uPlot drew a canvas with the default counters as series.
    expect(await page.getAttribute("#chart-0", "data-series")).toBe("4");
    expect(await page.$$eval("#chart-0 canvas", (els) => els.map((e) => Number(e.getAttribute("width")) > 0))).toEqual([true]);
    expect(await page.$$eval("#chart-0 .u-legend .u-series .u-label", (els) => els.map((e) => e.textContent))).toEqual(["checkpoint", "thp_fault_alloc", "thp_fault_fallback", "pgfault", "thp_split_pmd"]);

    // The expect table lists the clauses.
    expect(await page.$$eval(".expects tbody tr td:first-child", (els) => els.map((e) => e.textContent))).toEqual([
      "thp_fault_alloc == 2",
      "mapped_at(0x40000000) == pmd",
      'counter("thp_split_page") > 5',
    ]);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it("charts the counters the user picks and updates their table", async (ctx) => {
    ctx.skip(!HAVE_CHROMIUM, NO_CHROMIUM);
    const { page, errors } = await open([buildFixture()], "pick");
    await page.selectOption("#counter-pick", ["thp_split_page", "thp_deferred_split_page"]);
    await page.waitForSelector('#chart-0[data-series="2"]');
    expect(await page.$$eval("#counters-table-0 thead th", (els) => els.map((e) => e.textContent))).toEqual(["checkpoint", "thp_deferred_split_page", "thp_split_page"]);
    expect(await page.$$eval("#counters-table-0 tbody tr", (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)))).toEqual([
      ["faulted", "0", "0"],
      ["forked", "0", "0"],
      ["split", "0", "1"],
    ]);
    // The filter narrows the list but keeps what is picked.
    await page.fill("#counter-filter", "thp_split");
    const shown = await page.$$eval("#counter-pick option", (os) => os.filter((o) => !o.hasAttribute("hidden")).map((o) => o.getAttribute("value")));
    expect(shown).toEqual(["thp_split_pmd", "thp_deferred_split_page", "thp_split_page", "thp_split_page_failed", "thp_split_pud"]);
    await page.selectOption("#counter-pick", []);
    expect(await page.textContent("#chart-0")).toBe("No counter picked.");
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it("puts two arches side by side, each with its map and chart", async (ctx) => {
    ctx.skip(!HAVE_CHROMIUM, NO_CHROMIUM);
    const { page, errors } = await open([buildFixture(), buildFixture(createArm64Backend("4k-48"))], "compare");
    await page.waitForSelector('#chart-1[data-drawn="1"]');
    expect(await page.$$eval(".col.address", (els) => els.map((e) => e.getAttribute("data-arch")))).toEqual(["x86-64:4level", "arm64:4k-48"]);
    const arm = await page.$$eval('.col.address[data-arch="arm64:4k-48"] .run', (els) => els.filter((e) => e.getAttribute("data-kind") === "cont").length);
    expect(arm).toBe(2);
    // Side by side: the second column starts to the right of the first.
    const [a, b] = await page.$$eval(".col.address", (els) => els.map((e) => e.getBoundingClientRect().left));
    expect(b!).toBeGreaterThan(a! + 400);
    expect(await page.$$eval("#summary-table tbody tr", (rows) => rows.find((r) => r.textContent?.startsWith("TLB entries"))?.textContent)).toBe(
      "TLB entries to cover every mapping (a contiguous run counts once)11621057",
    );
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
