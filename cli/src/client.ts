import { STATUS_CODES } from "node:http";
import { hc, type InferResponseType } from "hono/client";
import type { AdminApi } from "../../worker/src/api/routes.ts";
import type { ErrorBody } from "../../worker/src/errors.ts";
import type { Connection } from "./config.ts";
import { ApiRefusal, HostUnreachable, NotAGateway } from "./errors.ts";

const createAdminClient = (base: string, init: Parameters<typeof hc>[1]) => hc<AdminApi>(base, init);
type AdminClient = ReturnType<typeof createAdminClient>;

/** A version as the gateway reports it; typed by the worker's own routes, never copied. */
export type ServiceRecord = InferResponseType<AdminClient["services"]["$post"], 201>;
export type DeployRequest = Parameters<AdminClient["services"]["$post"]>[0]["json"];

type NameRoutes = AdminClient["services"][":name"];
type VersionRoutes = NameRoutes[":version"];

export type TrafficControls = Parameters<VersionRoutes["$patch"]>[0]["json"];
export type AssignResult = InferResponseType<NameRoutes["main"]["$put"], 200>;
/** Each shadow's evidence against main over a window, and its verdict. */
export type EvidenceReport = InferResponseType<NameRoutes["report"]["$get"], 200>;
export type ShadowReport = EvidenceReport["shadows"][number];
/** One version's verdict as the gate endpoint answers it, on pass (200) and otherwise (412) alike. */
export type GateResult = InferResponseType<VersionRoutes["gate"]["$get"], 200>;
export type DiffSample = InferResponseType<VersionRoutes["diffs"]["$get"], 200>["samples"][number];
/** A name's whole policy, defaults included. */
export type EvidencePolicy = InferResponseType<NameRoutes["policy"]["$get"], 200>;
/** What a policy change sends: only the given fields change, gate thresholds one by one. */
export type PolicyChange = Parameters<NameRoutes["policy"]["$put"]>[0]["json"];
/** One change in the gateway's audit trail. */
export type AuditRow = InferResponseType<AdminClient["audit"]["$get"], 200>["audit"][number];

/** A rollout as the gateway shows it: its steps, the step in effect, each step's verdict, what comes next. */
export type Rollout = InferResponseType<NameRoutes["rollout"]["$get"], 200>;
export type RolloutRequest = Parameters<VersionRoutes["rollout"]["$post"]>[0]["json"];

/** A replay of captured traffic to one version: its progress and verdict. */
export type Replay = InferResponseType<VersionRoutes["replays"]["$post"], 201>;
export type ReplayRequest = Parameters<VersionRoutes["replays"]["$post"]>[0]["json"];

/** Long enough for a deploy whose origin check waits out HEALTH_TIMEOUT_MS; short enough not to hang a script. */
const REQUEST_TIMEOUT_MS = 60_000;

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "no route to host",
  ETIMEDOUT: "connection timed out",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_SOCKET: "connection closed",
};

/** fetch only says "fetch failed"; the reason a person can act on is in its cause. */
function networkReason(error: unknown): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  }
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined;
  if (code && NETWORK_REASONS[code]) return NETWORK_REASONS[code];
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

const isErrorBody = (value: unknown): value is ErrorBody =>
  typeof value === "object" &&
  value !== null &&
  "error" in value &&
  typeof value.error === "object" &&
  value.error !== null &&
  "message" in value.error &&
  typeof value.error.message === "string";

interface AnsweredResponse {
  status: number;
  statusText: string;
  text(): Promise<string>;
}

/** The one place an API refusal becomes `Command failed: …`. */
async function refusal(response: AnsweredResponse): Promise<ApiRefusal> {
  const reason = STATUS_CODES[response.status] ?? (response.statusText || "Unknown Status");
  const text = await response.text().catch(() => "");
  const detail = text.trim().split("\n")[0]?.slice(0, 200) || "no details given";
  try {
    const body: unknown = JSON.parse(text);
    if (isErrorBody(body)) return new ApiRefusal(response.status, reason, body.error.message, body.error);
  } catch {
    // Not JSON (a proxy in front of the gateway, say): its first line is the best detail there is.
  }
  return new ApiRefusal(response.status, reason, detail);
}

