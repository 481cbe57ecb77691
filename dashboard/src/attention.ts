// "What needs me?": which names want the operator first, and why.
import type { ServiceRecord, ShadowReport } from "./api.ts";

/** Why a name needs the operator, most urgent first; `undefined` when it does not. */
export type Attention = "fail" | "unreachable" | "rollout";

const RANK: Record<Attention, number> = { fail: 0, unreachable: 1, rollout: 2 };
const QUIET = 3;

/** Names with a running rollout: something is changing by itself there, so the operator watches it. */
export type RollingNames = ReadonlySet<string>;
const NONE: RollingNames = new Set();

/** A name's shadows' verdicts over the page's window, as the report gave them. */
export type VerdictsByName = ReadonlyMap<string, readonly ShadowReport[]>;

export function attentionOf(
  name: string,
  services: readonly ServiceRecord[],
  verdicts: VerdictsByName,
  rolling: RollingNames = NONE,
) {
  if ((verdicts.get(name) ?? []).some((shadow) => shadow.verdict === "fail")) return "fail" as const;
  if (services.some((record) => record.name === name && record.status === "unreachable")) return "unreachable" as const;
  if (rolling.has(name)) return "rollout" as const;
  return undefined;
}

/** Every name once: those that need the operator first (failing, unreachable, rolling out), then the rest, each by name. */
export function namesByAttention(
  services: readonly ServiceRecord[],
  verdicts: VerdictsByName,
  rolling: RollingNames = NONE,
): string[] {
  const names = [...new Set(services.map((record) => record.name))];
  const rank = (name: string) => {
    const attention = attentionOf(name, services, verdicts, rolling);
    return attention === undefined ? QUIET : RANK[attention];
  };
  return names.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** The name the page opens on: the first that needs the operator, else the first with a shadow, else the first. */
export function firstToOpen(
  services: readonly ServiceRecord[],
  verdicts: VerdictsByName,
  rolling: RollingNames = NONE,
): string | undefined {
  const names = namesByAttention(services, verdicts, rolling);
  const needing = names.find((name) => attentionOf(name, services, verdicts, rolling) !== undefined);
  const shadowed = names.find((name) => services.some((record) => record.name === name && !record.main));
  return needing ?? shadowed ?? names[0];
}

/** What the page needs of a running rollout to show its version's verdict. */
interface RollingVersion {
  version: string;
  current?: { verdict: ShadowReport["verdict"] | null; reasons: string[] } | null;
}

/**
 * One verdict per version: while a rollout runs, its version is judged on its running step (what the
 * rollout acts on), so the step's verdict so far stands in for the window's in the table, the tabs,
 * the shadow's card and the attention it draws, as in the rollout panel. Until the step has a
 * verdict, the window's stays.
 */
export function withStepVerdict(shadows: readonly ShadowReport[], rollout: RollingVersion | undefined): ShadowReport[] {
  const step = rollout?.current;
  if (!rollout || !step?.verdict) return [...shadows];
  const { verdict, reasons } = step;
  return shadows.map((shadow) => (shadow.version === rollout.version ? { ...shadow, verdict, reasons } : shadow));
}

/** Every name's shadows' verdicts as the page shows them (see withStepVerdict). */
export function verdictsDuringRollouts(
  verdicts: VerdictsByName,
  rollouts: ReadonlyMap<string, RollingVersion>,
): Map<string, readonly ShadowReport[]> {
  return new Map([...verdicts].map(([name, shadows]) => [name, withStepVerdict(shadows, rollouts.get(name))]));
}
