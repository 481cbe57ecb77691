import { describe, expect, inject, it } from "vitest";
import type { Env } from "../../src/env.ts";
import type { RecordedRequest } from "../support/origins.ts";
import { deploy, GATEWAY, gateway, seenBy, uniqueName, waitForSeen, withVars } from "./proxy-helpers.ts";

const origins = inject("origins");

const header = (seen: RecordedRequest | undefined, name: string) => {
  const value = seen?.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
};

/** This gateway's name in Via, learnt the way an origin learns it. */
async function gatewayId(): Promise<string> {
  const name = uniqueName("via");
  await deploy(name, "1.0.0", origins.v1);
  const id = `${name}-learn`;
  await gateway(`/services/${name}/`, { headers: { "x-request-id": id } });
  const [seen] = await seenBy(origins.v1, id);
  const match = /^1\.1 (daeploy-[0-9a-f]{12})$/.exec(header(seen, "via") ?? "");
  if (!match?.[1]) throw new Error(`no Via from the gateway: ${JSON.stringify(seen?.headers)}`);
  return match[1];
}

describe("Via and the hop limit", () => {
  it("appends Via to main's request and every shadow copy, after what came in", async () => {
    const name = uniqueName("viaall");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    const id = `${name}-1`;
    await gateway(`/services/${name}/x`, { headers: { "x-request-id": id, via: "1.1 edge.example" } });
    const [main] = await seenBy(origins.v1, id);
    const [shadow] = await waitForSeen(origins.v2, id);
    expect(header(main, "via")).toMatch(/^1\.1 edge\.example, 1\.1 daeploy-[0-9a-f]{12}$/);
    expect(header(shadow, "via")).toBe(header(main, "via"));
  });

  it("names itself differently under another admin token, so ids differ between deployments", async () => {
    const ours = await gatewayId();
    const name = uniqueName("other");
    await deploy(name, "1.0.0", origins.v1);
    const id = `${name}-1`;
    const request = new Request(`${GATEWAY}/services/${name}/`, { headers: { "x-request-id": id } });
    await (await withVars({ ADMIN_TOKEN: "another-token" }, request)).response.text();
    const [seen] = await seenBy(origins.v1, id);
    expect(header(seen, "via")).toMatch(/^1\.1 daeploy-[0-9a-f]{12}$/);
    expect(header(seen, "via")).not.toBe(`1.1 ${ours}`);
  });

  it("answers 508 loop_detected to a request that passed MAX_HOPS times, and sends it nowhere", async () => {
    const ours = await gatewayId();
    const name = uniqueName("hops");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    const via = (hops: number) => [`1.0 fred`, ...Array(hops).fill(`1.1 ${ours}`)].join(", ");

    const below = await gateway(`/services/${name}/`, { headers: { "x-request-id": `${name}-4`, via: via(4) } });
    expect(below.status).toBe(200);
    const [passed] = await seenBy(origins.v1, `${name}-4`);
    expect(header(passed, "via")).toBe(via(5));

    const id = `${name}-5`;
    const refused = await gateway(`/services/${name}/`, { headers: { "x-request-id": id, via: via(5) } });
    expect(refused.status).toBe(508);
    expect(await refused.json()).toMatchObject({ error: { code: "loop_detected" } });
    // Another gateway's entries, however many, are not this gateway's hops.
    const foreign = Array(9).fill("1.1 daeploy-000000000000").join(", ");
    expect((await gateway(`/services/${name}/`, { headers: { via: foreign } })).status).toBe(200);
    await waitForSeen(origins.v2, `${name}-4`);
    expect(await seenBy(origins.v1, id)).toEqual([]);
    expect(await seenBy(origins.v2, id)).toEqual([]);
  });

  it("takes the limit from MAX_HOPS", async () => {
    const ours = await gatewayId();
    const name = uniqueName("maxhops");
    await deploy(name, "1.0.0", origins.v1);
    const request = new Request(`${GATEWAY}/services/${name}/`, { headers: { via: `1.1 ${ours}, 1.1 ${ours}` } });
    expect((await withVars({ MAX_HOPS: "2" }, request.clone())).response.status).toBe(508);
    expect((await withVars({ MAX_HOPS: "3" }, request.clone())).response.status).toBe(200);
  });
});

