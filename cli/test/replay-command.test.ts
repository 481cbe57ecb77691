import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningHello, startHello } from "./support/hello.ts";
import { newUser } from "./support/run-cli.ts";

// docs/replay.md's workflow as an operator types it, against the test gateway (`npm run dev`, with its
// local R2) and examples/hello origins: capture, deploy with no live copies, replay, fix, replay, mirror.

const { gateway } = inject("cliWorld");
const connection = { DAEPLOY_HOST: gateway.url, DAEPLOY_TOKEN: gateway.token };
const name = "replay_cmd";

let user: Awaited<ReturnType<typeof newUser>>;
const asUser = (args: string[]) => user.run(args, { env: connection });
const hellos: Record<string, RunningHello> = {};
const urlOf = (version: string) => (hellos[version] as RunningHello).url;

async function capturedRequests(): Promise<number> {
  const response = await fetch(`${gateway.url}/api/v1/services/${name}/captures`, {
    headers: { authorization: `Bearer ${gateway.token}` },
  });
  return ((await response.json()) as { total: { requests: number } }).total.requests;
}

beforeAll(async () => {
  user = await newUser();
  hellos["1.0.0"] = await startHello("1.0.0");
  hellos["2.0.0"] = await startHello("2.0.0", ["--differ", "price:0.2"]);
  hellos["2.0.1"] = await startHello("2.0.1");
}, 30_000);

afterAll(async () => {
  await asUser(["kill", name, "--yes"]);
  await Promise.all(Object.values(hellos).map((started) => started.stop()));
});

describe("deploy, replay, fix, replay, then mirror", () => {
  it("policy --capture keeps the name's traffic, and says so", async () => {
    expect((await asUser(["deploy", name, "1.0.0", urlOf("1.0.0")])).code).toBe(0);
    const policy = await asUser(["policy", name, "--capture", "100", "--ignore", "body.version"]);
    expect(policy.code, policy.stderr).toBe(0);
    expect(policy.out).toContain("  capture             100% of GET, HEAD requests, kept 24 h (for replay)");
    for (let i = 1; i <= 120; i++) {
      const response = await fetch(`${gateway.url}/services/${name}/items/${i}?page=${i % 5}`);
      expect(response.status).toBe(200);
      await response.text();
    }
    const deadline = Date.now() + 15_000;
    while ((await capturedRequests()) < 120 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await capturedRequests()).toBe(120);
  }, 60_000);

  it("replay of a version that gets prices wrong: a bar, the verdict fail with the field, exit 1", async () => {
    const deployed = await asUser(["deploy", name, "2.0.0", urlOf("2.0.0"), "--mirror-percent", "0"]);
    expect(deployed.out).toContain(`Traffic controls of ${name} 2.0.0: 0% of requests, every method`);
    const replay = await asUser(["replay", name, "2.0.0", "--last", "1h", "--rate", "100"]);
    expect(replay.code, replay.stderr).toBe(1);
    expect(replay.out[1]).toMatch(
      new RegExp(`^Replaying 120 captured requests of ${name} to 2.0.0 at 100 a second \\(replay [0-9a-f]{12}\\)$`),
    );
    expect(replay.out).toContain("[####################] 120/120 sent, 120 compared, 24 different");
    expect(replay.out.at(-2)).toMatch(/^Replay [0-9a-f]{12} of replay_cmd to 2.0.0 done: 120\/120 sent, verdict fail$/);
    expect(replay.out.at(-1)).toContain("body.price");
  }, 30_000);

  it("replay of the fix: nothing differs, inconclusive on 120 requests (exit 2, as gate), listed beside the first", async () => {
    expect((await asUser(["deploy", name, "2.0.1", urlOf("2.0.1"), "--mirror-percent", "0"])).code).toBe(0);
    const replay = await asUser(["replay", name, "2.0.1", "--last", "1h", "--rate", "100"]);
    expect(replay.code, replay.stderr).toBe(2);
    expect(replay.out).toContain("[####################] 120/120 sent, 120 compared, 0 different");
    expect(replay.out.find((line) => line.startsWith("Replay "))).toMatch(/done: 120\/120 sent, verdict inconclusive$/);

    const status = await asUser(["replay", "status", name]);
    expect(status.code).toBe(0);
    expect(status.out.slice(1).map((line) => line.split("  ").slice(1, 5).join(" "))).toEqual([
      "2.0.1 done 120/120 inconclusive",
      "2.0.0 done 120/120 fail",
    ]);
    const id = status.out[1]?.split(" ")[0] ?? "";
    const one = await asUser(["replay", "status", name, id]);
    expect(one.out[1]).toBe(`Replay ${id} of ${name} to 2.0.1 done: 120/120 sent, verdict inconclusive`);
    // Stopping one that ended shows it as it ended.
    const stop = await asUser(["replay", "stop", name, id]);
    expect(stop.code).toBe(0);
    expect(stop.out[1]).toBe(`Replay ${id} of ${name} to 2.0.1 done: 120/120 sent, verdict inconclusive`);

    const mirror = await asUser(["mirror", name, "2.0.1", "--percent", "100"]);
    expect(mirror.out).toContain(`Traffic controls of ${name} 2.0.1: 100% of requests, every method`);
  }, 30_000);

  it("says in one line what is missing or misspelt, and what the gateway refuses", async () => {
    // Exit codes as gate's: anything that is not a verdict is 3.
    const noLast = await asUser(["replay", name, "2.0.1"]);
    expect(noLast.code).toBe(3);
    expect(noLast.err).toEqual(["replay needs --last, how far back the captured window starts, e.g. --last 1h"]);
    const typo = await asUser(["replay", "stauts", name]);
    expect(typo.err).toEqual([`Unknown replay action stauts. Did you mean \`daeploy-edge replay status ${name}\`?`]);
    const rate = await asUser(["replay", name, "2.0.1", "--last", "1h", "--rate", "1000"]);
    expect(rate.code).toBe(3);
    expect(rate.err).toEqual([
      "Command failed: 422 - Unprocessable Entity: rate must be a whole number of requests a second from 1 to 100",
    ]);
    const unknown = await asUser(["replay", "status", name, "0123456789ab"]);
    expect(unknown.err).toEqual([`Command failed: 404 - Not Found: ${name} has no replay 0123456789ab`]);
  }, 30_000);
});
