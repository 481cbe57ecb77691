import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { CapturesView } from "../../src/api/replay-schemas.ts";
import type { ReplayView } from "../../src/replay/view.ts";
import type { RecordedRequest } from "../support/origins.ts";
import { api } from "./admin-client.ts";
import { deploy, gateway, uniqueName } from "./proxy-helpers.ts";

export const SECRET = "Bearer end-user-s3cret";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a value, or fails after `withinMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, withinMs = 20_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${withinMs} ms`);
    await sleep(100);
  }
}

export async function setCapture(name: string, capture: unknown): Promise<void> {
  const response = await api("PUT", `/services/${name}/policy`, { body: { capture } });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
}

/** The path and query of the i-th captured GET. */
export const pathOf = (i: number) => `/items/${i}?page=${i % 7}&q=caf%C3%A9-${i}`;

/** `count` GETs to the name, each with a client's credentials, ten at a time; answers must be main's. */
export async function sendGets(name: string, count: number, send = gateway): Promise<void> {
  for (let start = 0; start < count; start += 10) {
    const batch = Array.from({ length: Math.min(10, count - start) }, (_, k) => start + k);
    await Promise.all(
      batch.map(async (i) => {
        const response = await send(`/services/${name}${pathOf(i)}`, {
          headers: { authorization: SECRET, cookie: "session=c00kie-of-ann", "x-request-id": `${name}-${i}` },
        });
        expect(response.status).toBe(200);
        const body = (await response.json()) as { version: string; url: string };
        expect(body).toMatchObject({ version: "1.0.0", url: pathOf(i) });
      }),
    );
  }
}

export const captures = async (name: string) => (await api<CapturesView>("GET", `/services/${name}/captures`)).body;

export const capturedRequests = (name: string, atLeast: number) =>
  eventually(`${atLeast} captures of ${name}`, async () => {
    const view = await captures(name);
    return view.total.requests >= atLeast ? view : undefined;
  });

/**
 * A name whose main (at `main`) answered `count` captured GETs, then version 2.0.0 deployed at `origin`
 * with no live copies before: what a replay sends. Returns the name and when the window began.
 */
export async function capturedWindow(
  prefix: string,
  count: number,
  main: string,
  origin: string,
): Promise<{ name: string; from: string }> {
  const name = uniqueName(prefix);
  await deploy(name, "1.0.0", main);
  await setCapture(name, { percent: 100 });
  const from = new Date(Date.now() - 1_000).toISOString();
  await sendGets(name, count);
  await deploy(name, "2.0.0", origin);
  await capturedRequests(name, count);
  return { name, from };
}

export async function startReplay(name: string, version: string, body: Record<string, unknown>): Promise<ReplayView> {
  const response = await api<ReplayView>("POST", `/services/${name}/${version}/replays`, { body });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

export const replayOf = async (name: string, id: string) =>
  (await api<ReplayView>("GET", `/services/${name}/replays/${id}`)).body;

export const finished = (name: string, id: string, withinMs = 30_000) =>
  eventually(
    `replay ${id} to end`,
    async () => {
      const view = await replayOf(name, id);
      return view.state === "running" ? undefined : view;
    },
    withinMs,
  );

/** Every request an origin saw that belongs to one replay, sent to the listener at `host`. */
export async function replayedTo(origin: string, id: string, host?: string): Promise<RecordedRequest[]> {
  const seen: RecordedRequest[] = await (await fetch(`${new URL(origin).origin}/__requests`)).json();
  return seen.filter((r) => r.headers["x-daeploy-replay"] === id && (host === undefined || r.headers.host === host));
}

/** A second listener of `origin` on a port of its own: the same answers, told apart by Host. */
export async function twinOf(origin: string): Promise<{ url: string; host: string }> {
  const { port } = (await (await fetch(`${origin}/__free-port`)).json()) as { port: number };
  await fetch(`${origin}/__listen?port=${port}`, { method: "POST" });
  return { url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}` };
}

/** Every object of the name in the CAPTURES bucket, read whole. */
export async function bucketOf(name: string): Promise<{ key: string; text: string; size: number }[]> {
  const listed = await env.CAPTURES.list({ prefix: `${name}/` });
  return Promise.all(
    listed.objects.map(async (object) => {
      const body = await env.CAPTURES.get(object.key);
      return { key: object.key, text: (await body?.text()) ?? "", size: object.size };
    }),
  );
}
