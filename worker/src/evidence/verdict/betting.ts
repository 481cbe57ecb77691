/*
 * The paired error rule: for each request, X = 1 when the shadow failed and
 * main did not, -1 for the reverse, 0 otherwise. Its mean is how much more
 * often the shadow fails than main, on the same requests.
 *
 * A test by betting (Waudby-Smith & Ramdas 2023): a gambler who stakes a
 * fixed share λ of their wealth on "the mean is above δ" multiplies it by
 * 1 + λ(X − δ) at every request. While the mean is at most δ, that wealth is
 * a nonnegative supermartingale, and so is an average over a fixed set of
 * stakes; by Ville's inequality it ever reaches 1/α with probability at most
 * α. With constant stakes the wealth depends only on how many requests had
 * each X, so the ledger's cumulative counts are all it needs. The mirror
 * image (stakes on "below δ") tests for a pass.
 */

/** Paired outcomes: shadow only failed (+1), main only failed (-1), and all requests. */
export interface PairCounts {
  shadowOnly: number;
  mainOnly: number;
  total: number;
}

type Direction = "above" | "below";

/** Stakes as shares of the largest one that keeps every factor positive: spread log-evenly. */
const STAKES = Array.from({ length: 48 }, (_, i) => 0.002 * (0.99 / 0.002) ** (i / 47));
const LOG_STAKES = Math.log(STAKES.length);

/** log of the averaged wealth: evidence that the mean of X is above (or below) δ. */
function logWealth(direction: Direction, counts: PairCounts, delta: number): number {
  const { shadowOnly, mainOnly } = counts;
  const neither = Math.max(0, counts.total - shadowOnly - mainOnly);
  // Betting below δ is betting above -δ on -X.
  const sign = direction === "above" ? 1 : -1;
  const d = sign * delta;
  const up = direction === "above" ? shadowOnly : mainOnly;
  const down = direction === "above" ? mainOnly : shadowOnly;
  const largest = 1 / (1 + d);
  let best = Number.NEGATIVE_INFINITY;
  const terms: number[] = [];
  for (const share of STAKES) {
    const lambda = share * largest;
    const term =
      up * Math.log1p(lambda * (1 - d)) + neither * Math.log1p(-lambda * d) + down * Math.log1p(-lambda * (1 + d));
    terms.push(term);
    if (term > best) best = term;
  }
  let sum = 0;
  for (const term of terms) sum += Math.exp(term - best);
  return best + Math.log(sum) - LOG_STAKES;
}

export function bets(direction: Direction, counts: PairCounts, delta: number, alpha: number): boolean {
  if (counts.total <= 0) return false;
  return logWealth(direction, counts, delta) >= Math.log(1 / alpha);
}

/**
 * The increases not yet ruled out: `low` is the largest δ the evidence says
 * the mean is above, `high` the smallest it says the mean is below.
 */
export function increaseBand(counts: PairCounts, alpha: { low: number; high: number }): { low: number; high: number } {
  if (counts.total <= 0) return { low: -1, high: 1 };
  const mean = (counts.shadowOnly - counts.mainOnly) / counts.total;
  const search = (direction: Direction) => {
    // Inside: where the test rejects (far from the mean); outside: the mean itself.
    const level = direction === "above" ? alpha.low : alpha.high;
    let inside = direction === "above" ? -1 + 1e-9 : 1 - 1e-9;
    let outside = mean;
    if (!bets(direction, counts, inside, level)) return inside;
    for (let i = 0; i < 40; i++) {
      const middle = (inside + outside) / 2;
      if (bets(direction, counts, middle, level)) inside = middle;
      else outside = middle;
    }
    return inside;
  };
  return { low: search("above"), high: search("below") };
}
