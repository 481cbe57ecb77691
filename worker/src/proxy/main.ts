import { AppError, reasonOf } from "../errors.ts";
import type { Target } from "./route-table.ts";

/** Whom a request goes to: main of a group, or one version that the path pinned. */
export type Role = "main" | "pinned" | "canary";

/**
 * Sends main's (or the pinned version's) copy and resolves as soon as main's headers arrive, so its body
 * streams through. `timeoutMs` bounds the wait for headers only (0: no bound);
 * a long streamed body is never cut off.
 */
export async function fetchMain(
  target: Target,
  role: Role,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<Response> {
  const controller = new AbortController();
  let timedOut = false;
  const timer =
    timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, timeoutMs)
      : undefined;
  try {
    return await fetch(url, { ...init, redirect: "manual", signal: controller.signal });
  } catch (error) {
    const who = `${role === "main" ? "main version" : role === "canary" ? "canary" : "version"} ${target.version} of ${target.name}`;
    if (timedOut) throw new AppError(504, "origin_timeout", `The ${who} sent no response within ${timeoutMs} ms`);
    throw new AppError(502, "origin_unreachable", `The ${who} could not be reached: ${reasonOf(error)}`);
  } finally {
    clearTimeout(timer);
  }
}
