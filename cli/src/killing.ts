import type { AdminApiClient, ServiceRecord } from "./client.ts";
import { UsageError } from "./errors.ts";
import { listMatching } from "./listing.ts";

/** What one `kill` applies to. */
type KillTarget = { kind: "version"; name: string; version: string } | { kind: "name"; name: string } | { kind: "all" };

export function killTarget(args: {
  name?: string | undefined;
  version?: string | undefined;
  all?: boolean;
}): KillTarget {
  if (args.all && args.name !== undefined) {
    throw new UsageError("Give either NAME [VERSION] or --all, not both");
  }
  if (args.all) return { kind: "all" };
  if (args.name === undefined) {
    throw new UsageError(
      "Say what to kill: `daeploy-edge kill NAME VERSION` (one version), `daeploy-edge kill NAME` " +
        "(every version of NAME) or `daeploy-edge kill --all` (every service)",
    );
  }
  return args.version === undefined
    ? { kind: "name", name: args.name }
    : { kind: "version", name: args.name, version: args.version };
}

/** The rows shown before the question: exactly what the kill will remove. */
export function findVictims(api: AdminApiClient, target: KillTarget): Promise<ServiceRecord[]> {
  if (target.kind === "all") return listMatching(api);
  return listMatching(api, target.name, target.kind === "version" ? target.version : undefined);
}

/** Mains last within each name, as Daeploy kills them: a shadow never outlives its main in the output. */
export const shadowsFirst = (records: readonly ServiceRecord[]): ServiceRecord[] =>
  [...records].sort((a, b) => Number(a.main) - Number(b.main));

/**
 * Kills and yields each killed version in order, one name at a time, so a refusal half-way
 * through still leaves what was killed on screen. A name is killed with one call (the gateway
 * removes all its versions at once); a single version goes through the I3 rule on the gateway.
 */
export async function* killInOrder(
  api: AdminApiClient,
  target: KillTarget,
  victims: readonly ServiceRecord[],
): AsyncGenerator<ServiceRecord> {
  if (target.kind === "version") {
    yield* shadowsFirst(await api.killVersion(target.name, target.version));
    return;
  }
  const names = target.kind === "name" ? [target.name] : [...new Set(victims.map((victim) => victim.name))];
  for (const name of names) yield* shadowsFirst(await api.killName(name));
}
