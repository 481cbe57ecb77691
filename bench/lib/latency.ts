// An origin's answer time: fixed, or drawn from a seeded log-normal distribution, so a bench origin
// answers like a user's service (most requests near the median, a long tail) and every run draws the
// same sequence of delays.

export type Latency = { kind: "fixed"; ms: number } | { kind: "lognormal"; medianMs: number; sigma: number };

/** `<ms>` or `fixed:<ms>`, or `lognormal:<median ms>:<sigma>`; an error naming what is wrong otherwise. */
export function parseLatency(spec: string): Latency {
  const [kind, ...rest] = spec.split(":");
  const [first = Number.NaN, second = Number.NaN] = rest.map(Number);
  if (rest.length === 0 && Number(kind) >= 0) return { kind: "fixed", ms: Number(kind) };
  if (kind === "fixed" && rest.length === 1 && first >= 0) return { kind: "fixed", ms: first };
  if (kind === "lognormal" && rest.length === 2 && first > 0 && second >= 0) {
    return { kind: "lognormal", medianMs: first, sigma: second };
  }
  throw new Error(`latency "${spec}" is not <ms>, fixed:<ms> or lognormal:<median ms>:<sigma> with median > 0`);
}

export function describeLatency(latency: Latency): string {
  return latency.kind === "fixed"
    ? `${latency.ms} ms`
    : `log-normal, median ${latency.medianMs} ms, σ ${latency.sigma} (p99 ${Math.round(quantile(latency, 0.99))} ms)`;
}

/** The delay at quantile `q` (0 < q < 1) of the distribution; for describing it. */
export function quantile(latency: Latency, q: number): number {
  if (latency.kind === "fixed") return latency.ms;
  return latency.medianMs * Math.exp(latency.sigma * normalQuantile(q));
}

/** A function returning the next delay in ms; the same seed gives the same sequence. */
export function delays(latency: Latency, seed: number): () => number {
  if (latency.kind === "fixed") return () => latency.ms;
  const uniform = mulberry32(seed);
  return () => {
    // Box–Muller: one standard normal draw from two uniforms in (0, 1].
    const z = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
    return latency.medianMs * Math.exp(latency.sigma * z);
  };
}

/** A seed from a name, so each origin has its own sequence and keeps it from run to run. */
export function seedOf(name: string): number {
  let hash = 2166136261;
  for (const char of name) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
  return hash >>> 0;
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The standard normal's quantile by bisection on its CDF; only for describing a distribution. */
function normalQuantile(q: number): number {
  let low = -10;
  let high = 10;
  for (let i = 0; i < 80; i++) {
    const mid = (low + high) / 2;
    if (normalCdf(mid) < q) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

function normalCdf(x: number): number {
  // Abramowitz and Stegun 7.1.26 for erf, accurate to 1.5e-7.
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
