/**
 * Field rules: what a field means, so that it is compared for what matters
 * instead of ignored whole. Each rule names a body path (the field-path
 * grammar, where `.*` stands for any key) and how the values there compare:
 * - `number`: within `abs` or `rel` (of the larger magnitude) is the same;
 * - `unordered`: an array whose order does not matter, its elements matched
 *   by `key` when given, else by equality;
 * - `present`: presence and JSON type count, the value does not;
 * - `format`: values that both match the format are the same.
 * Rules only ever make unequal values the same; equal values stay equal.
 */

import { formatTester } from "./formats.ts";

export type FieldRule =
  | { path: string; match: "number"; abs?: number; rel?: number }
  | { path: string; match: "unordered"; key?: string }
  | { path: string; match: "present" }
  | { path: string; match: "format"; format: string };

export const RULE_MATCHES = [
  "number",
  "unordered",
  "present",
  "format",
] as const satisfies readonly FieldRule["match"][];

/** The most rules a name may have. */
export const RULES_MAX = 50;

/** A rule ready to apply: `format` compiled once. */
export type CompiledRule =
  | Extract<FieldRule, { match: "number" | "unordered" | "present" }>
  | { path: string; match: "format"; format: string; test: (value: string) => boolean };

/**
 * A trie of rule paths by raw key. The comparison walks it beside the
 * documents, so a subtree no rule reaches costs nothing more.
 */
export class RuleNode {
  readonly keys = new Map<string, RuleNode>();
  any: RuleNode | undefined;
  items: RuleNode | undefined;
  rule: CompiledRule | undefined;
  /** This node alone as the walk's states: the usual case, made once rather than at every key. */
  readonly alone: RuleStates = [this];
}

/** Where the walk stands in the trie: every node that the path so far reaches (wildcards can make it several). */
export type RuleStates = readonly RuleNode[];
export const NO_RULES: RuleStates = [];

/** The states one object key further down. */
export function underKey(states: RuleStates, key: string): RuleStates {
  if (states.length === 0) return NO_RULES;
  const only = states.length === 1 ? states[0] : undefined;
  if (only && !only.any) return only.keys.get(key)?.alone ?? NO_RULES;
  const next: RuleNode[] = [];
  for (const state of states) {
    const exact = state.keys.get(key);
    if (exact) next.push(exact);
    if (state.any) next.push(state.any);
  }
  return next.length === 0 ? NO_RULES : next;
}

/** The states one array element further down. */
export function underItems(states: RuleStates): RuleStates {
  if (states.length === 0) return NO_RULES;
  if (states.length === 1) return states[0]?.items?.alone ?? NO_RULES;
  const next: RuleNode[] = [];
  for (const state of states) if (state.items) next.push(state.items);
  return next.length === 0 ? NO_RULES : next;
}

/** The rule that applies here: one written for this exact key wins over one written with `*`. */
export function ruleAt(states: RuleStates): CompiledRule | undefined {
  for (const state of states) if (state.rule) return state.rule;
  return undefined;
}

const ANY = Symbol("any key");
const ITEMS = Symbol("array items");

/** A rule path's segments after `body`: a key (`*` for any) or `[]`; undefined when it is no body path. */
export function ruleSegments(path: string): (string | symbol)[] | undefined {
  if (!path.startsWith("body")) return undefined;
  const segments: (string | symbol)[] = [];
  let at = "body".length;
  while (at < path.length) {
    const rest = path.slice(at);
    const plain = /^\.([A-Za-z0-9_$-]+|\*)/.exec(rest);
    if (plain?.[1]) {
      segments.push(plain[1] === "*" ? ANY : plain[1]);
      at += plain[0].length;
    } else if (rest.startsWith("[]")) {
      segments.push(ITEMS);
      at += 2;
    } else {
      const quoted = /^\[("(?:[^"\\]|\\.)*")\]/.exec(rest);
      if (!quoted?.[1]) return undefined;
      try {
        segments.push(JSON.parse(quoted[1]) as string);
      } catch {
        return undefined;
      }
      at += quoted[0].length;
    }
  }
  return segments;
}

function compile(rules: readonly FieldRule[]): RuleStates {
  const root = new RuleNode();
  for (const rule of rules) {
    const segments = ruleSegments(rule.path);
    if (segments === undefined) continue;
    let node = root;
    for (const segment of segments) {
      if (segment === ANY) node = node.any ??= new RuleNode();
      else if (segment === ITEMS) node = node.items ??= new RuleNode();
      else {
        const key = segment as string;
        const child = node.keys.get(key) ?? new RuleNode();
        node.keys.set(key, child);
        node = child;
      }
    }
    node.rule = rule.match === "format" ? { ...rule, test: formatTester(rule.format) } : rule;
  }
  return [root];
}

// Policies are shared by every request of a route table, so each list of rules is compiled once.
const compiled = new WeakMap<readonly FieldRule[], RuleStates>();

/** The trie's root states for a policy's rules (NO_RULES for none). */
export function ruleRoot(rules: readonly FieldRule[] | undefined): RuleStates {
  if (!rules || rules.length === 0) return NO_RULES;
  let states = compiled.get(rules);
  if (!states) {
    states = compile(rules);
    compiled.set(rules, states);
  }
  return states;
}
