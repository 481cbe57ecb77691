/**
 * The structural diff of two JSON documents, under the policy's field rules.
 * Numbers compare by their exact value (json-numbers.ts); a field rule
 * (field-rules.ts) decides how the values at its path compare.
 */

import type { Collector } from "./compare.ts";
import { type CompiledRule, NO_RULES, type RuleStates, ruleAt, underItems, underKey } from "./field-rules.ts";
import { type IgnoreNode, underSegment } from "./ignore.ts";
import { ExactNumber, isJsonNumber, numberValue, sameNumber } from "./json-numbers.ts";
import { boundedPath, segmentOf } from "./paths.ts";
import { pairByKey, withoutEqual } from "./unordered.ts";

type JsonType = "null" | "array" | "object" | "string" | "number" | "boolean";

export function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (value instanceof ExactNumber) return "number";
  return typeof value as JsonType;
}

/** A step on the walk's path: an object's raw key, or `ITEMS` for an array's elements. */
type Step = string | typeof ITEMS;
const ITEMS = null;

/**
 * Walks both documents in step. The path is a stack of raw keys, written as
 * segments (paths.ts) only when a difference is found or an ignore list must
 * be followed, so equal subtrees allocate no strings.
 */
export class JsonWalker {
  readonly #steps: Step[] = [];
  readonly #root: string;

  readonly collector: Collector;
  readonly maxDepth: number;

  constructor(collector: Collector, maxDepth: number, root = "body") {
    this.collector = collector;
    this.maxDepth = maxDepth;
    this.#root = root;
  }

  /** The path so far, and `last` one step further when given. */
  #path(last?: Step): string {
    let path = this.#root;
    for (const step of this.#steps) path += segmentOfStep(step);
    if (last !== undefined) path += segmentOfStep(last);
    return boundedPath(path);
  }

