// "What needs me?": which names want the operator first, and why.
import type { ServiceRecord, ShadowReport } from "./api.ts";

/** Why a name needs the operator, most urgent first; `undefined` when it does not. */
export type Attention = "fail" | "unreachable";

const RANK: Record<Attention, number> = { fail: 0, unreachable: 1 };

/** A name's shadows' verdicts over the page's window, as the report gave them. */
export type VerdictsByName = ReadonlyMap<string, readonly ShadowReport[]>;

export function attentionOf(name: string, services: readonly ServiceRecord[], verdicts: VerdictsByName) {
  if ((verdicts.get(name) ?? []).some((shadow) => shadow.verdict === "fail")) return "fail" as const;
  if (services.some((record) => record.name === name && record.status === "unreachable")) return "unreachable" as const;
  return undefined;
}

/** Every name once: those that need the operator first (failing, then unreachable), then the rest, each by name. */
export function namesByAttention(services: readonly ServiceRecord[], verdicts: VerdictsByName): string[] {
  const names = [...new Set(services.map((record) => record.name))];
  const rank = (name: string) => {
    const attention = attentionOf(name, services, verdicts);
    return attention === undefined ? 2 : RANK[attention];
  };
  return names.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** The name the page opens on: the first that needs the operator, else the first with a shadow, else the first. */
export function firstToOpen(services: readonly ServiceRecord[], verdicts: VerdictsByName): string | undefined {
  const names = namesByAttention(services, verdicts);
  const needing = names.find((name) => attentionOf(name, services, verdicts) !== undefined);
  const shadowed = names.find((name) => services.some((record) => record.name === name && !record.main));
  return needing ?? shadowed ?? names[0];
}
