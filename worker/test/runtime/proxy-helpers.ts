import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { Env } from "../../src/env.ts";
import worker from "../../src/index.ts";
import type { RecordedRequest } from "../support/origins.ts";

export const GATEWAY = "https://gateway.test";

/** A request through the worker's real entry point, as a client would send it. */
export const gateway = (path: string, init?: RequestInit): Promise<Response> =>
  exports.default.fetch(`${GATEWAY}${path}`, init);

/** A name no other test uses, so records and routes never mix. */
export const uniqueName = (prefix: string): string => `${prefix}${crypto.randomUUID().slice(0, 8)}`;

/** Registers a version through the real admin API; the origin's health is irrelevant here. */
export async function deploy(name: string, version: string, origin: string): Promise<void> {
  const response = await gateway("/api/v1/services", {
    method: "POST",
    headers: { authorization: "Bearer test-token", "content-type": "application/json" },
    body: JSON.stringify({ name, version, origin, check: false }),
  });
  expect(response.status, await response.clone().text()).toBe(201);
}

/** What an origin recorded for one X-Request-Id. */
export async function seenBy(origin: string, requestId: string): Promise<RecordedRequest[]> {
  const response = await fetch(`${new URL(origin).origin}/__requests?id=${encodeURIComponent(requestId)}`);
  return response.json();
}

/** Polls an origin until it has recorded `count` requests with this id (shadows arrive in the background). */
export async function waitForSeen(origin: string, requestId: string, count = 1, withinMs = 3_000) {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const seen = await seenBy(origin, requestId);
    if (seen.length >= count || Date.now() > deadline) return seen;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Calls the worker's default export with some variables overridden, the honest
 * way to run it under another configuration. `settled` resolves once every
 * `waitUntil` (the shadow copies) has finished.
 */
export async function withVars(vars: Partial<Env>, request: Request) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, { ...env, ...vars }, ctx);
  return { response, settled: () => waitOnExecutionContext(ctx) };
}

export const decodeBase64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
