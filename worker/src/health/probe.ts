import { createMiddleware } from "hono/factory";
import type { ServiceStatus } from "../db/schema.ts";
import type { AppEnv } from "../env.ts";
import { reasonOf } from "../errors.ts";
import { type GatewayKey, gatewayKey } from "../proxy/gateway-key.ts";

type ProbeResult =
  | {
      status: Extract<ServiceStatus, "running">;
      httpStatus: number;
      /** The origin leads back to this gateway: it answered the probe itself. */
      reachesGateway: boolean;
    }
  | { status: "unreachable"; reason: string };

/** Sent with a deploy check: `<nonce>.<signature>`, which only this gateway can make. */
const PROBE_HEADER = "x-daeploy-probe";
/** The gateway's answer to its own probe: its signature of the nonce, which no origin can make. */
const PROBE_ECHO_HEADER = "x-daeploy-probe-echo";

/**
 * An origin is running when it answers HTTP at all; any status code counts.
 * With `key`, the probe is signed, so an origin that leads back to this
 * gateway, by whatever host name and path, is recognised by its echo.
 */
export async function probeOrigin(origin: string, timeoutMs: number, key?: GatewayKey): Promise<ProbeResult> {
  const headers = new Headers({ "User-Agent": "daeploy-edge-health" });
  const nonce = key ? crypto.randomUUID() : undefined;
  if (key && nonce) headers.set(PROBE_HEADER, `${nonce}.${await key.sign("probe", nonce)}`);
  try {
    const response = await fetch(origin, {
      method: "GET",
      redirect: "manual",
      headers,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    const echo = response.headers.get(PROBE_ECHO_HEADER);
    const reachesGateway =
      key !== undefined && nonce !== undefined && echo !== null && (await key.verify("probe-echo", nonce, echo));
    return { status: "running", httpStatus: response.status, reachesGateway };
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    return { status: "unreachable", reason: timedOut ? `no answer within ${timeoutMs} ms` : reasonOf(error) };
  }
}

/**
 * Answers this gateway's own probe before any routing, whatever the path, so
 * a deploy check whose origin leads here learns that at once. Any other
 * request, including another gateway's probe, passes on untouched.
 */
export const answerOwnProbe = createMiddleware<AppEnv>(async function answerOwnProbe(c, next) {
  const probe = c.req.header(PROBE_HEADER);
  if (probe === undefined) return next();
  const dot = probe.indexOf(".");
  const key = await gatewayKey(c.env);
  const nonce = probe.slice(0, dot);
  if (dot < 1 || !(await key.verify("probe", nonce, probe.slice(dot + 1)))) return next();
  return c.body(null, 204, { [PROBE_ECHO_HEADER]: await key.sign("probe-echo", nonce) });
});
