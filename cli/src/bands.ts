import type { ShadowReport } from "./client.ts";
import { formatRate } from "./evidence.ts";
import { formatSimpleTable } from "./table.ts";

type Confidence = ShadowReport["confidence"];
type LatencyBand = Confidence["latencyMs"]["p50"]["main"];

const BANDS_TABLE_HEADERS = [
  "VERSION",
  "DIFFERENT",
  "ERROR RATE",
  "ERROR INCREASE",
  "P50 SHADOW",
  "P50 MAIN",
  "P99 SHADOW",
  "P99 MAIN",
] as const;

/** `low to high`, or the one value where both edges print alike (`2 ms`, not `2 to 2 ms`). */
const span = (low: string, high: string, unit = "") => (low === high ? `${low}${unit}` : `${low} to ${high}${unit}`);

/** `0% to 1.4%`: a rate band as the gateway's reasons write rates. */
const rateBand = (band: { low: number; high: number }) => span(formatRate(band.low), formatRate(band.high));

/** `-0.2 to +0.9 points`: the paired error increase, signed as the reasons sign it. */
function pointsBand(band: { low: number; high: number }): string {
  const points = (rate: number) => {
    const value = Number((rate * 100).toFixed(2));
    return `${value > 0 ? "+" : ""}${value}`;
  };
  return span(points(band.low), points(band.high), " points");
}

/** `28.1 to 30.4 ms`, or `105 ms to unbounded` while too few requests bound it from above. */
const msBand = (band: LatencyBand) =>
  band.high === null ? `${band.low} ms to unbounded` : span(String(band.low), String(band.high), " ms");

/** A dash where there is no evidence yet: no band is better than a band from nothing. */
function bandsRow(shadow: ShadowReport): string[] {
  const { confidence: c } = shadow;
  const timed = c.latencySamples > 0;
  const latency = (which: "p50" | "p99", side: "main" | "shadow") => (timed ? msBand(c.latencyMs[which][side]) : "-");
  return [
    shadow.version,
    c.diffRate ? rateBand(c.diffRate) : "-",
    rateBand(c.errorRate),
    pointsBand(c.errorIncrease),
    latency("p50", "shadow"),
    latency("p50", "main"),
    latency("p99", "shadow"),
    latency("p99", "main"),
  ];
}

/**
 * The bands each verdict was decided on, one row a shadow with any outcome, under a line saying
 * they are confidence sequences: true at every look at once, so reading them often does not
 * make them wrong more often. Nothing when no shadow has an outcome yet.
 */
export function formatBands(shadows: readonly ShadowReport[]): string[] {
  const judged = shadows.filter((shadow) => shadow.requests.mirrored + shadow.requests.down > 0);
  const first = judged[0];
  if (!first) return [];
  return [
    `Bands at alpha ${first.confidence.alpha}, which hold at any look:`,
    formatSimpleTable(BANDS_TABLE_HEADERS, judged.map(bandsRow)),
  ];
}
