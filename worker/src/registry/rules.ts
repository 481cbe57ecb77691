// The rules and their tags (I1–I6) are written out in docs/rules.md.
import { AppError } from "../errors.ts";
import { CANARY_MAX_PERCENT } from "./validation.ts";

/** What a rule needs to know about one version of a name. */
export interface VersionState {
  version: string;
  main: boolean;
}

/** The gate judges the last hour of evidence. */
export const GATE_WINDOW = { ms: 60 * 60_000, label: "1h" } as const;

const describe = (name: string, version: string) => `${name} ${version}`;

/** A name that has no version is unknown: 404. */
export function requireName(existing: readonly VersionState[], name: string): void {
  if (existing.length === 0) throw new AppError(404, "service_not_found", `No service named ${name}`);
}

/** The version a call is about, or 404 saying whether the name or only the version is unknown. */
export function findVersion<V extends VersionState>(existing: readonly V[], name: string, version: string): V {
  const target = existing.find((v) => v.version === version);
  if (target) return target;
  requireName(existing, name);
  throw new AppError(404, "version_not_found", `${describe(name, version)} is not deployed`);
}

/** I2 and I5: the first version of a name is main, later ones are shadows, and no version is deployed twice. */
export function decideDeploy(existing: readonly VersionState[], name: string, version: string): { main: boolean } {
  if (existing.some((v) => v.version === version)) {
    throw new AppError(
      409,
      "version_exists",
      `${describe(name, version)} is already deployed; kill it first or deploy another version`,
    );
  }
  return { main: existing.length === 0 };
}

/** I6: assigning an unknown version is 404, assigning the current main changes nothing. */
export function decideAssign(
  existing: readonly VersionState[],
  name: string,
  version: string,
): { change: false } | { change: true; previousMain: string | undefined } {
  const target = findVersion(existing, name, version);
  if (target.main) return { change: false };
  return { change: true, previousMain: existing.find((v) => v.main)?.version };
}

/** I3 and I4: shadows can always go, a main only when it is the last version. */
export function decideKillVersion(existing: readonly VersionState[], name: string, version: string): void {
  const target = findVersion(existing, name, version);
  if (!target.main) return;
  const shadows = existing.filter((v) => !v.main).map((v) => describe(name, v.version));
  if (shadows.length > 0) {
    throw new AppError(
      403,
      "main_has_shadows",
      `Cannot kill main ${describe(name, version)} while it has shadows (${shadows.join(", ")}); ` +
        `assign another main first, or kill all versions of ${name} at once by name`,
    );
  }
}

/** I4: killing by name takes every version at once; an unknown name is 404. */
export function decideKillName(existing: readonly VersionState[], name: string): void {
  requireName(existing, name);
}

/** N1: killing the last version of a name, by name or by version, forgets the name: its policy and evidence go too. */
export function killEndsName(existing: readonly VersionState[], version?: string): boolean {
  return version === undefined || existing.every((v) => v.version === version);
}

/** T1: traffic controls can change on any deployed version; they take effect while it is a shadow. */
export function decideTrafficChange<V extends VersionState>(existing: readonly V[], name: string, version: string): V {
  return findVersion(existing, name, version);
}

/** What the canary rule needs to know about one version of a name. */
export interface CanaryState extends VersionState {
  canaryPercent: number;
}

/** Shares are kept to two decimals; summing in hundredths keeps 0.07 + 0.03 from becoming 0.09999. */
const hundredths = (percent: number) => Math.round(percent * 100);

/**
 * T2: the canary shares of a name's shadows add up to at most CANARY_MAX_PERCENT, and a main has
 * none. `version` is the one being set to `canaryPercent` (a deploy's new version is not in
 * `existing`; `main` says whether it becomes main). Lowering a share is always allowed, so a name
 * whose stored shares already add up to more can still be brought back under the bound.
 */
export function decideCanaryShare(
  existing: readonly CanaryState[],
  name: string,
  target: { version: string; main: boolean; canaryPercent: number },
): void {
  const { version, main, canaryPercent } = target;
  if (canaryPercent <= 0) return;
  if (main) {
    throw new AppError(
      422,
      "invalid_field",
      `canaryPercent must be 0 for ${describe(name, version)}: it is main (the first version of a name is), ` +
        "and main answers every request no canary answers; set the share on a shadow",
      "canaryPercent",
    );
  }
  const current = existing.find((v) => v.version === version)?.canaryPercent ?? 0;
  if (canaryPercent <= current) return;
  const others = existing.filter((v) => !v.main && v.version !== version && v.canaryPercent > 0);
  const total = others.reduce((sum, v) => sum + hundredths(v.canaryPercent), hundredths(canaryPercent)) / 100;
  if (total <= CANARY_MAX_PERCENT) return;
  const shares = [...others, { version, canaryPercent }].map((v) => `${v.version} ${v.canaryPercent} %`).join(", ");
  throw new AppError(
    422,
    "invalid_field",
    `canaryPercent ${canaryPercent} would make the canary shares of ${name} add up to ${total} % (${shares}); ` +
      `together they may answer at most ${CANARY_MAX_PERCENT} % of its requests, so lower another canary first`,
    "canaryPercent",
  );
}

/** What the promotion gate knows about the version being assigned, over its window. */
export type GateEvidence =
  | { verdict: "pass" | "fail" | "inconclusive"; reasons: readonly string[] }
  | { unavailable: string };

/**
 * G2–G5, the promotion gate, applied when assign would change main: a failing
 * version is refused unless forced; evidence that cannot be read refuses too
 * (the gate fails closed) unless forced; no verdict yet or a forced override
 * proceed with a warning; a pass proceeds.
 */
export function decideGate(
  evidence: GateEvidence,
  name: string,
  version: string,
  options: { force: boolean; window: string },
): { warning?: string } {
  const subject = `${describe(name, version)} (last ${options.window})`;
  if ("unavailable" in evidence) {
    if (options.force) {
      return {
        warning: `The evidence for ${subject} could not be read (${evidence.unavailable}); main changed unchecked (promotion forced)`,
      };
    }
    throw new AppError(
      409,
      "evidence_unavailable",
      `The evidence for ${subject} could not be read (${evidence.unavailable}), so the promotion gate cannot judge it. ` +
        "Try again shortly, or force the promotion (force: true) to change main unchecked",
    );
  }
  const { verdict, reasons } = evidence;
  if (verdict === "pass") return {};
  if (verdict === "inconclusive") {
    return { warning: `No verdict for ${subject} yet: ${reasons.join("; ")}; main changed anyway` };
  }
  if (options.force) return { warning: `${subject} fails the promotion gate; main changed anyway (promotion forced)` };
  // The reasons travel once, in `reasons`; every view lists them from there.
  throw new AppError(
    409,
    "gate_failed",
    `${subject} fails the promotion gate (the reasons are in error.reasons). ` +
      "Fix the shadow, ignore noisy paths in the name's policy, or force the promotion (force: true)",
    undefined,
    { reasons: [...reasons] },
  );
}
