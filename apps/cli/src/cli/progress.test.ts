import { describe, expect, it } from "vitest";
import { makeProgress } from "./progress";

describe("the progress bar", () => {
  it("draws at most every 100 ms, always the last step, and erases itself", () => {
    let t = 0;
    let s = "";
    const p = makeProgress((x) => (s += x), () => t);
    p.update(0, 4, "mmap");
    p.update(1, 4, "write");
    t = 150;
    p.update(2, 4, "fork");
    p.update(4, 4, "exit");
    p.done();
    const frames = s.split("\r").filter((f) => f.trim() !== "");
    expect(frames.map((f) => f.trimEnd())).toEqual(["[............................] 0/4 mmap", "[##############..............] 2/4 fork", "[############################] 4/4 exit"]);
    expect(s.endsWith(`\r${" ".repeat(78)}\r`)).toBe(true);
  });
});
