import { exports } from "cloudflare:workers";
import type { ServiceRecord } from "../../src/api/schemas.ts";
import type { ErrorBody } from "../../src/errors.ts";

export const TOKEN = "test-token";

/** Any body the admin API answers with: a record, a list, or an error. */
export interface ApiBody extends Partial<ServiceRecord> {
  services?: ServiceRecord[];
  killed?: ServiceRecord[];
  changed?: boolean;
  error?: ErrorBody["error"];
}

export interface ApiCall {
  status: number;
  headers: Headers;
  body: ApiBody;
}

/** Calls the admin API through the worker's real fetch handler. */
export async function api(
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; authorization?: string | null } = {},
): Promise<ApiCall> {
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
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as ApiBody) : {} };
}

export const deploy = (name: string, version: string, origin: string, check = false) =>
  api("POST", "/services", { body: { name, version, origin, check } });

/** Every version of a name, straight from the API. */
export async function versionsOf(name: string): Promise<ServiceRecord[]> {
  const { body } = await api("GET", `/services?name=${name}`);
  return body.services ?? [];
}
