import { isRedactPath } from "../../worker/src/evidence/policy-fields.ts";
import type { EvidencePolicy, PolicyChange } from "./client.ts";
import { UsageError } from "./errors.ts";
import { formatRate } from "./evidence.ts";
import { changesRules, checkDifferencePath, formatRule, type RuleFlags, ruleChange } from "./field-rules.ts";

/** The policy flags the command takes, as citty hands them over (strings, or undefined when absent). */
export interface PolicyFlags extends Partial<RuleFlags> {
  ignore: readonly string[];
  unignore: readonly string[];
  redact: readonly string[];
  unredact: readonly string[];
  noisePercent?: string | undefined;
  minRequests?: string | undefined;
  maxDiffRate?: string | undefined;
  maxErrorIncrease?: string | undefined;
  maxP99Ratio?: string | undefined;
  passP99Ratio?: string | undefined;
  minP99Delta?: string | undefined;
  alpha?: string | undefined;
  /** A receiver's URL, or `off`. */
  notify?: string | undefined;
  /** A comma list of events, for the receiver given or the one already set. */
  notifyEvents?: string | undefined;
  /** The share of requests captured for replays, or `off`. */
  capture?: string | undefined;
}

/**
 * A number as typed. A share may be written as a fraction or with a percent sign (`0.01` or `1%`).
 * Anything else is one line naming the flag; whether the number is in range is the API's to say.
 */
export function numberFlag(flag: string, text: string | undefined, { share = false } = {}): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  const percent = share && trimmed.endsWith("%");
  const digits = percent ? trimmed.slice(0, -1) : trimmed;
  const value = Number(digits);
  if (digits === "" || !Number.isFinite(value)) {
    const example = share ? " (a fraction such as 0.01, or 1%)" : "";
    throw new UsageError(`--${flag} takes a number${example}; got ${JSON.stringify(text)}`);
  }
  return percent ? value / 100 : value;
}

/**
 * --redact and --unredact paths the gateway would refuse, stopped with a line that says what a field
 * looks like, not the API's name for the list (`redactAdd.0`), before the host is asked anything.
 */
export function checkRedactPaths(flags: Pick<PolicyFlags, "redact" | "unredact">): void {
  for (const flag of ["redact", "unredact"] as const) {
    const bad = flags[flag].find((path) => !isRedactPath(path));
    if (bad !== undefined) {
      throw new UsageError(
        `--${flag} takes a sample field, query.<parameter> or body.<json path> (such as query.user or body.email); got ${JSON.stringify(bad)}`,
      );
    }
  }
}

/** --ignore and --unignore paths the gateway would refuse, stopped with the path the user likely meant. */
export function checkIgnorePaths(flags: Pick<PolicyFlags, "ignore" | "unignore">): void {
  for (const flag of ["ignore", "unignore"] as const) for (const path of flags[flag]) checkDifferencePath(flag, path);
}

const ruleFlagsOf = (flags: PolicyFlags): RuleFlags => ({
  tolerance: flags.tolerance ?? [],
  toleranceAbs: flags.toleranceAbs ?? [],
  unordered: flags.unordered ?? [],
  present: flags.present ?? [],
  format: flags.format ?? [],
  noRule: flags.noRule ?? [],
});

/** The rules the flags add and remove; checked before anything is sent. */
export const rulesChange = (flags: PolicyFlags) => ruleChange(ruleFlagsOf(flags));

/** Whether any flag asks for a change; without one, `policy NAME` only shows the policy. */
export const changesPolicy = (flags: PolicyFlags) =>
  changesRules(ruleFlagsOf(flags)) ||
  flags.ignore.length > 0 ||
  flags.unignore.length > 0 ||
  flags.redact.length > 0 ||
  flags.unredact.length > 0 ||
  [
    flags.noisePercent,
    flags.minRequests,
    flags.maxDiffRate,
    flags.maxErrorIncrease,
    flags.maxP99Ratio,
    flags.passP99Ratio,
    flags.minP99Delta,
    flags.alpha,
    flags.notify,
    flags.notifyEvents,
    flags.capture,
  ].some((value) => value !== undefined);

/** What `--capture` makes of the policy's `capture`: a share of requests (the rest default), or null for off. */
export function captureChange(text: string | undefined): PolicyChange["capture"] {
  if (text === undefined) return undefined;
  if (text.trim().toLowerCase() === "off") return null;
  const percent = numberFlag("capture", text.trim().replace(/%$/, ""));
  return percent === undefined ? undefined : { percent };
}

/** What `--notify` and `--notify-events` make of the policy's `notify`; undefined when neither is given. */
function notifyChange(current: EvidencePolicy, flags: PolicyFlags): PolicyChange["notify"] {
  if (flags.notify === "off") {
    if (flags.notifyEvents !== undefined) throw new UsageError("--notify-events makes no sense with --notify off");
    return null;
  }
  const events = flags.notifyEvents
    ?.split(",")
    .map((event) => event.trim())
    .filter((event) => event !== "") as NonNullable<PolicyChange["notify"]>["events"];
  if (flags.notify !== undefined) return { url: flags.notify, ...(events && { events }) };
  if (events === undefined) return undefined;
  if (!current.notify) {
    throw new UsageError("--notify-events needs a receiver: give --notify URL too");
  }
  // The URL is write-only (the API shows its scheme and host): without one, the stored URL is kept.
  return { events };
}

