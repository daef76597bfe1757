/**
 * How many cases a property test runs. The default keeps every test well
 * inside a third of its timeout on a busy 2-core machine; HUGEMM_DEEP=1 (or
 * a number, a multiplier) runs ten times as many for a deeper search.
 */
export function propertyRuns(n) {
  const deep = process.env.HUGEMM_DEEP;
  if (deep === undefined || deep === "" || deep === "0") return n;
  const m = deep === "1" ? 10 : Number(deep);
  if (!Number.isFinite(m) || m < 1) throw new RangeError(`HUGEMM_DEEP=${deep}: expected 1 (ten times the runs) or a multiplier >= 1`);
  return Math.ceil(n * m);
}
