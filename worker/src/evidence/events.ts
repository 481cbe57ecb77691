import type { ShadowResult } from "./batch.ts";

/**
 * Analytics Engine, when an `EVIDENCE_EVENTS` binding is configured: one data
 * point per shadow copy, for history beyond the ledger's 7 days, in SQL.
 * Writes are fire-and-forget in the runtime; without the binding, nothing.
 *
 * index1: service · blob1: version · blob2: outcome · blob3: first differing path
 * double1: main ms · double2: shadow ms (0 when a side did not answer)
 */
type EvidenceOutcome = "same" | "different" | "error" | "not_compared";

/** The copy's outcome as it was answered, before the report's noise and ignore rules. */
function outcomeOfResult(result: ShadowResult): EvidenceOutcome {
  if (result.outcome === "error") return "error";
  if (result.differences.length > 0) return "different";
  return result.outcome === "compared" ? "same" : "not_compared";
}

export function writeEvidenceEvent(
  dataset: AnalyticsEngineDataset | undefined,
  service: string,
  result: ShadowResult,
): void {
  if (!dataset) return;
  dataset.writeDataPoint({
    indexes: [service],
    blobs: [result.version, outcomeOfResult(result), result.differences[0]?.path ?? ""],
    doubles: [result.latencyMs?.main ?? 0, result.latencyMs?.shadow ?? 0],
  });
}
