/**
 * Matching the elements of two arrays whose order does not matter (the
 * `unordered` field rule): by a key field when the rule names one, then by
 * equality. The walk (json-walk.ts) compares the pairs and reports the rest.
 */

import { ExactNumber, normaliseNumber } from "./json-numbers.ts";

type ElementKey = string | number | ExactNumber;

/** An element's key value, when it is an object whose key holds a string or a number. */
function keyOf(element: unknown, key: string): ElementKey | undefined {
  if (element === null || typeof element !== "object" || Array.isArray(element) || element instanceof ExactNumber) {
    return undefined;
  }
  const value = (element as Record<string, unknown>)[key];
  if (typeof value === "string" || typeof value === "number" || value instanceof ExactNumber) return value;
  return undefined;
}

/**
 * Elements by their key value, looked up without building a text per key: strings and numbers
 * as themselves (a Map tells `"1"` from `1`, and takes `-0` for `0` as JSON does), exact numbers
 * by their normalised text in a map of their own (one is never equal to a double, see
 * json-numbers.ts, and its text must not meet a string id).
 */
class ElementsByKey {
  readonly #plain = new Map<string | number, unknown>();
  readonly #exact = new Map<string, unknown>();

  get size(): number {
    return this.#plain.size + this.#exact.size;
  }

  /** The element under `key`; undefined when there is none (a JSON value is never undefined). */
  get(key: ElementKey): unknown {
    return key instanceof ExactNumber ? this.#exact.get(key.text) : this.#plain.get(key);
  }

  set(key: ElementKey, element: unknown): void {
    if (key instanceof ExactNumber) this.#exact.set(key.text, element);
    else this.#plain.set(key, element);
  }

  delete(key: ElementKey): void {
    if (key instanceof ExactNumber) this.#exact.delete(key.text);
    else this.#plain.delete(key);
  }
}

/**
 * Elements paired by their key, each pair handed to `compare` in main's order; elements without a
 * key (or with a repeated one) are left for matching by equality.
 */
export function pairByKey(
  main: unknown[],
  shadow: unknown[],
  key: string,
  compare: (main: unknown, shadow: unknown) => void,
) {
  const byKey = new ElementsByKey();
  const restShadow: unknown[] = [];
  for (const element of shadow) {
    const k = keyOf(element, key);
    if (k === undefined || byKey.get(k) !== undefined) restShadow.push(element);
    else byKey.set(k, element);
  }
  const restMain: unknown[] = [];
  let missing = false;
  for (const element of main) {
    const k = keyOf(element, key);
    const paired = k === undefined ? undefined : byKey.get(k);
    if (k === undefined) {
      restMain.push(element);
    } else if (paired !== undefined) {
      compare(element, paired);
      byKey.delete(k);
    } else missing = true;
  }
  return { missing, extra: byKey.size > 0, restMain, restShadow };
}

/** Both lists without the elements they share (as a multiset). */
export function withoutEqual(main: unknown[], shadow: unknown[]): { main: unknown[]; shadow: unknown[] } {
  if (main.length === 0 || shadow.length === 0) return { main, shadow };
  const counts = new Map<string, number>();
  const shadowTexts = shadow.map(canonical);
  for (const text of shadowTexts) counts.set(text, (counts.get(text) ?? 0) + 1);
  const restMain: unknown[] = [];
  for (const element of main) {
    const text = canonical(element);
    const left = counts.get(text) ?? 0;
    if (left > 0) counts.set(text, left - 1);
    else restMain.push(element);
  }
  const restShadow = shadow.filter((_, i) => {
    const text = shadowTexts[i] as string;
    const left = counts.get(text) ?? 0;
    if (left === 0) return false;
    counts.set(text, left - 1);
    return true;
  });
  return { main: restMain, shadow: restShadow };
}

/** One text per JSON value: object keys sorted, numbers normalised. */
function canonical(value: unknown): string {
  if (typeof value === "number") return normaliseNumber(String(value));
  if (value instanceof ExactNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
