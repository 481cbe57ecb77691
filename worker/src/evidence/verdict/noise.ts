import { rateHigh, rateLow } from "./mixture.ts";

/*
 * Noise is per route. Main's twin copies (main against itself) say how
 * often a field differs on its own on one route; a shadow's difference
 * there is excused only when its rate on that route is not clearly above
 * that noise, both read as confidence sequences (mixture.ts), never as two
 * point estimates. A route's noise excuses nothing before it is bounded:
 * at least NOISE_MIN_TWINS twin copies on that route, and a band on main's
 * rate there no wider than NOISE_MAX_WIDTH, so one odd twin out of a few
 * cannot excuse a bug. The route every route past the cap folds to
 * (OTHER_ROUTES) never excuses: noise of one endpoint excuses nothing on another.
 */

/** Twin copies a route needs before its noise can excuse a difference on it. */
export const NOISE_MIN_TWINS = 10;
/** The widest band on main's noise rate that still bounds it (12 noisy twins of 12 is just under). */
const NOISE_MAX_WIDTH = 0.5;
/** Routes kept apart per name; past it a route is counted as this one, whose noise excuses nothing. */
export const OTHER_ROUTES = "*";
export const MAX_ROUTES_PER_NAME = 64;

/** A broad prior (uniform) for a rate read on its own, with no limit to centre it on. */
const broad = () => ({ above: { mean: 0.5, weight: 2 }, below: { mean: 0.5, weight: 2 } });

interface RateCount {
  count: number;
  total: number;
}

/**
 * Whether main's noise excuses a field on one route: enough twin copies,
 * its rate there bounded, and the shadow's rate there not clearly above it
 * (the shadow's low edge not above the noise's high edge, each at `alpha`/2).
 */
export function noiseExcuses(route: string, shadow: RateCount, noise: RateCount, alpha: number): boolean {
  if (route === OTHER_ROUTES || noise.total < NOISE_MIN_TWINS || noise.count === 0) return false;
  const noiseHigh = rateHigh(noise.count, noise.total, broad, alpha / 2);
  if (noiseHigh - rateLow(noise.count, noise.total, broad, alpha / 2) > NOISE_MAX_WIDTH) return false;
  if (shadow.count === 0 || shadow.total <= 0) return true;
  const shadowLow = rateLow(shadow.count, shadow.total, broad, alpha / 2);
  return !(shadowLow > noiseHigh);
}
