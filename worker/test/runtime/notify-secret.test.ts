import { beforeAll, describe, expect, inject, it } from "vitest";
import type { ReceivedPost } from "../support/receiver.ts";
import { withVars } from "./proxy-helpers.ts";

// A notification URL is a secret (a Slack webhook's path is its token): the API stores and uses it,
// and shows it to nobody, whichever token asks, wherever it looks.
const origins = inject("origins");

const READ_TOKEN = "read-token-for-secrets";
const ADMIN_TOKEN = "test-token";
const GATEWAY = "http://gateway.test/api/v1";

/** An admin API call with READ_TOKEN set, as the token given; the answer's text as it went out. */
async function call(method: string, path: string, token: string, body?: unknown) {
  const headers = new Headers({ authorization: `Bearer ${token}` });
  if (body !== undefined) headers.set("content-type", "application/json");
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const request = new Request(`${GATEWAY}${path}`, { method, headers, body: payload });
  const { response, settled } = await withVars({ READ_TOKEN }, request);
  await settled();
  return { status: response.status, text: await response.text() };
}

const name = `secret${crypto.randomUUID().slice(0, 8)}`;
/** What only the receiver may know: the webhook's path and query. */
const SECRET = `T0${crypto.randomUUID().replaceAll("-", "")}`;
const SIGNATURE = crypto.randomUUID().replaceAll("-", "");
const receiverHost = new URL(origins.receiver).host;
const webhook = `${origins.receiver}/ok/${name}/${SECRET}?sig=${SIGNATURE}`;
const SHOWN = { url: `http://${receiverHost}/…`, events: ["kill"] };

let getRoutes: string[] = [];

async function received(): Promise<ReceivedPost[]> {
  return (await fetch(`${origins.receiver}/__received?key=${name}`)).json();
}

async function waitForPosts(count: number, withinMs = 8_000): Promise<ReceivedPost[]> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const posts = await received();
    if (posts.length >= count || Date.now() > deadline) return posts;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Fails naming where the URL's secret part showed. */
function expectHidden(where: string, text: string) {
  expect(text.includes(SECRET), `${where} shows the webhook's path`).toBe(false);
  expect(text.includes(SIGNATURE), `${where} shows the webhook's query`).toBe(false);
}

beforeAll(async () => {
  for (const version of ["1.0.0", "2.0.0", "3.0.0"]) {
    const deployed = await call("POST", "/services", ADMIN_TOKEN, {
      name,
      version,
      origin: "http://127.0.0.1:1",
      check: false,
    });
    expect(deployed.status).toBe(201);
  }
  // A running rollout, so that its GET routes have something to show.
  expect((await call("POST", `/services/${name}/2.0.0/rollout`, ADMIN_TOKEN, { steps: [5] })).status).toBe(201);
  const doc = JSON.parse((await call("GET", "/openapi.json", ADMIN_TOKEN)).text) as {
    paths: Record<string, Record<string, unknown>>;
  };
  getRoutes = Object.entries(doc.paths)
    .filter(([, item]) => "get" in item)
    .map(([path]) => path.replace("{name}", name).replace("{version}", "2.0.0"));
});

describe("a notification URL", () => {
  it("is answered by scheme and host only when set, and refused back in that form", async () => {
    const set = await call("PUT", `/services/${name}/policy`, ADMIN_TOKEN, {
      notify: { url: webhook, events: ["kill"] },
    });
    expect(set.status).toBe(200);
    expectHidden("PUT policy", set.text);
    expect(JSON.parse(set.text).notify).toEqual(SHOWN);
    // A client that sends back what it was shown is told so, and the stored URL stays.
    const back = await call("PUT", `/services/${name}/policy`, ADMIN_TOKEN, { notify: SHOWN });
    expect(back.status).toBe(422);
    expect(JSON.parse(back.text).error).toMatchObject({
      field: "notify.url",
      message:
        "notify.url is the shown form of the stored URL (scheme and host only): give the whole URL, or leave url out to keep the stored one",
    });
  });

  it("never appears in any GET route's answer nor in the audit trail, for either token", async () => {
    expect(getRoutes.length).toBeGreaterThanOrEqual(12);
    for (const token of [ADMIN_TOKEN, READ_TOKEN]) {
      const who = token === ADMIN_TOKEN ? "admin" : "read";
      for (const path of [...getRoutes, `/audit?name=${name}`]) {
        const { status, text } = await call("GET", path, token);
        // The gate answers 412 while the shadow has no passing verdict: an answer all the same.
        expect(status, `${who} GET ${path}`).toBeLessThan(500);
        expectHidden(`${who} GET ${path}`, text);
      }
      const policy = JSON.parse((await call("GET", `/services/${name}/policy`, token)).text);
      expect(policy.notify).toEqual(SHOWN);
    }
    const audit = JSON.parse((await call("GET", `/audit?name=${name}`, READ_TOKEN)).text);
    const change = audit.audit.find((row: { action: string }) => row.action === "policy");
    expect(change.detail).toEqual({ notify: SHOWN });
  });

  it("is kept by a PUT that does not mention it, and by one that changes only the events", async () => {
    const other = await call("PUT", `/services/${name}/policy`, ADMIN_TOKEN, { noisePercent: 3 });
    expect(JSON.parse(other.text).notify).toEqual(SHOWN);
    const narrowed = await call("PUT", `/services/${name}/policy`, ADMIN_TOKEN, {
      notify: { events: ["kill", "assign"] },
    });
    expect(narrowed.status).toBe(200);
    expectHidden("PUT policy (events only)", narrowed.text);
    expect(JSON.parse(narrowed.text).notify).toEqual({ ...SHOWN, events: ["kill", "assign"] });
    // The stored URL is the whole one: a kill is delivered to its path and query.
    expect((await call("DELETE", `/services/${name}/3.0.0`, ADMIN_TOKEN)).status).toBe(200);
    const [post] = await waitForPosts(1);
    expect(post?.path).toBe(`/ok/${name}/${SECRET}`);
    expect(post?.body).toMatchObject({ event: "kill", version: "3.0.0" });
    const audit = await call("GET", `/audit?name=${name}`, ADMIN_TOKEN);
    expectHidden("GET audit", audit.text);
  });

  it("cannot be narrowed to events before one is stored", async () => {
    const fresh = `${name}x`;
    expect(
      (
        await call("POST", "/services", ADMIN_TOKEN, {
          name: fresh,
          version: "1.0.0",
          origin: "http://127.0.0.1:1",
          check: false,
        })
      ).status,
    ).toBe(201);
    const res = await call("PUT", `/services/${fresh}/policy`, ADMIN_TOKEN, { notify: { events: ["kill"] } });
    expect(res.status).toBe(422);
    expect(JSON.parse(res.text).error).toMatchObject({
      field: "notify.url",
      message: "notify.url is required: no URL is stored for this name yet",
    });
  });
});
