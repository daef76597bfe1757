import { parseScenario, runScenario } from "@hugemm/scenario";
import { expect, it } from "vitest";
import { encodeRuns } from "./census";
import { modelCensus } from "./model-census";
import { modelPageToken } from "./model-views";

const SCENARIO = `name: census
machine: { arch: x86-64, memory: 512M, swap: 64M }
settings:
  transparent_hugepage/enabled: always
  transparent_hugepage/hugepages-64kB/enabled: always
files:
  shm: { size: 1M, shmem: true }
steps:
  - mmap: { pid: 1, as: thp, len: 4M, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: thp, len: 2M, pattern: 1 }
  - read: { pid: 1, at: thp+2M, len: 2M }
  - mprotect: { pid: 1, at: thp+1M, len: 4K, prot: r }
  - mmap: { pid: 1, as: small, len: 192K, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: small, len: 100K, pattern: 2 }
  - read: { pid: 1, at: small+128K, len: 64K }
  - mmap: { pid: 1, as: s, len: 1M, prot: rw, flags: shared, file: shm }
  - write: { pid: 1, at: s, len: 256K, pattern: 3 }
  - pageout: { pid: 1, at: small, len: 64K }
  - fork: { pid: 1, child: 2 }
  - write: { pid: 2, at: thp+8K, len: 4K, pattern: 4 }
  - checkpoint: mixed
`;

it("reads every page of a range as walkAddress does: THPs by PMD and by PTE, mTHP, zero pages, shmem, swap, shared", () => {
  const s = parseScenario(SCENARIO, "census.yaml");
  let seen = 0;
  runScenario(s, {
    onCheckpoint(name, st) {
      if (name !== "mixed") return;
      for (const [pid, names] of st.names) {
        const mm = st.processes.get(pid)!;
        for (const [range, len] of [["thp", 4 << 20], ["small", 192 << 10], ["s", 1 << 20]] as const) {
          const at = names.get(range)!;
          const slow: string[] = [];
          for (let a = at; a < at + len; a += 4096) slow.push(modelPageToken(st.kernel, mm, a));
          expect(modelCensus(st.kernel, mm, at, len), `pid ${pid} ${range}`).toBe(encodeRuns(slow));
          seen += slow.length;
        }
      }
    },
  });
  expect(seen).toBe(2 * (1024 + 48 + 256));
});
