import type { CaptureLog } from "../capture/log.ts";
import { maxBytesPerHour } from "../capture/tap.ts";
import { listServices, openDatabase, readPolicy } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { AppError, reasonOf } from "../errors.ts";
import type { Actor } from "../registry/records.ts";
import { findVersion, requireName } from "../registry/rules.ts";
import { type ReplayRecord, replayLedgerName, SAFE_METHODS } from "./record.ts";
import { type ReplayView, replayReport, replayView } from "./view.ts";

/** The longest window one replay takes: the longest retention. */
const MAX_WINDOW_MS = 168 * 3_600_000;
/** Replays listed per name, newest first. */
const LIST_MAX = 50;

const captureLog = (env: Env, name: string): DurableObjectStub<CaptureLog> => env.CAPTURE_LOG.getByName(name);
const runner = (env: Env, name: string, id: string) => env.REPLAY_RUNNER.getByName(`${name}/${id}`);

export interface ReplayRequest {
  name: string;
  version: string;
  from: string;
  to?: string | undefined;
  rate: number;
  methods?: string[] | null | undefined;
  actor: Actor;
}

function windowOf(request: ReplayRequest, now: number): { from: number; to: number } {
  const from = Date.parse(request.from);
  const to = request.to === undefined ? now : Date.parse(request.to);
  if (!(from < to)) throw new AppError(422, "invalid_field", "from must be before to", "from");
  if (to - from > MAX_WINDOW_MS) {
    throw new AppError(
      422,
      "invalid_field",
      "from must be at most 168 hours before to (captures are kept at most that long)",
      "from",
    );
  }
  return { from, to };
}

/**
 * Starts a replay of a captured window to one version. 404 for a version that is not deployed, 409 when
 * that version already has a replay running, 422 when the window holds nothing to replay.
 */
export async function startReplay(env: Env, request: ReplayRequest): Promise<ReplayView> {
  const { name, version } = request;
  const db = openDatabase(env.DB);
  findVersion(await listServices(db, name), name, version);
  const window = windowOf(request, Date.now());
  const log = captureLog(env, name);
  for (const known of await log.replays()) {
    if (known.version !== version) continue;
    const record = await runner(env, name, known.id).record();
    if (record?.state === "running") {
      throw new AppError(
        409,
        "replay_running",
        `${name} ${version} already has replay ${known.id} running; stop it first (replay stop ${name} ${known.id})`,
      );
    }
  }
  const id = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  const methods = request.methods === null ? null : (request.methods ?? [...SAFE_METHODS]);
  const stub = runner(env, name, id);
  const record = await stub.start({
    id,
    name,
    version,
    ...window,
    rate: request.rate,
    methods,
    policy: await readPolicy(db, name),
    actor: request.actor,
  });
  if (record.total === 0) {
    await stub.destroy();
    const what = methods === null ? "requests" : `${methods.join(", ")} requests`;
    throw new AppError(
      422,
      "nothing_to_replay",
      `No ${what} of ${name} were captured between ${new Date(window.from).toISOString()} and ${new Date(window.to).toISOString()}; see GET /api/v1/services/${name}/captures (is the policy's capture on?)`,
      "from",
    );
  }
  await log.noteReplay(id, version, record.createdAt);
  return replayView(env, record);
}

/** One replay of the name (of `version`, when given), or 404. */
async function readReplay(env: Env, name: string, id: string, version?: string): Promise<ReplayRecord> {
  const record = await runner(env, name, id).record();
  if (!record || (version !== undefined && record.version !== version)) {
    requireName(await listServices(openDatabase(env.DB), name), name);
    throw new AppError(404, "replay_not_found", `${name}${version ? ` ${version}` : ""} has no replay ${id}`);
  }
  return record;
}

export async function showReplay(env: Env, name: string, id: string, version?: string): Promise<ReplayView> {
  return replayView(env, await readReplay(env, name, id, version));
}

/** Stops a replay; one that already ended is shown as it ended. */
export async function stopReplay(
  env: Env,
  name: string,
  id: string,
  version?: string,
): Promise<{ view: ReplayView; stopped: boolean }> {
  const record = await readReplay(env, name, id, version);
  const stopped = record.state === "running" ? await runner(env, name, id).stop("stopped by hand") : record;
  return { view: await replayView(env, stopped ?? record), stopped: record.state === "running" };
}

/** The name's replays, newest first. */
export async function listReplays(env: Env, name: string): Promise<ReplayView[]> {
  requireName(await listServices(openDatabase(env.DB), name), name);
  const known = (await captureLog(env, name).replays()).slice(0, LIST_MAX);
  const records: (ReplayRecord | undefined)[] = await Promise.all(
    known.map(({ id }) => runner(env, name, id).record()),
  );
  return Promise.all(records.flatMap((r) => (r ? [replayView(env, r)] : [])));
}

/** What the name keeps of its traffic. */
export async function listCaptures(env: Env, name: string) {
  const db = openDatabase(env.DB);
  requireName(await listServices(db, name), name);
  const { capture } = await readPolicy(db, name);
  const { windows } = await captureLog(env, name).windows();
  const total = { requests: 0, bytes: 0, dropped: 0 };
  for (const w of windows) {
    total.requests += w.requests;
    total.bytes += w.bytes;
    total.dropped += w.dropped;
  }
  return {
    name,
    capture: capture ?? null,
    maxBytesPerHour: maxBytesPerHour(env.CAPTURE_MAX_BYTES_PER_HOUR),
    windows,
    total,
  };
}

/** Deletes a name's captures, its replays and their evidence: the name is gone. */
async function forgetCaptures(env: Env, name: string): Promise<void> {
  const log = captureLog(env, name);
  for (const { id } of await log.replays()) {
    await runner(env, name, id).destroy();
    await env.EVIDENCE_LEDGER.getByName(replayLedgerName(name, id)).destroy();
  }
  await log.destroy(name);
}

/** After a kill: when the name has no version left, its captures and replays go too. */
export async function forgetCapturesIfGone(env: Env, name: string): Promise<void> {
  try {
    if ((await listServices(openDatabase(env.DB), name)).length === 0) await forgetCaptures(env, name);
  } catch (error) {
    // The kill stands; what is left is logged, and deleted with the name's next kill.
    console.error(JSON.stringify({ event: "capture_forget_failed", name, reason: reasonOf(error) }));
  }
}

/** `?baseline=replay:<id>` of the name's report: that replay's evidence, over its whole run. */
export async function reportOfReplay(env: Env, name: string, baseline: string, series: boolean) {
  const record = await readReplay(env, name, baseline.slice("replay:".length));
  return replayReport(env, record, series);
}

export const isReplayBaseline = (baseline: string | undefined): baseline is string =>
  baseline?.startsWith("replay:") === true;