describe("a shadow copy that comes back in", () => {
  async function copyOf(name: string, id: string) {
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    await gateway(`/services/${name}/buy`, { method: "POST", headers: { "x-request-id": id }, body: "one" });
    const [copy] = await waitForSeen(origins.v2, id);
    expect(header(copy, "x-daeploy-shadow")).toBe("1");
    return copy;
  }

  it("goes to main only, still marked", async () => {
    const name = uniqueName("back");
    const id = `${name}-1`;
    const copy = await copyOf(name, id);
    // Sent back exactly as a shadow whose origin is this gateway would receive it.
    const again = await gateway(`/services/${name}/buy`, {
      method: "POST",
      headers: {
        "x-request-id": id,
        "x-daeploy-shadow": "1",
        "x-daeploy-shadow-proof": header(copy, "x-daeploy-shadow-proof") ?? "",
        via: header(copy, "via") ?? "",
      },
      body: "one",
    });
    expect(again.status).toBe(200);
    const seenByMain = await seenBy(origins.v1, id);
    expect(seenByMain.map((seen) => header(seen, "x-daeploy-shadow"))).toEqual([undefined, "1"]);
    expect(header(seenByMain[1], "x-daeploy-shadow-proof")).toBe(header(copy, "x-daeploy-shadow-proof"));
    // A second copy would have reached v2 by the time main's answer came back; give it a moment more.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await seenBy(origins.v2, id)).toHaveLength(1);
  });

  it("cannot be forged by a client: without a valid proof the marker is removed and the request mirrored", async () => {
    const name = uniqueName("forge");
    const copy = await copyOf(name, `${name}-real`);
    const proofOfAnother = header(copy, "x-daeploy-shadow-proof") ?? "";
    const forgeries: Record<string, Record<string, string>> = {
      "marker alone": { "x-daeploy-shadow": "1" },
      "garbage proof": { "x-daeploy-shadow": "1", "x-daeploy-shadow-proof": "f".repeat(64) },
      "another request's proof": { "x-daeploy-shadow": "1", "x-daeploy-shadow-proof": proofOfAnother },
    };
    for (const [what, forged] of Object.entries(forgeries)) {
      const id = `${name}-${what.replaceAll(" ", "-")}`;
      const response = await gateway(`/services/${name}/buy`, {
        method: "POST",
        headers: { ...forged, "x-request-id": id },
        body: "x",
      });
      expect(response.status, what).toBe(200);
      const [main] = await seenBy(origins.v1, id);
      expect(header(main, "x-daeploy-shadow"), what).toBeUndefined();
      expect(header(main, "x-daeploy-shadow-proof"), what).toBeUndefined();
      expect(await waitForSeen(origins.v2, id), what).toHaveLength(1);
    }
  });
});

describe("a replayed shadow proof", () => {
  /**
   * Main on v1, a shadow on v2, and no noise copies: main counts only the client's requests (a noise
   * copy goes to main too, chosen by the id's hash, so a test would fail for one name in twenty).
   */
  async function deployPair(name: string) {
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    const policy = await gateway(`/api/v1/services/${name}/policy`, {
      method: "PUT",
      headers: { authorization: "Bearer test-token", "content-type": "application/json" },
      body: JSON.stringify({ noisePercent: 0 }),
    });
    expect(policy.status).toBe(200);
    await policy.body?.cancel();
  }

  /** A shadow's copy of GET /read, as the shadow saw it: its id, Via and proof. */
  async function copyOfRead(name: string, id: string, vars: Partial<Env> = {}) {
    await deployPair(name);
    const request = new Request(`${GATEWAY}/services/${name}/read?item=1`, { headers: { "x-request-id": id } });
    const { response, settled } = await withVars(vars, request);
    await response.text();
    await settled();
    const [copy] = await waitForSeen(origins.v2, id);
    const proof = header(copy, "x-daeploy-shadow-proof");
    expect(proof).toMatch(/^\d+\.[0-9a-f]{64}$/);
    return {
      "x-request-id": id,
      "x-daeploy-shadow": "1",
      "x-daeploy-shadow-proof": proof ?? "",
      via: header(copy, "via") ?? "",
    };
  }

  /** Main saw the replay as an ordinary request, and the shadow got its own copy of it. */
  async function expectOrdinary(id: string, method: string, what: string) {
    const seenByMain = (await seenBy(origins.v1, id)).filter((seen) => seen.method === method);
    expect(seenByMain, what).toHaveLength(1);
    expect(header(seenByMain[0], "x-daeploy-shadow"), what).toBeUndefined();
    const copies = await waitForSeen(origins.v2, id, 2);
    expect(
      copies.map((copy) => copy.method),
      what,
    ).toContain(method);
  }

  it("on another method or path makes an ordinary, unmarked request that is mirrored as usual", async () => {
    for (const [what, method, path] of [
      ["another method", "POST", "/read?item=1"],
      ["another path", "GET", "/charge?item=1"],
      ["another query", "GET", "/read?item=2"],
    ] as const) {
      const name = uniqueName("replay");
      const id = `${name}-1`;
      const stolen = await copyOfRead(name, id);
      const replay = await gateway(`/services/${name}${path}`, {
        method,
        headers: stolen,
        body: method === "POST" ? "charge" : undefined,
      });
      expect(replay.status, what).toBe(200);
      await replay.text();
      if (method === "GET") {
        const fresh = (await seenBy(origins.v1, id)).filter((seen) => seen.url.startsWith(path.split("?")[0] ?? ""));
        expect(
          fresh.filter((seen) => seen.url === path),
          what,
        ).toHaveLength(1);
        expect(
          header(
            fresh.find((seen) => seen.url === path),
            "x-daeploy-shadow",
          ),
          what,
        ).toBeUndefined();
        expect(
          (await waitForSeen(origins.v2, id, 2)).map((copy) => copy.url),
          what,
        ).toContain(path);
      } else {
        await expectOrdinary(id, method, what);
      }
    }
  });

  it("on another service's segment makes an ordinary, unmarked request that is mirrored as usual", async () => {
    const name = uniqueName("replayseg");
    const id = `${name}-1`;
    const stolen = await copyOfRead(name, id);
    // Another name, with the same origins: only the segment differs from the copy's own request.
    const other = `${name}x`;
    await deployPair(other);
    for (const segment of [other, `${name}_1.0.0`]) {
      const before = (await seenBy(origins.v1, id)).length;
      const replay = await gateway(`/services/${segment}/read?item=1`, { headers: stolen });
      expect(replay.status, segment).toBe(200);
      await replay.text();
      const seenByMain = await seenBy(origins.v1, id);
      expect(seenByMain, segment).toHaveLength(before + 1);
      expect(header(seenByMain.at(-1), "x-daeploy-shadow"), segment).toBeUndefined();
      expect(header(seenByMain.at(-1), "x-daeploy-shadow-proof"), segment).toBeUndefined();
    }
    // The other name's shadow got a copy of the replay, as of any ordinary request.
    expect(await waitForSeen(origins.v2, id, 2)).toHaveLength(2);
  });

  it("after its copy's lifetime makes an ordinary request that is mirrored as usual", async () => {
    const name = uniqueName("late");
    const id = `${name}-1`;
    // A 200 ms copy lifetime; the proof allows one second more for clocks that differ.
    const stolen = await copyOfRead(name, id, { SHADOW_TIMEOUT_MS: "200" });
    await new Promise((resolve) => setTimeout(resolve, 1_400));
    const replay = await gateway(`/services/${name}/read?item=1`, { headers: stolen });
    expect(replay.status).toBe(200);
    await replay.text();
    const seenByMain = await seenBy(origins.v1, id);
    expect(seenByMain).toHaveLength(2);
    expect(header(seenByMain[1], "x-daeploy-shadow")).toBeUndefined();
    expect(await waitForSeen(origins.v2, id, 2)).toHaveLength(2);
  });

  it("within its lifetime, on the same request, is still this gateway's own copy", async () => {
    const name = uniqueName("intime");
    const id = `${name}-1`;
    const copy = await copyOfRead(name, id);
    await (await gateway(`/services/${name}/read?item=1`, { headers: copy })).text();
    const seenByMain = await seenBy(origins.v1, id);
    expect(header(seenByMain[1], "x-daeploy-shadow")).toBe("1");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await seenBy(origins.v2, id)).toHaveLength(1);
  });
});

