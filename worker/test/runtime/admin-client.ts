import { env, exports } from "cloudflare:workers";
import type { ErrorBody } from "../../src/errors.ts";
import type { ExchangeSample, NoiseMinute, WireMinuteCounts } from "../../src/evidence/batch.ts";
import { LatencyHistogram } from "../../src/evidence/histogram.ts";
import type { ServiceRecord } from "../../src/registry/records.ts";

export const TOKEN = "test-token";

/** Any body the admin API answers with: a record, a list, or an error. */
export interface ApiBody extends Partial<ServiceRecord> {
  services?: ServiceRecord[];
  killed?: ServiceRecord[];
  changed?: boolean;
  error?: ErrorBody["error"];
}

export interface ApiCall<B = ApiBody> {
  status: number;
  headers: Headers;
  body: B;
}

/** Calls the admin API through the worker's real fetch handler; `B` types a body other than a record's. */
export async function api<B = ApiBody>(
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; authorization?: string | null } = {},
): Promise<ApiCall<B & { error?: ErrorBody["error"] }>> {
  const headers = new Headers();
  const authorization = options.authorization === undefined ? `Bearer ${TOKEN}` : options.authorization;
  if (authorization !== null) headers.set("authorization", authorization);
  let body: string | undefined;
  if (options.rawBody !== undefined || options.body !== undefined) {
    headers.set("content-type", "application/json");
    body = options.rawBody ?? JSON.stringify(options.body);
  }
  const response = await exports.default.fetch(`http://gateway.test/api/v1${path}`, { method, headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
}

export const deploy = (name: string, version: string, origin: string, check = false) =>
  api("POST", "/services", { body: { name, version, origin, check } });

/** Every version of a name, straight from the API. */
export async function versionsOf(name: string): Promise<ServiceRecord[]> {
  const { body } = await api("GET", `/services?name=${name}`);
  return body.services ?? [];
}

const MINUTE_MS = 60_000;

/** One minute of one shadow's evidence, as the proxy's batches would leave it in the ledger. */
export interface EvidenceMinute {
  /** Any moment of the minute; now by default. */
  at?: number;
  mirrored?: number;
  compared: number;
  notCompared?: number;
  down?: number;
  skipped?: number;
  unrecorded?: number;
  /** Compared requests that differed at exactly one path each (kind `value`), by path. */
  different?: Record<string, number>;
  errorsMain?: number;
  errorsShadow?: number;
  /** Latency of every compared request, main and shadow. */
  latencyMs?: { main: number; shadow: number };
  /** Main-against-main exchanges of the minute, and the `path kind` fields that differed on them. */
  noise?: { sampled: number; paths: Record<string, number> };
  samples?: ExchangeSample[];
  /** The main the shadow was compared with (1.0.0, the tests' usual main, when not given). */
  baseline?: string;
  /** Of the mirrored requests, those the shadow answered as a canary (a rollout step needs minRequests of them). */
  canary?: number;
}

/** The one route every minute written here is on. */
export const ROUTE = "GET /";

/** A minute's twin copies to `main`, all on ROUTE. */
function noiseOn(main: string, minute: number, noise: { sampled: number; paths: Record<string, number> }): NoiseMinute {
  const paths = Object.fromEntries(Object.entries(noise.paths).map(([field, n]) => [`${ROUTE}\t${field}`, n]));
  return { main, minute, sampled: noise.sampled, routes: { [ROUTE]: noise.sampled }, paths };
}

/** Writes evidence straight into a name's ledger through its own `record` RPC. */
export async function recordEvidence(name: string, version: string, minute: EvidenceMinute): Promise<void> {
  const at = minute.at ?? Date.now();
  const latency = (ms: number | undefined) => {
    const histogram = new LatencyHistogram();
    if (ms !== undefined) histogram.add(ms, minute.compared);
    return histogram.toJson();
  };
  const counts: WireMinuteCounts = {
    version,
    baseline: minute.baseline ?? "1.0.0",
    minute: Math.floor(at / MINUTE_MS),
    mirrored: minute.mirrored ?? minute.compared + (minute.notCompared ?? 0) + (minute.errorsShadow ?? 0),
    compared: minute.compared,
    notCompared: minute.notCompared ?? 0,
    errorsShadow: minute.errorsShadow ?? 0,
    down: minute.down ?? 0,
    skipped: minute.skipped ?? 0,
    unrecorded: minute.unrecorded ?? 0,
    errorsMain: minute.errorsMain ?? 0,
    latencyMain: latency(minute.latencyMs?.main),
    latencyShadow: latency(minute.latencyMs?.shadow),
    signatures: Object.fromEntries(
      Object.entries(minute.different ?? {}).map(([path, n]) => [`${ROUTE}\t${path} value`, n]),
    ),
    partialSignatures: {},
    routes: { [ROUTE]: minute.compared + (minute.notCompared ?? 0) },
    canary: minute.canary ?? 0,
  };
  await env.EVIDENCE_LEDGER.getByName(name).record({
    shadows: [counts],
    noise: minute.noise ? [noiseOn(counts.baseline, counts.minute, minute.noise)] : [],
    samples: (minute.samples ?? []).map((sample) => ({ ...sample, version })),
    dropped: 0,
  });
}
