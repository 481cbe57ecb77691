import { describe, expect, it } from "vitest";
import { LatencyHistogram } from "../../../worker/src/evidence/histogram.ts";
import { defaultPolicy, shadowReport, signatureOf } from "../../../worker/src/evidence/verdict.ts";
import type { EvidenceReport } from "../../src/client.ts";
import { formatReportTable } from "../../src/evidence.ts";

const latencies = (ms: number, count: number) => {
  const histogram = new LatencyHistogram();
  histogram.add(ms, count);
  return histogram;
};

/** A shadow with `compared` requests, `different` of them differing at body.price, as the ledger would give it. */
function shadowOf(compared: number, different: number) {
  return shadowReport(
    {
      version: "2.0.0",
      mirrored: compared,
      compared,
      notCompared: 0,
      errorsShadow: 0,
      canary: 0,
      down: 0,
      skipped: 0,
      unrecorded: 0,
      errorsMain: 0,
      errorsShadowOnly: 0,
      errorsMainOnly: 0,
      latencyMain: latencies(20, compared),
      latencyShadow: latencies(20, compared),
      signatures: new Map([[signatureOf([{ path: "body.price", kind: "value" }]), different]]),
      partialSignatures: new Map(),
      routes: new Map(),
    },
    { sampled: 0, routes: new Map(), paths: new Map() },
    defaultPolicy,
  );
}

const reportOf = (shadow: ReturnType<typeof shadowOf>): EvidenceReport =>
  ({
    name: "hello",
    main: "1.0.0",
    window: { from: "2026-11-30T09:00:00.000Z", to: "2026-11-30T10:00:00.000Z" },
    shadows: [shadow],
    noise: { sampled: 0, fields: [] },
  }) as unknown as EvidenceReport;

describe("one number format in the table and in the gateway's reasons", () => {
  it("a count over a thousand is grouped the same way in both", () => {
    const shadow = shadowOf(1500, 69);
    const table = formatReportTable(reportOf(shadow), defaultPolicy.gate.minRequests);
    const row = table.split("\n").find((line) => line.startsWith("2.0.0")) ?? "";
    // SAME and DIFFERENT: the outcome columns.
    expect(row.split(/\s{2,}/).slice(1, 3)).toEqual(["1,431", "69"]);
    expect(shadow.reasons.join("\n")).toContain("69 of 1,500 compared requests differ");
    expect(shadow.reasons.join("\n")).not.toMatch(/\d{4}/);
  });

  it("so does a count still short of the gate's minimum", () => {
    const few = shadowReport(
      {
        version: "2.0.0",
        mirrored: 1200,
        compared: 1200,
        notCompared: 0,
        errorsShadow: 0,
        canary: 0,
        down: 0,
        skipped: 0,
        unrecorded: 0,
        errorsMain: 0,
        errorsShadowOnly: 0,
        errorsMainOnly: 0,
        latencyMain: latencies(20, 1200),
        latencyShadow: latencies(20, 1200),
        signatures: new Map(),
        partialSignatures: new Map(),
        routes: new Map(),
      },
      { sampled: 0, routes: new Map(), paths: new Map() },
      { ...defaultPolicy, gate: { ...defaultPolicy.gate, minRequests: 5000 } },
    );
    expect(few.reasons).toEqual([
      "1,200 copies with an outcome, fewer than the 5,000 the gate needs",
      "about 3,800 more requests at these rates would pass it",
    ]);
  });
});