  /** `ignore`: where the walk stands in the ignore list's trie (undefined once no listed path lies below). */
  compare(main: unknown, shadow: unknown, depth: number, rules: RuleStates = NO_RULES, ignore?: IgnoreNode): void {
    if (main === shadow || this.collector.capped) return;
    const mainType = jsonTypeOf(main);
    const shadowType = jsonTypeOf(shadow);
    if (mainType !== shadowType) {
      this.collector.add(this.#path(), "type");
      return;
    }
    const rule = rules.length === 0 ? undefined : ruleAt(rules);
    if (rule && this.#applied(rule, main, shadow, depth, rules, ignore)) return;
    if (mainType === "array") {
      this.#compareArrays(main as unknown[], shadow as unknown[], depth, rules, ignore);
    } else if (mainType === "object") {
      this.#compareObjects(main as Record<string, unknown>, shadow as Record<string, unknown>, depth, rules, ignore);
    } else if (mainType !== "number" || !sameNumber(main as number, shadow as number)) {
      // Same scalar type and not equal: numbers, strings or booleans that differ.
      this.collector.add(this.#path(), "value");
    }
  }

  /** Whether the rule decided this pair (same type, not identical); false leaves it to the ordinary comparison. */
  #applied(
    rule: CompiledRule,
    main: unknown,
    shadow: unknown,
    depth: number,
    rules: RuleStates,
    ignore: IgnoreNode | undefined,
  ): boolean {
    switch (rule.match) {
      case "present":
        return true;
      case "number": {
        if (!isJsonNumber(main) || !isJsonNumber(shadow)) return false;
        if (!withinTolerance(numberValue(main), numberValue(shadow), rule) && !sameNumber(main, shadow)) {
          this.collector.add(this.#path(), "value");
        }
        return true;
      }
      case "format":
        return typeof main === "string" && typeof shadow === "string" && rule.test(main) && rule.test(shadow);
      case "unordered":
        if (!Array.isArray(main) || !Array.isArray(shadow) || depth >= this.maxDepth) return false;
        this.#compareUnordered(main, shadow, depth, rules, ignore, rule.key);
        return true;
    }
  }

  #compareArrays(main: unknown[], shadow: unknown[], depth: number, rules: RuleStates, ignore?: IgnoreNode): void {
    if (main.length !== shadow.length) this.collector.add(this.#path(), "length");
    const shared = Math.min(main.length, shadow.length);
    const under = underSegment(ignore, "[]");
    if (shared === 0 || under?.ignored) return;
    if (depth >= this.maxDepth) {
      if (!deepEqual(main.slice(0, shared), shadow.slice(0, shared))) this.collector.cutAt(this.#path(ITEMS));
      return;
    }
    const items = underItems(rules);
    this.#steps.push(ITEMS);
    for (let i = 0; i < shared && !this.collector.capped; i++) {
      this.compare(main[i], shadow[i], depth + 1, items, under);
    }
    this.#steps.pop();
  }

  /**
   * Elements matched by key (when given), then by equality; what is left is
   * compared pairwise in order, so a changed element is reported at the field
   * that changed, and the surplus on either side is `missing` or `extra`.
   */
  #compareUnordered(
    main: unknown[],
    shadow: unknown[],
    depth: number,
    rules: RuleStates,
    ignore: IgnoreNode | undefined,
    key?: string,
  ): void {
    const under = underSegment(ignore, "[]");
    if (under?.ignored) return;
    const items = underItems(rules);
    let leftMain = main;
    let leftShadow = shadow;
    this.#steps.push(ITEMS);
    if (key !== undefined) {
      const keyed = pairByKey(main, shadow, key, (a, b) => this.compare(a, b, depth + 1, items, under));
      if (keyed.missing) this.collector.add(this.#path(), "missing");
      if (keyed.extra) this.collector.add(this.#path(), "extra");
      leftMain = keyed.restMain;
      leftShadow = keyed.restShadow;
    }
    const unmatched = withoutEqual(leftMain, leftShadow);
    const shared = Math.min(unmatched.main.length, unmatched.shadow.length);
    for (let i = 0; i < shared && !this.collector.capped; i++) {
      this.compare(unmatched.main[i], unmatched.shadow[i], depth + 1, items, under);
    }
    if (unmatched.main.length > shared) this.collector.add(this.#path(), "missing");
    if (unmatched.shadow.length > shared) this.collector.add(this.#path(), "extra");
    this.#steps.pop();
  }

  #compareObjects(
    main: Record<string, unknown>,
    shadow: Record<string, unknown>,
    depth: number,
    rules: RuleStates,
    ignore?: IgnoreNode,
  ) {
    if (depth >= this.maxDepth) {
      if (!deepEqual(main, shadow)) this.collector.cutAt(this.#path());
      return;
    }
    for (const key in main) {
      if (this.collector.capped) return;
      const a = main[key];
      const b = shadow[key];
      if (a === b && a !== undefined) continue;
      const under = ignore === undefined ? undefined : underSegment(ignore, segmentOf(key));
      if (under?.ignored) continue;
      if (!Object.hasOwn(shadow, key)) {
        this.collector.add(this.#path(key), "missing");
        continue;
      }
      this.#steps.push(key);
      this.compare(a, b, depth + 1, underKey(rules, key), under);
      this.#steps.pop();
    }
    for (const key in shadow) {
      if (this.collector.capped) return;
      if (Object.hasOwn(main, key)) continue;
      if (ignore !== undefined && underSegment(ignore, segmentOf(key))?.ignored) continue;
      this.collector.add(this.#path(key), "extra");
    }
  }
}

const segmentOfStep = (step: Step): string => (step === ITEMS ? "[]" : segmentOf(step));

function withinTolerance(a: number, b: number, rule: { abs?: number; rel?: number }): boolean {
  const delta = Math.abs(a - b);
  if (rule.abs !== undefined && delta <= rule.abs) return true;
  return rule.rel !== undefined && delta <= rule.rel * Math.max(Math.abs(a), Math.abs(b));
}

/** Equality of two JSON values without recursion, for subtrees past the depth limit however deep they go. */
export function deepEqual(a: unknown, b: unknown): boolean {
  const stack: [unknown, unknown][] = [[a, b]];
  for (let pair = stack.pop(); pair !== undefined; pair = stack.pop()) {
    const [x, y] = pair;
    if (x === y) continue;
    const type = jsonTypeOf(x);
    if (type !== jsonTypeOf(y)) return false;
    if (type === "array") {
      const xs = x as unknown[];
      const ys = y as unknown[];
      if (xs.length !== ys.length) return false;
      for (let i = 0; i < xs.length; i++) stack.push([xs[i], ys[i]]);
    } else if (type === "object") {
      const xo = x as Record<string, unknown>;
      const yo = y as Record<string, unknown>;
      let size = 0;
      for (const key in xo) {
        if (!Object.hasOwn(yo, key)) return false;
        stack.push([xo[key], yo[key]]);
        size++;
      }
      for (const key in yo) if (Object.hasOwn(yo, key)) size--;
      if (size !== 0) return false;
    } else if (type !== "number" || !sameNumber(x as number, y as number)) {
      return false;
    }
  }
  return true;
}
