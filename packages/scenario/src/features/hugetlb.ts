import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, hugetlbOf, installHugetlb, type Hugetlb } from "@hugemm/hugetlb";
import { ModelInputError, type AddressSpace, type Kernel } from "@hugemm/core";
import type { z } from "zod";
import { bool, obj, size, text } from "../fields";
import { registerCounterSource, registerFileSystem, registerKernelSetup, registerSetting, registerStep, type StepDefinition } from "../registry";
import { sysOutcome } from "../steps/outcome";

/** A `files:` entry's hugetlbfs mount options: pagesize=, size= and min_size=. */
export interface HugetlbfsSpec {
  readonly pagesize?: number | string;
  readonly size?: number | string;
  readonly min_size?: number | string;
}

/** A hugetlbfs file of `bytes` on its own mount with the entry's options. */
function hugetlbfsFile(k: Kernel, name: string, bytes: number | string, spec: HugetlbfsSpec): AddressSpace {
  const ht = hugetlbOf(k);
  const m = ht.mount({
    ...(spec.pagesize === undefined ? {} : { pagesize: spec.pagesize }),
    ...(spec.size === undefined ? {} : { size: spec.size }),
    ...(spec.min_size === undefined ? {} : { minSize: spec.min_size }),
  });
  if ("ok" in m) throw new ModelInputError("hugetlbfs min_size", spec.min_size ?? "", `a minimum the pool can reserve at mount (${m.errno}: ${m.reason})`);
  return ht.createFile(name, bytes, m);
}

/** The hugetlb counters: hugetlb.<sysfs or sysctl path, with / as .> (hugetlb.hugepages-2048kB.nr_hugepages, hugetlb.vm.nr_hugepages). */
function hugetlbCounters(k: Kernel): Record<string, number> {
  const out: Record<string, number> = {};
  const ht = k.feature<Hugetlb>("hugetlb");
  if (ht === undefined) return out;
  for (const [path, v] of Object.entries(ht.sysfs())) out[path.replace(/^hugepages\//, "").replaceAll("/", ".")] = v;
  return out;
}

const fallocateArg = obj({ file: text, offset: size.optional(), len: size, punch_hole: bool.optional(), keep_size: bool.optional() });

/** fallocate(2) of a hugetlbfs file: allocate its pages, or punch a hole (with keep_size, as the kernel requires). */
const fallocate: StepDefinition<z.output<typeof fallocateArg>> = {
  schema: fallocateArg,
  summary: "fallocate(2) of a hugetlbfs file: allocate pages, or punch_hole (with keep_size) to free them",
  scope(s, a) {
    s.file(a.file, "file");
  },
  run(ctx, a) {
    const mode = (a.punch_hole === true ? FALLOC_FL_PUNCH_HOLE : 0) | (a.keep_size === true || a.punch_hole === true ? FALLOC_FL_KEEP_SIZE : 0);
    return sysOutcome(hugetlbOf(ctx.k).fallocate(ctx.file(a.file, "file"), mode, a.offset === undefined ? 0 : ctx.size(a.offset, "offset"), ctx.size(a.len, "len")));
  },
};

const truncateArg = obj({ file: text, size });

/** ftruncate(2) of a hugetlbfs file. */
const truncate: StepDefinition<z.output<typeof truncateArg>> = {
  schema: truncateArg,
  summary: "ftruncate(2) of a hugetlbfs file: pages past the new size are unmapped and freed",
  scope(s, a) {
    s.file(a.file, "file");
  },
  run(ctx, a) {
    return sysOutcome(hugetlbOf(ctx.k).truncate(ctx.file(a.file, "file"), ctx.size(a.size, "size")));
  },
};

/**
 * hugetlb in scenarios: installed on every kernel; the settings
 * hugepages/hugepages-<size>kB/{nr_hugepages,nr_overcommit_hugepages},
 * node<N>/hugepages/hugepages-<size>kB/nr_hugepages, vm/nr_hugepages and
 * vm/nr_overcommit_hugepages; `files:` entries with `hugetlbfs:`; the
 * fallocate and truncate steps; the hugetlb.* counters.
 */
export function installHugetlbScenario(): void {
  registerKernelSetup("hugetlb", (k) => void installHugetlb(k));
  const apply = (k: Kernel, key: string, value: string) => hugetlbOf(k).applySetting(key, value);
  registerSetting("hugepages/", (k, key, value) => apply(k, `hugepages/${key}`, value));
  registerSetting("node", (k, key, value) => apply(k, `node${key}`, value));
  // vm/nr_hugepages and vm/nr_overcommit_hugepages (a prefix needs a key after it).
  registerSetting("vm/nr_", (k, key, value) => apply(k, `vm/nr_${key}`, value));
  registerFileSystem("hugetlbfs", (k, name, bytes, spec) => hugetlbfsFile(k, name, bytes, spec as HugetlbfsSpec));
  registerStep("fallocate", fallocate);
  registerStep("truncate", truncate);
  registerCounterSource("hugetlb.", hugetlbCounters);
}
