import { describe, expect, it } from "vitest";
import { parseKernelOutput } from "./kernel-output";

describe("the executor's output", () => {
  it("parses step outcomes, baselines and a checkpoint's views", () => {
    const out = parseKernelOutput(
      [
        "arena 7f0000000000",
        "build softdirty 0",
        "baseline 1",
        "status RssAnon 216",
        "rollup Anonymous 216",
        "ok -1",
        "ok 0",
        "err 1 ENOMEM",
        "fault 2 SIGSEGV 3",
        "unsupported 3 no such file /x",
        "checkpoint c",
        "proc 1",
        "status RssAnon 2264",
        "range buf 2097152",
        "vma buf 0 2097152 rw-p Size=2048 AnonHugePages=2048 THPeligible=1 VmFlags=rd,wr,mr",
        "census buf 8100000000000000:40d000:1:9*1,8100000000000000:415000:1:9*511",
        "judged thp_fault_alloc 1",
        "vmstat pgfault 12",
        "meminfo MemFree 100",
        "endcheckpoint",
        "done 0",
      ].join("\n"),
    );
    expect(out.arena).toBe(0x7f0000000000);
    expect(out.build).toEqual({ softdirty: 0 });
    expect(out.baselines.get(1)).toEqual({ status: { RssAnon: 216 }, rollup: { Anonymous: 216 } });
    expect([...out.steps.values()].map((s) => s.outcome)).toEqual(["ok", "ok", "ENOMEM", "SIGSEGV", "unsupported"]);
    const c = out.checkpoints[0]!;
    const r = c.procs.get(1)!.ranges.get("buf")!;
    expect(r.vmas).toEqual([{ start: 0, end: 2097152, perms: "rw-p", fields: { Size: 2048, AnonHugePages: 2048, THPeligible: 1 }, vmFlags: "rd,wr,mr" }]);
    expect(r.census).toBe("po9m1x*512");
    expect(c.judged).toEqual({ thp_fault_alloc: 1 });
    expect(c.vmstat.pgfault).toBe(12);
  });

  it("keeps the error that stopped the run and names a record it does not know", () => {
    expect(parseKernelOutput("fatal 4 process 2 (pid 99) died: killed by SIGKILL\n").fatal).toEqual({ step: 4, message: "process 2 (pid 99) died: killed by SIGKILL" });
    expect(() => parseKernelOutput("bogus 1\n")).toThrow('executor output: unknown record "bogus 1"');
    expect(() => parseKernelOutput("proc 1\n")).toThrow('"proc 1" outside a checkpoint');
  });
});
