// Every call goes to this origin's /api/v1 with the token as a Bearer header, never in a URL.
import type { RolloutView } from "../../worker/src/api/schemas.ts";
import type { AssignResult, PolicyResult } from "../../worker/src/coordinator/results.ts";
import type { ErrorBody } from "../../worker/src/errors.ts";
import type { ExchangeSample } from "../../worker/src/evidence/batch.ts";
import type { EvidenceReport, ReportSeries, ShadowReport } from "../../worker/src/evidence/verdict.ts";
import type { AuditRecord, ServiceRecord } from "../../worker/src/registry/records.ts";

export type {
  AssignResult,
  AuditRecord,
  EvidenceReport,
  ExchangeSample,
  PolicyResult,
  ReportSeries,
  RolloutView,
  ServiceRecord,
  ShadowReport,
};

/** The report as the dashboard asks for it: with its per-minute series (`?series=true`). */
export type Report = EvidenceReport;

/**
 * A replay as `GET /api/v1/services/:name/replays` lists it: the fields the page shows. Declared here
 * because the worker's `ReplayView` sits beside the replay runner, whose module needs Workers types.
 */
export interface ReplayView {
  id: string;
  name: string;
  version: string;
  state: "running" | "done" | "stopped";
  sent: number;
  total: number;
  from: string;
  to: string;
  rate: number;
  verdict: { outcome: "pass" | "fail" | "inconclusive"; reasons: string[] };
  stoppedBecause: string | null;
}

/** Who the dashboard is signed in as (GET /api/v1/session). */
export interface Session {
  actor: string;
  canWrite: boolean;
}

/** The API refused the call: its status, code and message, as the dashboard shows them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly reasons: string[] = [],
  ) {
    super(message);
  }
}

/** The API could not be reached at all. */
export class ApiUnreachable extends Error {}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export async function callApi<T>(token: string, method: Method, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers: {
        // No token: signed in by Cloudflare Access, whose assertion the browser's requests carry.
        ...(token === "" ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiUnreachable(
      `The gateway's API at ${location.origin}/api/v1 cannot be reached (${error instanceof Error ? error.message : String(error)}).`,
    );
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (response.ok) {
    if (parsed === undefined) throw new ApiUnreachable(`The API answered ${response.status} without JSON.`);
    return parsed as T;
  }
  const refusal = (parsed as ErrorBody | undefined)?.error;
  if (!refusal || typeof refusal.message !== "string") {
    throw new ApiUnreachable(`The API answered ${response.status} ${response.statusText} without an error message.`);
  }
  throw new ApiError(response.status, refusal.code, refusal.message, refusal.reasons ?? []);
}

/** One line for a notice: `409 gate_failed: …`. */
export function describeFailure(error: unknown): string {
  if (error instanceof ApiError) return `${error.status} ${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

export const enc = encodeURIComponent;
