import { CUT_SHORT, type Difference } from "./compare.ts";

/**
 * Most distinct (path, kind) fields kept per version, in an isolate's batch
 * and in the ledger. Folding identifier keys keeps real payloads far below
 * it; the cap is what holds when keys are random words that do not look like
 * ids. Past it, a field not yet known is recorded as `body many`: the
 * evidence can no longer tell it apart, and it still counts.
 */
export const MAX_FIELDS_PER_VERSION = 200;

const keyOf = (d: Difference) => `${d.path} ${d.kind}`;

/**
 * `differences` with every field past the cap replaced by `body many`.
 * `known` holds the version's fields so far and learns the new ones.
 */
export function boundDifferences(
  differences: readonly Difference[],
  known: Set<string>,
  cap = MAX_FIELDS_PER_VERSION,
): readonly Difference[] {
  const manyKey = keyOf(CUT_SHORT);
  let overflow = false;
  for (const difference of differences) {
    const key = keyOf(difference);
    if (key === manyKey || known.has(key)) continue;
    if (known.size < cap) known.add(key);
    else overflow = true;
  }
  if (!overflow) return differences;
  const bounded = differences.filter((d) => keyOf(d) !== manyKey && known.has(keyOf(d)));
  bounded.push(CUT_SHORT);
  return bounded;
}