/** The admin API as the commands use it: answers, or a typed error that says what went wrong. */
export interface AdminApiClient {
  readonly host: string;
  listServices(name?: string): Promise<ServiceRecord[]>;
  deploy(request: DeployRequest): Promise<ServiceRecord>;
  /** Changes main unless the gate refuses (409 gate_failed) and `force` is not set. */
  assignMain(name: string, version: string, force?: boolean): Promise<AssignResult>;
  killVersion(name: string, version: string): Promise<ServiceRecord[]>;
  killName(name: string): Promise<ServiceRecord[]>;
  setTrafficControls(name: string, version: string, controls: TrafficControls): Promise<ServiceRecord>;
  /** `baseline`: an older main to read the evidence against (the current main's when omitted). */
  report(name: string, window?: string, baseline?: string): Promise<EvidenceReport>;
  diffs(name: string, version: string, filter: { path?: string; limit?: string }): Promise<DiffSample[]>;
  /** The version's verdict over the window: 200 and 412 are both answers; anything else is a refusal. */
  gate(name: string, version: string, window?: string): Promise<GateResult>;
  policy(name: string): Promise<EvidencePolicy>;
  changePolicy(name: string, change: PolicyChange): Promise<EvidencePolicy>;
  startRollout(name: string, version: string, request: RolloutRequest): Promise<Rollout>;
  /** The name's latest rollout, running or ended. */
  rollout(name: string): Promise<Rollout>;
  abortRollout(name: string): Promise<Rollout>;
  /** The audit trail, newest first. */
  audit(query: { name?: string; limit?: string; before?: string }): Promise<AuditRow[]>;
  startReplay(name: string, version: string, request: ReplayRequest): Promise<Replay>;
  replay(name: string, id: string): Promise<Replay>;
  /** The name's replays, newest first. */
  replays(name: string): Promise<Replay[]>;
  stopReplay(name: string, id: string): Promise<Replay>;
}

