import type { Scenario } from "./traffic.ts";

/** Main's latency: a median of 30 ms, as the measured services had. */
const MEDIAN_MS = 30;

const twins = (errors: number, sigma: number): Scenario => ({
  name: `twins, errors ${errors * 100} %, σ ${sigma}`,
  expect: errors === 0 && sigma === 1 ? "pass soon" : "never fail",
  mainErrors: errors,
  shadowErrors: errors,
  diff: 0,
  mainMedianMs: MEDIAN_MS,
  shadowMedianMs: MEDIAN_MS,
  sigma,
});

/** The scenarios of the verdict's operating characteristics (docs/evidence.md), with the default policy's limits. */
export const SCENARIOS: Scenario[] = [
  ...[0, 0.01, 0.05].flatMap((errors) => [0.5, 1, 1.5].map((sigma) => twins(errors, sigma))),
  { ...twins(0, 1), name: "differences at half the limit (0.5 %)", expect: "never fail", diff: 0.005 },
  {
    ...twins(0.01, 1),
    name: "errors within the allowed increase (1 % → 1.8 %)",
    expect: "never fail",
    shadowErrors: 0.018,
  },
  { ...twins(0, 1), name: "differences at 3× the limit (3 %)", expect: "never pass", diff: 0.03 },
  { ...twins(0.01, 1), name: "errors 3 points over main's (1 % → 4 %)", expect: "never pass", shadowErrors: 0.04 },
  {
    ...twins(0, 1),
    name: "p99 3× main's (every request 3× slower)",
    expect: "never pass",
    shadowMedianMs: 3 * MEDIAN_MS,
  },
  {
    ...twins(0, 0.5),
    name: "median 5× main's (σ 0.5)",
    expect: "never pass",
    shadowMedianMs: 5 * MEDIAN_MS,
  },
];