/** The thresholds the flags set, by the API's names; checked before anything is sent. */
export function thresholdChange(flags: PolicyFlags): Pick<PolicyChange, "noisePercent" | "gate"> {
  const change: Pick<PolicyChange, "noisePercent" | "gate"> = {};
  const noisePercent = numberFlag("noise-percent", flags.noisePercent);
  if (noisePercent !== undefined) change.noisePercent = noisePercent;
  const gate: NonNullable<PolicyChange["gate"]> = {};
  const minRequests = numberFlag("min-requests", flags.minRequests);
  if (minRequests !== undefined) gate.minRequests = minRequests;
  const maxDiffRate = numberFlag("max-diff-rate", flags.maxDiffRate, { share: true });
  if (maxDiffRate !== undefined) gate.maxDiffRate = maxDiffRate;
  const maxErrorIncrease = numberFlag("max-error-increase", flags.maxErrorIncrease, { share: true });
  if (maxErrorIncrease !== undefined) gate.maxErrorRateIncrease = maxErrorIncrease;
  const maxP99Ratio = numberFlag("max-p99-ratio", flags.maxP99Ratio);
  if (maxP99Ratio !== undefined) gate.maxP99Ratio = maxP99Ratio;
  const passP99Ratio = numberFlag("pass-p99-ratio", flags.passP99Ratio);
  if (passP99Ratio !== undefined) gate.passP99Ratio = passP99Ratio;
  const minP99Delta = numberFlag("min-p99-delta", flags.minP99Delta);
  if (minP99Delta !== undefined) gate.minP99DeltaMs = minP99Delta;
  const alpha = numberFlag("alpha", flags.alpha, { share: true });
  if (alpha !== undefined) gate.alpha = alpha;
  if (Object.keys(gate).length > 0) change.gate = gate;
  return change;
}

interface PlannedChange {
  /** The partial policy to PUT: only what the flags change. */
  change: PolicyChange;
  /** Paths asked to be unignored that were not ignored, to say so. */
  notIgnored: string[];
  /** Fields asked to be unredacted that were not redacted (by the policy's list), to say so. */
  notRedacted: string[];
}

/** One list's edit: a path both added and removed is removed, each named once. */
function listEdit(add: readonly string[], remove: readonly string[]) {
  return {
    added: [...new Set(add.filter((path) => !remove.includes(path)))],
    removed: [...new Set(remove)],
  };
}

/**
 * The PUT body for the flags. The ignore and redact lists are edited on the gateway (`ignoreAdd`,
 * `ignoreRemove`, `redactAdd`, `redactRemove`), never sent whole, so another operator's edit made since
 * `current` was read is kept. `current` only tells which --unignore and --unredact paths were not listed, to say so.
 */
export function planPolicyChange(current: EvidencePolicy, flags: PolicyFlags): PlannedChange {
  const change: PolicyChange = { ...thresholdChange(flags), ...rulesChange(flags) };
  const notify = notifyChange(current, flags);
  if (notify !== undefined) change.notify = notify;
  const capture = captureChange(flags.capture);
  if (capture !== undefined) change.capture = capture;
  const notIgnored = flags.unignore.filter((path) => !current.ignore.includes(path));
  const notRedacted = flags.unredact.filter((path) => !current.redact.includes(path));
  // --unignore wins over --ignore of the same path, --unredact over --redact.
  const ignore = listEdit(flags.ignore, flags.unignore);
  if (ignore.added.length > 0) change.ignoreAdd = ignore.added;
  if (ignore.removed.length > 0) change.ignoreRemove = ignore.removed;
  const redact = listEdit(flags.redact, flags.unredact);
  if (redact.added.length > 0) change.redactAdd = redact.added;
  if (redact.removed.length > 0) change.redactRemove = redact.removed;
  return { change, notIgnored, notRedacted };
}

/** The policy as lines named after the flags that change them, so the output says how to change it. */
export function formatPolicy(policy: EvidencePolicy): string[] {
  const { gate } = policy;
  const rows: [string, string][] = [
    ["ignore", policy.ignore.length > 0 ? policy.ignore.join(", ") : "(nothing)"],
    ["headers", policy.headers && policy.headers.length > 0 ? policy.headers.join(", ") : "(content-type only)"],
    ["redact", policy.redact.length > 0 ? policy.redact.join(", ") : "(credential-named fields only)"],
    ["noise-percent", `${policy.noisePercent} (of mirrored GET and HEAD requests)`],
    ["min-requests", `${gate.minRequests} (copies with an outcome, before a verdict)`],
    ["max-diff-rate", `${gate.maxDiffRate} (${formatRate(gate.maxDiffRate)})`],
    ["max-error-increase", `${gate.maxErrorRateIncrease} (${formatRate(gate.maxErrorRateIncrease)})`],
    ["max-p99-ratio", `${gate.maxP99Ratio}`],
    [
      "pass-p99-ratio",
      `${gate.passP99Ratio} (a pass needs p50 and p99 clearly within this × main's, or min-p99-delta)`,
    ],
    ["min-p99-delta", `${gate.minP99DeltaMs} ms`],
    ["alpha", `${gate.alpha} (the chance of failing a good shadow, however often it is read)`],
    ["notify", policy.notify ? `${policy.notify.url} (${policy.notify.events.join(", ")})` : "(nowhere)"],
  ];
  // Shown only when on: capture is off unless asked for (`--capture 100`).
  const { capture } = policy;
  if (capture) {
    const methods = capture.methods ? capture.methods.join(", ") : "every method";
    rows.push(["capture", `${capture.percent}% of ${methods} requests, kept ${capture.retentionHours} h (for replay)`]);
  }
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const lines = rows.map(([label, value]) => `  ${label.padEnd(width)}${value}`);
  // Field rules, when there are any, one a line after the lists (without any, every field compares exactly).
  const rules = policy.rules.map((rule, i) => `  ${(i === 0 ? "rules" : "").padEnd(width)}${formatRule(rule)}`);
  lines.splice(3, 0, ...rules);
  return lines;
}
