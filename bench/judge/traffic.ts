import type { ShadowResult } from "../../worker/src/evidence/batch.ts";

/*
 * Synthetic paired traffic: per request, whether main and the shadow
 * failed (independently), whether their bodies differ when both answered,
 * and each side's latency (lognormal, independent). This is the only part
 * of the judge bench that is not the gateway's own code.
 */

export interface Scenario {
  name: string;
  /** What the contract asks of it: never failed, never passed, or passed soon. */
  expect: "never fail" | "never pass" | "pass soon";
  mainErrors: number;
  shadowErrors: number;
  /** Chance that the bodies differ when both sides answered. */
  diff: number;
  mainMedianMs: number;
  shadowMedianMs: number;
  sigma: number;
  shadowSigma?: number;
}

/** A small, fast, seedable generator (a 32-bit xorshift-multiply mix), so a run can be repeated. */
export class Random {
  #state: number;
  #spare: number | undefined;

  constructor(seed: number) {
    this.#state = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in (0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let x = this.#state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return (((x ^ (x >>> 14)) >>> 0) + 0.5) / 4294967296;
  }

  /** Standard normal, two at a time (Box–Muller). */
  normal(): number {
    if (this.#spare !== undefined) {
      const spare = this.#spare;
      this.#spare = undefined;
      return spare;
    }
    const radius = Math.sqrt(-2 * Math.log(this.next()));
    const angle = 2 * Math.PI * this.next();
    this.#spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
}

const PRICE = [{ path: "body.price", kind: "value" as const }];

/**
 * One request's outcome as the proxy hands it to the batcher. A shadow that
 * failed is an `error`; a request main failed and the shadow did not is
 * answered but not comparable (main's answer is no reference), as the
 * proxy records it.
 */
export function requestOf(scenario: Scenario, random: Random, at: number): ShadowResult {
  const mainError = random.next() < scenario.mainErrors;
  const shadowError = random.next() < scenario.shadowErrors;
  const latencyMs = {
    main: random.lognormal(scenario.mainMedianMs, scenario.sigma),
    shadow: random.lognormal(scenario.shadowMedianMs, scenario.shadowSigma ?? scenario.sigma),
  };
  const base = { version: "2.0.0", baseline: "1.0.0", at, mainError, latencyMs };
  if (shadowError) return { ...base, outcome: "error", differences: [] };
  if (mainError) return { ...base, outcome: "notCompared", differences: [] };
  const differs = scenario.diff > 0 && random.next() < scenario.diff;
  return { ...base, outcome: "compared", differences: differs ? PRICE : [] };
}