describe("request ids", () => {
  it("keeps a client's id of 1 to 128 visible ASCII characters", async () => {
    const name = uniqueName("rid");
    await deploy(name, "1.0.0", origins.v1);
    for (const id of [`${name}-${"x".repeat(128 - name.length - 1)}`, `${name}!~:/`]) {
      await gateway(`/services/${name}/`, { headers: { "x-request-id": id } });
      expect(await seenBy(origins.v1, id), id).toHaveLength(1);
    }
  });

  it("replaces an empty, too long or non-visible id with a fresh one", async () => {
    const name = uniqueName("ridbad");
    await deploy(name, "1.0.0", origins.v1);
    const bad = ["", `${name}-${"x".repeat(128)}`, `${name} with spaces`, `${name}-caf\u00e9`];
    for (const [i, id] of bad.entries()) {
      await gateway(`/services/${name}/${name}-${i}`, { headers: { "x-request-id": id } });
    }
    const all = (await (await fetch(`${origins.v1}/__requests`)).json()) as RecordedRequest[];
    const seen = all.filter((r) => r.url.startsWith(`/${name}-`));
    expect(seen).toHaveLength(bad.length);
    for (const request of seen) expect(header(request, "x-request-id"), request.url).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("a pinned version's failure", () => {
  it("names that version, not main", async () => {
    const name = uniqueName("pinfail");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.dead);
    await deploy(name, "3.0.0", origins.slow);
    const unreachable = await gateway(`/services/${name}_2.0.0/`);
    expect(unreachable.status).toBe(502);
    const { error } = (await unreachable.json()) as { error: { message: string } };
    expect(error.message).toContain(`version 2.0.0 of ${name}`);
    expect(error.message).not.toContain("main");

    const request = new Request(`${GATEWAY}/services/${name}_3.0.0/`);
    const { response } = await withVars({ ORIGIN_TIMEOUT_MS: "200" }, request);
    expect(response.status).toBe(504);
    const timedOut = ((await response.json()) as { error: { message: string } }).error.message;
    expect(timedOut).toContain(`version 3.0.0 of ${name}`);
    expect(timedOut).not.toContain("main");
  });
});
