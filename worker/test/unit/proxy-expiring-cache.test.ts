import { describe, expect, it } from "vitest";
import { ExpiringCache } from "../../src/proxy/expiring-cache.ts";

function clockedCache(maxEntries: number) {
  let now = 1_000;
  const cache = new ExpiringCache<string>(maxEntries, () => now);
  let loads = 0;
  const load = (value: string) => () => {
    loads++;
    return Promise.resolve(value);
  };
  return { cache, load, loads: () => loads, advance: (ms: number) => (now += ms) };
}

describe("ExpiringCache", () => {
  it("serves a value for the TTL, then loads again", async () => {
    const { cache, load, loads, advance } = clockedCache(10);
    expect(await cache.get("foo", 1_000, load("a"))).toBe("a");
    advance(999);
    expect(await cache.get("foo", 1_000, load("b"))).toBe("a");
    advance(1);
    expect(await cache.get("foo", 1_000, load("c"))).toBe("c");
    expect(loads()).toBe(2);
  });

  it("keeps nothing when the TTL is 0", async () => {
    const { cache, load, loads } = clockedCache(10);
    await cache.get("foo", 0, load("a"));
    expect(await cache.get("foo", 0, load("b"))).toBe("b");
    expect(loads()).toBe(2);
    expect(cache.size).toBe(0);
  });

  it("shares one load between concurrent misses", async () => {
    const { cache, load, loads } = clockedCache(10);
    const values = await Promise.all([cache.get("foo", 1_000, load("a")), cache.get("foo", 1_000, load("b"))]);
    expect(values).toEqual(["a", "a"]);
    expect(loads()).toBe(1);
  });

  it("does not keep a failed load", async () => {
    const { cache, load } = clockedCache(10);
    await expect(cache.get("foo", 1_000, () => Promise.reject(new Error("D1 down")))).rejects.toThrow("D1 down");
    expect(await cache.get("foo", 1_000, load("a"))).toBe("a");
  });

  it("never holds more than maxEntries, pushing out the oldest", async () => {
    const { cache, load, loads } = clockedCache(3);
    for (let i = 0; i < 100; i++) await cache.get(`random${i}`, 1_000, load(`v${i}`));
    expect(cache.size).toBe(3);
    const before = loads();
    expect(await cache.get("random99", 1_000, load("new"))).toBe("v99");
    expect(await cache.get("random0", 1_000, load("again"))).toBe("again");
    expect(loads()).toBe(before + 1);
  });

  it("forgets a key on delete", async () => {
    const { cache, load } = clockedCache(10);
    await cache.get("foo", 60_000, load("a"));
    cache.delete("foo");
    expect(await cache.get("foo", 60_000, load("b"))).toBe("b");
  });
});
