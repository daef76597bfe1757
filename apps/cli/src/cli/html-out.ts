import { writeFileSync } from "node:fs";
import type { RunResult } from "@hugemm/scenario";
import { htmlReportFromRuns, renderHtml } from "../html";
import type { CommandContext } from "./command";
import { UsageError } from "./errors";

/** Write the HTML report of `runs` to `file`, with a note saying where and how big. */
export function writeHtmlReport(cmd: string, file: string, runs: readonly RunResult[], mode: "run" | "compare", ctx: CommandContext): void {
  const html = renderHtml(htmlReportFromRuns(runs.map((r) => ({ ...r, scenarioName: r.scenario.name })), { mode }));
  try {
    writeFileSync(file, html);
  } catch (e) {
    throw new UsageError(`${cmd}: cannot write --html ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)}): expected a writable file path`);
  }
  ctx.note(`wrote ${file} (${Math.ceil(html.length / 1024)} KiB)`);
}
