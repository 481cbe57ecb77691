import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  cutBody,
  type EvidenceBatch,
  EvidenceBatcher,
  type ExchangeSample,
  SAMPLE_BODY_BYTES,
  type ShadowResult,
  sampleSide,
} from "../../src/evidence/batch.ts";
import { LatencyHistogram } from "../../src/evidence/histogram.ts";

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

function result(extra: Partial<ShadowResult> = {}): ShadowResult {
  return {
    version: "2.0.0",
    baseline: "1.0.0",
    at: T0,
    outcome: "compared",
    differences: [],
    mainError: false,
    latencyMs: { main: 10, shadow: 20 },
    route: "GET /x",
    ...extra,
  };
}

function sample(body = "{}"): ExchangeSample {
  const side = { status: 200, headers: {}, body, truncated: false };
  return {
    at: new Date(T0).toISOString(),
    requestId: "r",
    method: "GET",
    url: "/x",
    paths: [],
    main: side,
    shadow: side,
  };
}

function harness(options: ConstructorParameters<typeof EvidenceBatcher>[1] = {}) {
  const sent: { name: string; batch: EvidenceBatch }[] = [];
  const logs: string[] = [];
  let fail = false;
  const batcher = new EvidenceBatcher(
    async (name, batch) => {
      if (fail) throw new Error("ledger overloaded");
      sent.push({ name, batch });
    },
    { log: (line) => logs.push(line), ...options },
  );
  const pending: Promise<unknown>[] = [];
  const waitUntil = (promise: Promise<unknown>) => {
    pending.push(promise);
  };
  return {
    batcher,
    sent,
    logs,
    waitUntil,
    pending,
    failNext: (value: boolean) => {
      fail = value;
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("EvidenceBatcher", () => {
  it("sends one batch per name per second however many results arrive", async () => {
    const { batcher, sent, waitUntil, pending } = harness();
    for (let i = 0; i < 500; i++) {
      batcher.addShadow(
        "hello",
        result({ differences: i % 10 === 0 ? [{ path: "body.a", kind: "value" }] : [] }),
        waitUntil,
      );
      batcher.addShadow("other", result(), waitUntil);
    }
    expect(pending).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all(pending);
    expect(sent.map((s) => s.name).sort()).toEqual(["hello", "other"]);
    const hello = sent.find((s) => s.name === "hello")?.batch;
    expect(hello?.shadows).toHaveLength(1);
    expect(hello?.shadows[0]).toMatchObject({
      version: "2.0.0",
      minute: Math.floor(T0 / 60_000),
      mirrored: 500,
      compared: 500,
      signatures: { "GET /x\tbody.a value": 50 },
      routes: { "GET /x": 500 },
    });
    const main = LatencyHistogram.fromJson(hello?.shadows[0]?.latencyMain);
    const shadow = LatencyHistogram.fromJson(hello?.shadows[0]?.latencyShadow);
    expect(main.count).toBe(500);
    expect(Math.abs(shadow.quantile(0.5) - 20)).toBeLessThan(1);
    expect(batcher.stats.flushes).toBe(2);
  });

  it("opens a fresh batch after a flush, so writes stay a second apart", async () => {
    const { batcher, sent, waitUntil, pending } = harness();
    batcher.addShadow("hello", result(), waitUntil);
    await vi.advanceTimersByTimeAsync(1000);
    batcher.addShadow("hello", result(), waitUntil);
    batcher.addShadow("hello", result(), waitUntil);
    await vi.advanceTimersByTimeAsync(500);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(500);
    await Promise.all(pending);
    expect(sent.map((s) => s.batch.shadows[0]?.mirrored)).toEqual([1, 2]);
  });

  it("gives every copy one outcome per version and minute: compared, notCompared, error, down, or skipped", async () => {
    const { batcher, sent, waitUntil } = harness();
    const status = [{ path: "status", kind: "value" as const }];
    batcher.addShadow("hello", result({ outcome: "error", latencyMs: undefined }), waitUntil);
    // An error is an error, not also the differences its answer shows.
    batcher.addShadow("hello", result({ outcome: "error", differences: status }), waitUntil);
    batcher.addShadow("hello", result({ outcome: "notCompared", mainError: true }), waitUntil);
    batcher.addShadow("hello", result({ outcome: "notCompared", differences: status }), waitUntil);
    batcher.addShadow("hello", result({ at: T0 + 60_000 }), waitUntil);
    batcher.addShadow("hello", result({ version: "3.0.0" }), waitUntil);
    batcher.addDown("hello", "2.0.0", "1.0.0", T0, waitUntil);
    batcher.addSkipped("hello", "2.0.0", "1.0.0", T0, waitUntil);
    await batcher.flush("hello");
    const shadows = sent[0]?.batch.shadows ?? [];
    expect(shadows.map((m) => [m.version, m.minute - Math.floor(T0 / 60_000), m.mirrored])).toEqual([
      ["2.0.0", 0, 4],
      ["2.0.0", 1, 1],
      ["3.0.0", 0, 1],
    ]);
    expect(shadows[0]).toMatchObject({
      compared: 0,
      notCompared: 2,
      errorsShadow: 2,
      down: 1,
      skipped: 1,
      unrecorded: 0,
      errorsMain: 1,
      signatures: {},
      partialSignatures: { "GET /x\tstatus value": 1 },
    });
    expect(LatencyHistogram.fromJson(shadows[0]?.latencyShadow).count).toBe(3);
  });

  it("keeps a shadow's copies compared with two mains apart, in one batch", async () => {
    const { batcher, sent, waitUntil } = harness();
    batcher.addShadow("hello", result(), waitUntil);
    // The same minute, after a promotion: the same shadow against the new main.
    batcher.addShadow(
      "hello",
      result({ baseline: "1.5.0", differences: [{ path: "body.price", kind: "value" }] }),
      waitUntil,
    );
    batcher.addDown("hello", "2.0.0", "1.5.0", T0, waitUntil);
    await batcher.flush("hello");
    expect(sent).toHaveLength(1);
    const shadows = sent[0]?.batch.shadows ?? [];
    expect(shadows.map((m) => [m.version, m.baseline, m.mirrored, m.down])).toEqual([
      ["2.0.0", "1.0.0", 1, 0],
      ["2.0.0", "1.5.0", 1, 1],
    ]);
    expect(shadows[1]?.signatures).toEqual({ "GET /x\tbody.price value": 1 });
  });

  it("counts main's own traffic per version and minute, by status class, in the evidence's batch", async () => {
    const { batcher, sent, waitUntil, pending } = harness();
    for (const status of [200, 204, 101, 301, 404, 503, 0])
      batcher.addMain("hello", "1.0.0", T0, status, 10, waitUntil);
    batcher.addMain("hello", "1.0.0", T0 + 60_000, 200, 30, waitUntil);
    batcher.addShadow("hello", result(), waitUntil);
    // One timer for the name, whatever was added: at most one write per interval.
    expect(pending).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all(pending);
    expect(sent).toHaveLength(1);
    const main = sent[0]?.batch.main ?? [];
    expect(main.map((m) => [m.version, m.minute - Math.floor(T0 / 60_000), m.requests, m.status])).toEqual([
      // 1xx is main answering (a switched protocol); 0 is main never answering, which the client got as 502/504.
      ["1.0.0", 0, 7, [3, 1, 1, 2]],
      ["1.0.0", 1, 1, [1, 0, 0, 0]],
    ]);
    expect(LatencyHistogram.fromJson(main[1]?.latency).summary().p99).toBeCloseTo(30, -1);
    expect(sent[0]?.batch.shadows).toHaveLength(1);
  });

  it("puts a timed-out copy into the shadow's latency at no less than its timeout", async () => {
    const { batcher, sent, waitUntil } = harness();
    batcher.addShadow(
      "hello",
      result({ outcome: "error", latencyMs: { main: 5, shadow: 300, atLeast: true } }),
      waitUntil,
    );
    await batcher.flush("hello");
    const shadow = LatencyHistogram.fromJson(sent[0]?.batch.shadows[0]?.latencyShadow);
    expect(shadow.summary().p99).toBeGreaterThanOrEqual(300);
    expect(shadow.summary().p99).toBeLessThan(300 * 1.05);
  });

  it("counts noise per minute, route, path and kind, once per exchange", async () => {
    const { batcher, sent, waitUntil } = harness();
    for (let i = 0; i < 4; i++) {
      batcher.addNoise(
        "hello",
        {
          main: "1.0.0",
          at: T0,
          route: i < 3 ? "GET /clock" : "GET /other",
          differences:
            i === 0
              ? [
                  { path: "body.time", kind: "value" },
                  { path: "body.time", kind: "type" },
                ]
              : [],
        },
        waitUntil,
      );
    }
    await batcher.flush("hello");
    expect(sent[0]?.batch.noise).toEqual([
      {
        main: "1.0.0",
        minute: Math.floor(T0 / 60_000),
        sampled: 4,
        routes: { "GET /clock": 3, "GET /other": 1 },
        paths: { "GET /clock\tbody.time value": 1, "GET /clock\tbody.time type": 1 },
      },
    ]);
  });

  it("offers five samples per version and path at a time, and fresh ones again while differences keep coming", async () => {
    const { batcher, sent, waitUntil } = harness({ sampleWindowMs: 5_000 });
    let built = 0;
    const differing = result({
      differences: [{ path: "body.a", kind: "value" }],
      sample: () => {
        built++;
        return sample();
      },
    });
    for (let i = 0; i < 20; i++) batcher.addShadow("hello", differing, waitUntil);
    await batcher.flush("hello");
    for (let i = 0; i < 20; i++) batcher.addShadow("hello", differing, waitUntil);
    await batcher.flush("hello");
    expect(built).toBe(5);
    expect(sent[0]?.batch.samples).toHaveLength(5);
    expect(sent[1]?.batch.samples).toHaveLength(0);
    expect(sent[0]?.batch.samples[0]?.version).toBe("2.0.0");
    await vi.advanceTimersByTimeAsync(5_000);
    for (let i = 0; i < 20; i++) batcher.addShadow("hello", differing, waitUntil);
    await batcher.flush("hello");
    expect(sent[2]?.batch.samples).toHaveLength(5);
    expect(built).toBe(10);
  });

  it("bounds the distinct fields of a version in a batch: past the cap, new fields are body many", async () => {
    const { batcher, sent, waitUntil } = harness({ maxFields: 3 });
    for (let i = 0; i < 10; i++) {
      batcher.addShadow(
        "hello",
        result({ differences: [{ path: `body.f${"abcdefghij"[i]}`, kind: "value" }] }),
        waitUntil,
      );
    }
    await batcher.flush("hello");
    expect(sent[0]?.batch.shadows[0]?.signatures).toEqual({
      "GET /x\tbody.fa value": 1,
      "GET /x\tbody.fb value": 1,
      "GET /x\tbody.fc value": 1,
      "GET /x\tbody many": 7,
    });
  });

  it("drops samples past its memory bound, counts and logs it, and keeps counting", async () => {
    const { batcher, sent, logs, waitUntil } = harness({ maxBytes: 20_000 });
    for (let i = 0; i < 10; i++) {
      batcher.addShadow(
        "hello",
        result({ differences: [{ path: `body.f${i}`, kind: "value" }], sample: () => sample("x".repeat(4000)) }),
        waitUntil,
      );
    }
    await batcher.flush("hello");
    const batch = sent[0]?.batch;
    expect(batch?.samples.length).toBeLessThan(10);
    expect(batch?.dropped).toBe(10 - (batch?.samples.length ?? 0));
    expect(batch?.shadows[0]?.compared).toBe(10);
    expect(batcher.stats.dropped).toBe(batch?.dropped);
    expect(logs.map((l) => JSON.parse(l))).toEqual([
      { event: "evidence_dropped", name: "hello", dropped: batch?.dropped },
    ]);
  });

  it("keeps counting past maxSignatures distinct difference sets, dropping only their detail (unrecorded)", async () => {
    const { batcher, sent, waitUntil } = harness({ maxSignatures: 3 });
    for (let i = 0; i < 5; i++) {
      batcher.addShadow("hello", result({ differences: [{ path: `body.f${i}`, kind: "value" }] }), waitUntil);
    }
    batcher.addShadow("hello", result({ differences: [{ path: "body.f0", kind: "value" }] }), waitUntil);
    await batcher.flush("hello");
    expect(sent[0]?.batch.shadows[0]).toMatchObject({ mirrored: 6, compared: 4, notCompared: 2, unrecorded: 2 });
    expect(sent[0]?.batch.dropped).toBe(2);
  });

  it("counts and logs a failed flush as one JSON line, and never rejects", async () => {
    const { batcher, logs, waitUntil, pending, failNext, sent } = harness();
    failNext(true);
    batcher.addShadow("hello", result(), waitUntil);
    batcher.addShadow("hello", result(), waitUntil);
    await vi.advanceTimersByTimeAsync(1000);
    await expect(Promise.all(pending)).resolves.toBeDefined();
    expect(batcher.stats.failedFlushes).toBe(1);
    expect(logs.map((l) => JSON.parse(l))).toEqual([
      { event: "evidence_flush_failed", name: "hello", reason: "ledger overloaded", exchanges: 2 },
    ]);
    failNext(false);
    batcher.addShadow("hello", result(), waitUntil);
    await batcher.flush("hello");
    expect(sent.map((s) => s.batch.shadows[0]?.mirrored)).toEqual([1]);
  });
});

describe("sample bodies", () => {
  it("are cut to 8 KiB at a character boundary and marked truncated", () => {
    const body = "é".repeat(SAMPLE_BODY_BYTES);
    const cut = cutBody(body);
    expect(cut.cut).toBe(true);
    expect(new TextEncoder().encode(cut.body).length).toBeLessThanOrEqual(SAMPLE_BODY_BYTES);
    expect(cut.body).toBe("é".repeat(SAMPLE_BODY_BYTES / 2));
    const side = sampleSide({ status: 200, headers: {}, body: new TextEncoder().encode(body), bodyComplete: true });
    expect(side.truncated).toBe(true);
    expect(sampleSide({ status: 200, headers: {}, body: "short", bodyComplete: true })).toEqual({
      status: 200,
      headers: {},
      body: "short",
      truncated: false,
    });
    expect(sampleSide({ status: 200, headers: {}, body: "partial", bodyComplete: false }).truncated).toBe(true);
  });
});
