import type { TestProject } from "vitest/node";
import { startJwksOrigin } from "../support/jwks-origin.ts";
import { deadPort, type RunningOrigin, startOrigin } from "../support/origins.ts";
import { startReceiver } from "../support/receiver.ts";

declare module "vitest" {
  export interface ProvidedContext {
    origins: {
      v1: string;
      v2: string;
      v3: string;
      dead: string;
      /** Answers after 3 s. */
      slow: string;
      /** Destroys the socket instead of answering. */
      reset: string;
      /** Answers `/` (the health probe) at once, every other path only after 20 s. */
      hang: string;
      /** Server-sent events: one at once, the next after /__release?id=<x-request-id>. */
      sse: string;
      /** Answers 302 to /elsewhere. */
      redirect: string;
      /** Accepts WebSocket upgrades and echoes text messages. */
      ws: string;
      /** The comparison lab's two sides: same paths, answers that differ in known ways. */
      labMain: string;
      labShadow: string;
      /** The comparison-rules lab's two sides (see compare-lab.ts). */
      compareMain: string;
      compareShadow: string;
      /** A webhook receiver: POST /ok/<key> accepts, /flaky/<key> fails twice first; GET /__received?key= lists. */
      receiver: string;
    };
    /** A Cloudflare Access key set that the tests choose (see jwks-origin.ts). */
    jwks: string;
    /** FUZZ_SEED as given to vitest (a number replays a fuzz run, `random` explores), or "". */
    fuzzSeed: string;
  }
}

/** Real Node origins on 127.0.0.1 for the workerd tests; their URLs reach the tests through `inject`. */
export default async function setup(project: TestProject) {
  const running: RunningOrigin[] = [];
  const start = async (...args: Parameters<typeof startOrigin>) => {
    const origin = await startOrigin(...args);
    running.push(origin);
    return origin.url;
  };
  const receiver = await startReceiver();
  project.provide("origins", {
    v1: await start({ version: "1.0.0" }),
    v2: await start({ version: "2.0.0" }),
    v3: await start({ version: "3.0.0", status: 503 }),
    dead: `http://127.0.0.1:${await deadPort()}`,
    slow: await start({ version: "slow", delayMs: 3_000 }),
    reset: await start({ version: "reset", reset: true }),
    hang: await start({ version: "hang", hangMs: 20_000 }),
    sse: await start({ version: "sse", sse: true }),
    redirect: await start({ version: "redirect", redirectTo: "/elsewhere" }),
    ws: await start({ version: "ws", websocket: true }),
    labMain: await start({ version: "lab-main", lab: "main" }),
    labShadow: await start({ version: "lab-shadow", lab: "shadow" }),
    compareMain: await start({ version: "compare-main", compareLab: "main" }),
    compareShadow: await start({ version: "compare-shadow", compareLab: "shadow" }),
    receiver: receiver.url,
  });
  const jwks = await startJwksOrigin();
  project.provide("jwks", jwks.url);
  project.provide("fuzzSeed", process.env.FUZZ_SEED ?? "");
  return async () => {
    await Promise.all([...running.map((origin) => origin.close()), receiver.close(), jwks.close()]);
  };
}