export function connectAdminApi({ host, token }: Connection): AdminApiClient {
  const fetchOrExplain: typeof fetch = async (input, init) => {
    try {
      return await fetch(input, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      throw new HostUnreachable(host, networkReason(error));
    }
  };
  const api = createAdminClient(`${host}/api/v1`, {
    headers: { Authorization: `Bearer ${token}` },
    fetch: fetchOrExplain,
  });

  /** Refusals become ApiRefusal; a 2xx that is not JSON means the URL points somewhere else. */
  async function answer<T>(response: AnsweredResponse & { ok: boolean; json(): Promise<T> }): Promise<T> {
    if (!response.ok) throw await refusal(response);
    try {
      return await response.json();
    } catch {
      throw new NotAGateway(host, `its answer to ${response.status} was not JSON`);
    }
  }

  /** The types promise a list; a host that is not the gateway may still answer 200 with something else. */
  function listFrom(list: ServiceRecord[] | undefined, what: string): ServiceRecord[] {
    if (!Array.isArray(list)) throw new NotAGateway(host, `its answer had no list of ${what}`);
    return list;
  }

  function replayFrom(replay: Replay): Replay {
    if (typeof replay?.state !== "string") throw new NotAGateway(host, "its answer had no replay state");
    return replay;
  }

  function rolloutFrom(rollout: Rollout): Rollout {
    if (!Array.isArray(rollout?.steps)) throw new NotAGateway(host, "its answer had no rollout steps");
    return rollout;
  }

  return {
    host,
    async listServices(name) {
      const response = await api.services.$get({ query: name === undefined ? {} : { name } });
      return listFrom((await answer(response)).services, "services");
    },
    async deploy(request) {
      const response = await api.services.$post({ json: request });
      if (response.status !== 201) throw await refusal(response);
      const record = await answer(response);
      if (typeof record?.name !== "string") throw new NotAGateway(host, "its answer to a deploy was no service");
      return record;
    },
    async assignMain(name, version, force = false) {
      const response = await api.services[":name"].main.$put({ param: { name }, json: { version, force } });
      const body = await answer(response);
      listFrom(body.services, "services");
      return body;
    },
    async killVersion(name, version) {
      const response = await api.services[":name"][":version"].$delete({ param: { name, version } });
      return listFrom((await answer(response)).killed, "killed services");
    },
    async killName(name) {
      const response = await api.services[":name"].$delete({ param: { name } });
      return listFrom((await answer(response)).killed, "killed services");
    },
    async setTrafficControls(name, version, controls) {
      const response = await api.services[":name"][":version"].$patch({ param: { name, version }, json: controls });
      return answer(response);
    },
    async report(name, window, baseline) {
      const query = { ...(window !== undefined && { window }), ...(baseline !== undefined && { baseline }) };
      const report = await answer(await api.services[":name"].report.$get({ param: { name }, query }));
      if (!Array.isArray(report?.shadows)) throw new NotAGateway(host, "its report had no shadows");
      return report;
    },
    async diffs(name, version, { path, limit }) {
      const query = { ...(path !== undefined && { path }), ...(limit !== undefined && { limit }) };
      const response = await api.services[":name"][":version"].diffs.$get({ param: { name, version }, query });
      const { samples } = await answer(response);
      if (!Array.isArray(samples)) throw new NotAGateway(host, "its answer had no samples");
      return samples;
    },
    async gate(name, version, window) {
      const query = window === undefined ? {} : { window };
      const response = await api.services[":name"][":version"].gate.$get({ param: { name, version }, query });
      if (response.status !== 200 && response.status !== 412) throw await refusal(response);
      let body: GateResult;
      try {
        body = (await response.json()) as GateResult;
      } catch {
        throw new NotAGateway(host, `its answer to ${response.status} was not JSON`);
      }
      if (typeof body?.verdict !== "string") throw new NotAGateway(host, "its gate answer had no verdict");
      return body;
    },
    async policy(name) {
      return answer(await api.services[":name"].policy.$get({ param: { name } }));
    },
    async changePolicy(name, change) {
      return answer(await api.services[":name"].policy.$put({ param: { name }, json: change }));
    },
    async startRollout(name, version, request) {
      const response = await api.services[":name"][":version"].rollout.$post({
        param: { name, version },
        json: request,
      });
      if (response.status !== 201) throw await refusal(response);
      return rolloutFrom(await answer(response));
    },
    async rollout(name) {
      return rolloutFrom(await answer(await api.services[":name"].rollout.$get({ param: { name } })));
    },
    async abortRollout(name) {
      return rolloutFrom(await answer(await api.services[":name"].rollout.$delete({ param: { name } })));
    },
    async startReplay(name, version, request) {
      const response = await api.services[":name"][":version"].replays.$post({
        param: { name, version },
        json: request,
      });
      if (response.status !== 201) throw await refusal(response);
      return replayFrom(await answer(response));
    },
    async replay(name, id) {
      return replayFrom(await answer(await api.services[":name"].replays[":id"].$get({ param: { name, id } })));
    },
    async replays(name) {
      const { replays } = await answer(await api.services[":name"].replays.$get({ param: { name } }));
      if (!Array.isArray(replays)) throw new NotAGateway(host, "its answer had no list of replays");
      return replays;
    },
    async stopReplay(name, id) {
      return replayFrom(await answer(await api.services[":name"].replays[":id"].$delete({ param: { name, id } })));
    },
    async audit(query) {
      const { audit } = await answer(await api.audit.$get({ query }));
      if (!Array.isArray(audit)) throw new NotAGateway(host, "its answer had no audit rows");
      return audit;
    },
  };
}
