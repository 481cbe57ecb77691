import { describe, expect, it } from "vitest";
import { appendVia, hopsThrough } from "../../src/proxy/loops.ts";

const ID = "daeploy-0123456789ab";

describe("hopsThrough", () => {
  it("is 0 without Via, or when this gateway is not in it", () => {
    expect(hopsThrough(null, ID)).toBe(0);
    expect(hopsThrough("", ID)).toBe(0);
    expect(hopsThrough("1.1 varnish, HTTP/2 cdn.example", ID)).toBe(0);
  });

  it("counts only entries received by this gateway, among other proxies", () => {
    expect(hopsThrough(`1.1 ${ID}`, ID)).toBe(1);
    expect(hopsThrough(`1.1 ${ID}, 1.0 fred, 1.1 ${ID} (daeploy), HTTP/2 cdn`, ID)).toBe(2);
  });

  it("does not count another gateway whose id merely contains this one", () => {
    expect(hopsThrough(`1.1 ${ID}ff, 1.1 x${ID}`, ID)).toBe(0);
  });

  it("ignores commas and ids inside comments", () => {
    expect(hopsThrough(`1.1 proxy (saw 1.1 ${ID}, twice), 1.1 ${ID}`, ID)).toBe(1);
  });

  it("reads its own appended value back, so every pass adds exactly one hop", () => {
    let via: string | null = "1.0 fred";
    for (let pass = 1; pass <= 5; pass++) {
      via = appendVia(via, ID);
      expect(hopsThrough(via, ID)).toBe(pass);
    }
    expect(via).toBe(`1.0 fred, ${Array(5).fill(`1.1 ${ID}`).join(", ")}`);
  });
});

describe("appendVia", () => {
  it("starts a Via of its own when none came in", () => {
    expect(appendVia(null, ID)).toBe(`1.1 ${ID}`);
    expect(appendVia("  ", ID)).toBe(`1.1 ${ID}`);
  });
});
