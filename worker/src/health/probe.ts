import type { ServiceStatus } from "../db/schema.ts";
import { reasonOf } from "../errors.ts";

export type ProbeResult =
  | { status: Extract<ServiceStatus, "running">; httpStatus: number }
  | { status: "unreachable"; reason: string };

/** An origin is running when it answers HTTP at all; any status code counts. */
export async function probeOrigin(origin: string, timeoutMs: number): Promise<ProbeResult> {
  try {
    const response = await fetch(origin, {
      method: "GET",
      redirect: "manual",
      headers: { "User-Agent": "daeploy-edge-health" },
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return { status: "running", httpStatus: response.status };
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    return { status: "unreachable", reason: timedOut ? `no answer within ${timeoutMs} ms` : reasonOf(error) };
  }
}
