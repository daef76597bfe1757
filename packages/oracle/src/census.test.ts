import fc from "fast-check";
import { propertyRuns } from "@hugemm/vitest-config/runs";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { censusFromBytes, censusFromRecords, censusSummary, decodeRuns, encodeRuns, pageToken } from "./census";

/** Little-endian bytes of a run of hex u64s as /proc prints them when read as text ("%016llx" each). */
function u64s(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < hex.length / 16; i++) {
    const word = hex.slice(i * 16, i * 16 + 16);
    for (let b = 0; b < 8; b++) out[i * 8 + b] = parseInt(word.slice(14 - b * 2, 16 - b * 2), 16);
  }
  return out;
}

describe("pageToken", () => {
  it("reads present, swapped and none from the pagemap bits", () => {
    expect(pageToken("0", "0", 0, 0)).toBe("n");
    expect(pageToken("4000000000000123", "0", 0, 0)).toBe("s");
    expect(pageToken("8100000000000000", "40d000", 1, 9)).toBe("po9m1x");
    expect(pageToken("8000000000000000", "415000", 2, 9)).toBe("po9m2");
  });
  it("tells the zero page, the huge zero folio and file pages apart", () => {
    expect(pageToken("8000000000000000", "1000000", 0, 0)).toBe("pzm0");
    expect(pageToken("a000000000000000", "1400000", 0, 9)).toBe("po9Zfm0");
    expect(pageToken("a100000000000000", "4028", 1, 0)).toBe("pfm1x");
  });
});

describe("runs", () => {
  it("encode and decode round trip (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("n", "s", "pm1x", "po9m2", "pzm0"), { maxLength: 300 }), (tokens) => {
        expect(decodeRuns(encodeRuns(tokens))).toEqual(tokens);
      }),
      { seed: 10, numRuns: propertyRuns(200) },
    );
  });
  it("rejects a malformed run", () => {
    expect(() => decodeRuns("pm1x*0")).toThrow(/bad run "pm1x\*0"/);
    expect(() => censusFromRecords("8000:0:1")).toThrow(/bad record/);
  });
  it("summarises a census by kind", () => {
    expect(censusSummary("po9m1x*512,pm1x*1,n*1,pzm0*2")).toEqual({ "order-9": 512, "order-0": 1, none: 1, zero: 2 });
  });
});

describe("the census of recorded /proc bytes", () => {
  const rec = JSON.parse(readFileSync(new URL("./testdata/census-thp.json", import.meta.url), "utf8")) as Record<string, string | number>;
  const windows = [
    { base: rec.pfnBase as number, kpageflags: u64s(rec.kpageflags as string), kpagecount: u64s(rec.kpagecount as string) },
    { base: rec.smallPfn as number, kpageflags: u64s(rec.smallFlags as string), kpagecount: u64s(rec.smallCount as string) },
  ];

  it("finds the THP's order from its head and tails, the 4K page and the untouched one", () => {
    expect(censusFromBytes(u64s(rec.pagemap as string), windows)).toBe("po9m1x*512,pm1x*1,n*1");
  });

  it("agrees with the executor's records of the same pages", () => {
    // The executor masks the pfn and keeps only the flags the census reads; the tokens are the same.
    expect(censusFromRecords("8100000000000000:40d000:1:9*1,8100000000000000:415000:1:9*511,8100000000000000:4028:1:0*1,0:0:0:0*1")).toBe("po9m1x*512,pm1x*1,n*1");
  });

  it("reads a frame outside every window as no flags and no mappings", () => {
    expect(censusFromBytes(u64s(rec.pagemap as string).slice(512 * 8, 513 * 8), [])).toBe("pm0x*1");
  });
});
