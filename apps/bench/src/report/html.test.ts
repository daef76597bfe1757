import { describe, expect, it } from "vitest";
import type { FootprintPoint } from "../footprint/measure";
import { fromRates } from "../harness";
import { GiB } from "../workloads/arena";
import { renderHtml } from "./html";
import { SCHEMA, type BenchReport } from "./json";
import { barChartSvg, lineChartSvg } from "./svg";
import { evaluateTargets } from "./targets";

const VOID = new Set(["meta", "br", "hr", "img", "input", "link"]);

/** Tags open and close in order (self-closing allowed in SVG), attributes are quoted, and entities are escaped. */
function assertWellFormed(doc: string): void {
  const stack: string[] = [];
  const body = doc.replace(/^<!DOCTYPE html>/, "");
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|&(?!amp;|lt;|gt;|quot;)/g)) {
    if (m[0] === "<") throw new Error(`malformed tag at ${m.index}: ${body.slice(m.index, m.index + 60)}`);
    if (m[0].startsWith("&")) throw new Error(`unescaped & at ${m.index}: ${body.slice(m.index, m.index + 30)}`);
    const [, close, name, , self] = m;
    if (self === "/" || (!close && VOID.has(name!))) continue;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at ${m.index}`);
    } else stack.push(name!);
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(" > ")}`);
}

const pt = (kind: "4k" | "pmd" | "pud", g: number, perUnit: number): FootprintPoint => ({
  kind,
  mappedBytes: g * GiB,
  memoryBytes: (g + 1) * GiB,
  units: 1,
  deltaBytes: perUnit,
  heapUsedDelta: 0,
  arrayBuffersDelta: 0,
  bytesPerUnit: perUnit,
});

function sampleReport(): BenchReport {
  const metrics = { "fault.anon.4k.ops_per_s": 1.4e6, "ratio.fault.anon.4k": 1.8, "heap.bytes_per_4k_page": 44, "heap.growth.pmd_thp": 0.7, "ratio.munmap.4k": 0.16 };
  return {
    schema: SCHEMA,
    mode: "full",
    date: "2026-01-01T00:00:00.000Z",
    only: null,
    durationSeconds: 100,
    machine: { cpuModel: "Test <CPU> & co", cpuArch: "x64", cpus: 2, memoryBytes: 24 * GiB, node: "v20", v8: "11", platform: "linux", kernel: "6.18", thp: { enabled: "always [madvise] never" }, cc: "cc 12", model: "x86-64" },
    metrics,
    ranges: { "ratio.fault.anon.4k": { min: 1.5, max: 2 } },
    targets: evaluateTargets(metrics),
    footprint: { method: "heapUsed + external", points: [pt("4k", 1, 46), pt("4k", 2, 44), pt("pmd", 1, 660), pt("pmd", 2, 465), pt("pud", 2, 141e3), pt("pud", 4, 133e3)] },
    kernel: { status: "measured", compiler: "cc 12", notes: ["THP: 100.0% of the THP run was mapped huge"] },
    measurements: [fromRates("fault.anon.4k", "faults", { pages: 1 }, [1.4e6, 1.3e6, 1.5e6])],
    missing: [],
  };
}

describe("HTML report", () => {
  it("is checked by a checker that catches broken markup", () => {
    expect(() => assertWellFormed("<svg><g></svg>")).toThrow("</svg> closes <g>");
    expect(() => assertWellFormed("<p>a & b</p>")).toThrow("unescaped &");
    expect(() => assertWellFormed("<p class=x>")).toThrow("malformed tag");
    expect(() => assertWellFormed("<div><p></p>")).toThrow("unclosed: div");
  });

  it("is one well-formed, self-contained page", () => {
    const html = renderHtml(sampleReport());
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    assertWellFormed(html);
    // Nothing fetched: no scripts, stylesheets, images or links out.
    expect(html).not.toMatch(/<script|<link|<img|\bsrc=|\bhref=|url\(|@import/);
    expect(html).toContain("Test &lt;CPU&gt; &amp; co");
  });

  it("charts the scaling series and the targets", () => {
    const html = renderHtml(sampleReport());
    for (const s of ["bytes per 4K page", "bytes per PMD THP", "bytes per PUD THP"]) expect(html).toContain(`data-series="${s}"`);
    expect(html).toContain("target: 32 B per 4K page");
    expect(html).toContain('data-label="fault.anon.4k.ops_per_s"');
    expect(html).toContain('data-label="heap.bytes_per_4k_page"');
    expect(html).toContain("missed: 1.4M of 3M (47%)");
    // The model against the kernel.
    expect(html).toContain('data-label="munmap.4k"');
    expect((html.match(/<svg /g) ?? []).length).toBe(3);
  });

  it("draws one point per measured size on log axes", () => {
    const svg = lineChartSvg({ title: "t", xLabel: "x", yLabel: "y", xTick: (x) => `${x}`, yTick: (y) => `${y}`, series: [{ name: "a", color: "#000", points: [[1, 10], [2, 100], [4, 1000]] }] });
    assertWellFormed(svg);
    expect((svg.match(/<circle /g) ?? []).length).toBe(3);
    expect(svg).toMatch(/<polyline [^>]*points="[\d., ]+"/);
    const bars = barChartSvg("b", [{ label: "x", value: 0.5, text: "half", good: false }], "target");
    assertWellFormed(bars);
    expect(bars).toContain('class="bad"');
  });

  it("says so when there is nothing to draw", () => {
    const svg = lineChartSvg({ title: "t", xLabel: "x", yLabel: "y", xTick: String, yTick: String, series: [] });
    assertWellFormed(svg);
    expect(svg).toContain("no data");
  });
});
