import type { FieldRule } from "../../worker/src/evidence/field-rules.ts";
import { ruleSegments } from "../../worker/src/evidence/field-rules.ts";
import { isDifferencePath } from "../../worker/src/evidence/paths.ts";
import { repeatedOption } from "./argv.ts";
import { UsageError } from "./errors.ts";

/** The rule flags of `policy`, each as often as it was given. */
export interface RuleFlags {
  tolerance: readonly string[];
  toleranceAbs: readonly string[];
  unordered: readonly string[];
  present: readonly string[];
  format: readonly string[];
  noRule: readonly string[];
}

export function ruleFlags(rawArgs: readonly string[]): RuleFlags {
  return {
    tolerance: repeatedOption(rawArgs, "tolerance"),
    toleranceAbs: repeatedOption(rawArgs, "tolerance-abs"),
    unordered: repeatedOption(rawArgs, "unordered"),
    present: repeatedOption(rawArgs, "present"),
    // A pattern may hold commas: one value per flag.
    format: repeatedOption(rawArgs, "format", { split: false }),
    noRule: repeatedOption(rawArgs, "no-rule"),
  };
}

export const changesRules = (flags: RuleFlags) => Object.values(flags).some((values) => values.length > 0);

/**
 * The path the user most likely meant, when theirs is not one: `price` is `body.price`,
 * `items[0].id` is `body.items[].id`, `ETag` is `header.etag`.
 */
function suggestPath(path: string, isValid: (path: string) => boolean): string | undefined {
  const indexless = path.replace(/\[\d+\]/g, "[]").replace(/^\$\.?/, "");
  const bare = indexless.replace(/^\./, "");
  const candidates = [indexless, `body.${bare}`, `body${indexless.startsWith("[") ? "" : "."}${bare}`];
  if (/^[A-Za-z0-9-]+$/.test(path)) candidates.push(`header.${path.toLowerCase()}`);
  return candidates.find((candidate) => candidate !== path && isValid(candidate));
}

/** A path the gateway would refuse, stopped here with what a path looks like and the nearest one. */
function checkPath(flag: string, path: string, isValid: (path: string) => boolean, shape: string): void {
  if (isValid(path)) return;
  const guess = suggestPath(path, isValid);
  throw new UsageError(
    `--${flag} takes ${shape}; got ${JSON.stringify(path)}${guess ? `: did you mean ${guess}?` : ""}`,
  );
}

const isRulePath = (path: string) => ruleSegments(path) !== undefined;
const RULE_PATH = "a body field path such as body.price or body.items[].id (* for any key)";

export const checkDifferencePath = (flag: string, path: string) =>
  checkPath(
    flag,
    path,
    isDifferencePath,
    "a difference path: status, header.<name>, body or body.<field path> such as body.price",
  );

/** `PATH=VALUE`, split at the first `=` after the path. */
function pair(flag: string, text: string, valueHint: string): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0 || at === text.length - 1) {
    throw new UsageError(
      `--${flag} takes PATH=${valueHint} (such as body.price=${flag === "format" ? "uuid" : "1e-6"}); got ${JSON.stringify(text)}`,
    );
  }
  const path = text.slice(0, at);
  checkPath(flag, path, isRulePath, RULE_PATH);
  return [path, text.slice(at + 1)];
}

function tolerance(flag: string, text: string): [string, number] {
  const [path, value] = pair(flag, text, "NUMBER");
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) {
    throw new UsageError(`--${flag} takes a tolerance of at least 0 after the =; got ${JSON.stringify(value)}`);
  }
  return [path, number];
}

/** `PATH[:KEY]`: the key comes after the last colon outside a quoted key. */
function unordered(text: string): FieldRule {
  const colon = text.lastIndexOf(":");
  const split = colon > Math.max(text.lastIndexOf("]"), text.lastIndexOf('"'));
  const path = split ? text.slice(0, colon) : text;
  const key = split ? text.slice(colon + 1) : "";
  checkPath("unordered", path, isRulePath, RULE_PATH);
  return key === "" ? { path, match: "unordered" } : { path, match: "unordered", key };
}

/** The rules the flags add, and the paths whose rules they remove; checked before anything is sent. */
export function ruleChange(flags: RuleFlags): { rulesAdd?: FieldRule[]; rulesRemove?: string[] } {
  const rules = new Map<string, FieldRule>();
  const numbers = new Map<string, { abs?: number; rel?: number }>();
  for (const text of flags.tolerance) {
    const [path, rel] = tolerance("tolerance", text);
    numbers.set(path, { ...numbers.get(path), rel });
  }
  for (const text of flags.toleranceAbs) {
    const [path, abs] = tolerance("tolerance-abs", text);
    numbers.set(path, { ...numbers.get(path), abs });
  }
  for (const [path, limits] of numbers) rules.set(path, { path, match: "number", ...limits });
  for (const text of flags.unordered) {
    const rule = unordered(text);
    rules.set(rule.path, rule);
  }
  for (const path of flags.present) {
    checkPath("present", path, isRulePath, RULE_PATH);
    rules.set(path, { path, match: "present" });
  }
  for (const text of flags.format) {
    const [path, format] = pair("format", text, "FORMAT");
    rules.set(path, { path, match: "format", format });
  }
  for (const path of flags.noRule) checkPath("no-rule", path, isRulePath, RULE_PATH);
  const removed = flags.noRule.filter((path) => !rules.has(path));
  return {
    ...(rules.size > 0 && { rulesAdd: [...rules.values()] }),
    ...(removed.length > 0 && { rulesRemove: [...new Set(removed)] }),
  };
}

/** One rule as the policy shows it, in the words of the flag that sets it. */
export function formatRule(rule: FieldRule): string {
  switch (rule.match) {
    case "number": {
      const limits = [rule.rel !== undefined && `rel ${rule.rel}`, rule.abs !== undefined && `abs ${rule.abs}`];
      return `${rule.path}: a number, within ${limits.filter(Boolean).join(" or ")}`;
    }
    case "unordered":
      return `${rule.path}: order does not matter${rule.key ? `, elements matched by ${rule.key}` : ""}`;
    case "present":
      return `${rule.path}: only presence (and type) matters`;
    case "format":
      return `${rule.path}: any value of format ${rule.format}`;
  }
}
