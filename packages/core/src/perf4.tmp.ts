import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { Kernel, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "./index";
const GiB = 2 ** 30;
const mode = process.argv[2] ?? "fault";
let tf = 0, tu = 0, n = 0;
for (let rep = 0; rep < 8; rep++) {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "4G", check: false });
  k.thp.set("enabled", "never");
  const mm = k.createMm();
  const r = k.mmap(mm, { len: GiB, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  if (!r.ok) throw new Error();
  const t0 = performance.now();
  k.touch(mm, r.value, GiB, true);
  const t1 = performance.now();
  if (mode === "munmap") k.munmap(mm, r.value, GiB);
  const t2 = performance.now();
  if (rep > 1) { tf += t1 - t0; tu += t2 - t1; n++; }
}
console.log("faults/s", (262144 * n / tf * 1000).toFixed(0), "munmap pages/s", (262144 * n / tu * 1000).toFixed(0));
