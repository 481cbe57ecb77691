import { isCaptured } from "../capture/record.ts";
import { CaptureTap } from "../capture/tap.ts";
import type { Env } from "../env.ts";
import type { Forwarding, GroupRoute } from "./forwarding.ts";
import { requestBucket } from "./sampling.ts";

/**
 * The capture of one request to a name, when its policy's `capture` selects it (its method, and its
 * share by a hash of the request id, apart from the shadows' share); else undefined, and the request
 * goes on exactly as before.
 */
export function captureTapFor(env: Env, route: GroupRoute, forwarding: Forwarding): CaptureTap | undefined {
  const settings = route.policy.capture;
  const { method, requestId, path, headers, waitUntil, redactionKey } = forwarding;
  if (!settings || !isCaptured(settings, method, requestBucket(`capture:${requestId}`))) return undefined;
  return new CaptureTap({
    env,
    settings,
    name: route.main.name,
    main: route.main.version,
    requestId,
    method,
    url: `${path.rest === "" ? "/" : path.rest}${path.search}`,
    headers,
    redaction: { key: redactionKey, paths: route.policy.redact ?? [] },
    waitUntil,
  });
}
