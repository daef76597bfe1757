import { describe, expect, it } from "vitest";
import { parseAddressExpr } from "./address";

describe("parseAddressExpr", () => {
  it.each([
    ["0x40000000", { base: 0x40000000, offset: 0 }],
    ["4096", { base: 4096, offset: 0 }],
    ["buf", { base: "buf", offset: 0 }],
    ["buf+2M", { base: "buf", offset: 2 ** 21 }],
    ["buf-4K", { base: "buf", offset: -4096 }],
    ["buf + 2M - 4K", { base: "buf", offset: 2 ** 21 - 4096 }],
    ["0x1000+0x1000", { base: 0x1000, offset: 0x1000 }],
    ["_x1+1G", { base: "_x1", offset: 2 ** 30 }],
  ])("%s", (text, want) => {
    expect(parseAddressExpr(text)).toEqual(want);
  });

  it.each(["", "buf*2", "2buf", "buf+", "buf+2Q", "my-buf", "+4K"])("refuses %j", (text) => {
    expect(parseAddressExpr(text)).toBeNull();
  });
});
