import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningHello, startHello } from "./support/hello.ts";
import { newUser, runOnTerminal } from "./support/run-cli.ts";

// `gate NAME VERSION` as a pipeline step runs it, against the test gateway with evidence from real
// traffic to examples/hello origins: its exit code is the verdict (0 pass, 1 fail, 2 inconclusive,
// 3 unreachable or refused), and `--wait` keeps asking until the verdict is conclusive.

const { gateway, origins } = inject("cliWorld");
const REQUESTS = 320;
const connection = { DAEPLOY_HOST: gateway.url, DAEPLOY_TOKEN: gateway.token };

let user: Awaited<ReturnType<typeof newUser>>;
const asUser = (args: string[], env: Record<string, string | undefined> = connection) => user.run(args, { env });

const hellos: RunningHello[] = [];
const names = ["gcmd_clean", "gcmd_pricey", "gcmd_idle", "gcmd_wait"];

/** Real clients: GETs through the gateway, ten at a time, each with its own request id. */
async function traffic(name: string, count: number): Promise<void> {
  for (let sent = 0; sent < count; sent += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, count - sent) }, async (_, i) => {
        const response = await fetch(`${gateway.url}/services/${name}/prices?item=${sent + i}`, {
          headers: { "x-request-id": `gcmd-${name}-${randomUUID()}` },
        });
        expect(response.status).toBe(200);
        await response.arrayBuffer();
      }),
    );
  }
}

/** Evidence reaches the ledger in batches (one write per isolate per second): wait until it has all of it. */
async function evidenceSettled(name: string, compared: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(`${gateway.url}/api/v1/services/${name}/report`, {
      headers: { authorization: `Bearer ${gateway.token}` },
    });
    const report = (await response.json()) as { shadows: { requests: { compared: number } }[] };
    const counts = report.shadows.map((shadow) => shadow.requests.compared);
    if (counts.every((count) => count >= compared)) return;
    if (Date.now() > deadline) throw new Error(`${name}: compared ${counts.join(", ")} of ${compared} after 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  user = await newUser();
  const start = async (version: string, flags: string[]) => {
    const started = await startHello(version, flags);
    hellos.push(started);
    return started;
  };
  const main = await start("1.0.0", ["--timestamp"]);
  const clean = await start("2.0.0", ["--timestamp"]);
  const pricey = await start("2.0.0", ["--timestamp", "--differ", "price:0.2"]);
  for (const name of names) {
    expect((await asUser(["deploy", name, "1.0.0", main.url])).code).toBe(0);
    expect((await asUser(["deploy", name, "2.0.0", name === "gcmd_pricey" ? pricey.url : clean.url])).code).toBe(0);
    // As in gate.test.ts: body.version differs by design, body.time is learnt as noise, and a shared
    // test machine's latency jitter is not what these tests judge.
    // Limits of 5 % and alpha 0.2: 320 clean requests clear them at any look (a p99 band needs ~310 latencies).
    const policy = ["--ignore", "body.version", "--noise-percent", "20", "--min-p99-delta", "1000"];
    policy.push("--max-diff-rate", "5%", "--max-error-increase", "5%", "--alpha", "0.2");
    expect((await asUser(["policy", name, ...policy])).code).toBe(0);
  }
  await Promise.all([traffic("gcmd_clean", REQUESTS), traffic("gcmd_pricey", REQUESTS)]);
  await Promise.all([evidenceSettled("gcmd_clean", REQUESTS), evidenceSettled("gcmd_pricey", REQUESTS)]);
}, 120_000);

afterAll(async () => {
  for (const name of names) await asUser(["kill", name, "--yes"]);
  await Promise.all(hellos.map((started) => started.stop()));
});

describe("gate's exit code is the verdict", () => {
  it("0 on pass, with the reasons", async () => {
    const result = await asUser(["gate", "gcmd_clean", "2.0.0"]);
    expect(result.code).toBe(0);
    expect(result.out.slice(0, 3)).toEqual([
      `Active host: ${gateway.url}`,
      "gcmd_clean 2.0.0 passes the gate (last 1h)",
      expect.stringMatching(
        /^ {2}0 of 320 compared requests differ \(0%, at most \d(\.\d+)?% at any look\), within 5%$/,
      ),
    ]);
  });

  it("1 on fail, with the failing rule and its field", async () => {
    const result = await asUser(["gate", "gcmd_pricey", "2.0.0", "--wait", "30m"]);
    expect(result.code).toBe(1);
    expect(result.out.slice(1)).toEqual([
      "gcmd_pricey 2.0.0 fails the gate (last 1h)",
      expect.stringMatching(
        /^ {2}64 of 320 compared requests differ \(20%, at least 1\d(\.\d+)?% at any look\), more than the 5% allowed; top fields: body\.price \(value, 20%\)$/,
      ),
      "",
      // The bands the verdict rests on, from the same sequences, said to hold at any look.
      "Bands at alpha 0.2, which hold at any look:",
      expect.stringMatching(
        /^VERSION +DIFFERENT +ERROR RATE +ERROR INCREASE +P50 SHADOW +P50 MAIN +P99 SHADOW +P99 MAIN$/,
      ),
      expect.stringMatching(/^[- ]+$/),
      expect.stringMatching(
        /^2\.0\.0 +1\d(\.\d+)?% to 2\d(\.\d+)?% +0% to [\d.]+% +-?[\d.]+ to \+?[\d.]+ points +[\d.]+ to [\d.]+ ms( +[\d.]+ (to [\d.]+ ms|ms to unbounded)){3}$/,
      ),
    ]);
  });

  it("2 while inconclusive, once the wait is up, with plain progress lines off a terminal", async () => {
    const result = await asUser(["gate", "gcmd_idle", "2.0.0", "--wait", "4s"]);
    expect(result.code).toBe(2);
    expect(result.out[1]).toMatch(
      /^Waiting for gcmd_idle 2\.0\.0 \(last 1h, [34]s left\): inconclusive, 0\/100 with an outcome$/,
    );
    expect(result.out.slice(-3)).toEqual([
      expect.stringMatching(/^gcmd_idle 2\.0\.0 is still inconclusive after waiting [45]s \(last 1h\)$/),
      "  0 copies with an outcome, fewer than the 100 the gate needs",
      // From the same sequences at this policy's alpha 0.2 (820 at the default 0.01), not the floor of 100.
      "  no copies have arrived yet; a shadow identical to main would need at least 320 to pass",
    ]);
    expect(result.stdout).not.toContain("\u001B[");
  });

  it("2 at once for a main, which is never judged, however long the wait", async () => {
    const result = await asUser(["gate", "gcmd_idle", "1.0.0", "--wait", "30m"]);
    expect(result.code).toBe(2);
    expect(result.out.slice(1)).toEqual([
      "gcmd_idle 1.0.0 is still inconclusive (last 1h)",
      "  1.0.0 is the main of gcmd_idle; the gate judges a shadow against its main",
    ]);
  });

  it("3 when the gateway cannot be reached", async () => {
    const result = await asUser(["gate", "gcmd_clean", "2.0.0", "--wait", "30m"], {
      ...connection,
      DAEPLOY_HOST: origins.dead,
    });
    expect(result.code).toBe(3);
    expect(result.err).toEqual([
      expect.stringMatching(/^Cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+ \(.+\); check that it is running/),
    ]);
  });

  it("3 when the gateway refuses: a wrong token, an unknown version, a bad window", async () => {
    const wrongToken = await asUser(["gate", "gcmd_clean", "2.0.0"], { ...connection, DAEPLOY_TOKEN: "wrong" });
    expect(wrongToken.code).toBe(3);
    expect(wrongToken.err).toEqual([
      "Command failed: 401 - Unauthorized: The token is neither the admin token nor the read token",
    ]);
    const unknown = await asUser(["gate", "gcmd_clean", "9.0.0"]);
    expect(unknown.code).toBe(3);
    expect(unknown.err).toEqual(["Command failed: 404 - Not Found: gcmd_clean 9.0.0 is not deployed"]);
    const window = await asUser(["gate", "gcmd_clean", "2.0.0", "--window", "9d"]);
    expect(window.code).toBe(3);
    expect(window.err[0]).toMatch(/^Command failed: 422 - Unprocessable Entity: window /);
  });

  it("3 for a --wait it cannot read, before calling anything", async () => {
    const result = await asUser(["gate", "gcmd_clean", "2.0.0", "--wait", "soon"]);
    expect(result.code).toBe(3);
    expect(result.err).toEqual(['--wait takes a time such as 90s, 30m or 2h (at most 24h), or 0; got "soon"']);
  });

  it("--json: a refusal is JSON on stdout too, and still exits 3", async () => {
    const result = await asUser(["gate", "gcmd_clean", "9.0.0", "--json"]);
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout)).toEqual({
      error: { code: "version_not_found", message: "gcmd_clean 9.0.0 is not deployed" },
    });
  });

  it("--json prints the gateway's verdict as JSON, and still exits by it", async () => {
    const result = await asUser(["gate", "gcmd_pricey", "2.0.0", "--json"]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      name: "gcmd_pricey",
      version: "2.0.0",
      main: "1.0.0",
      verdict: "fail",
      requests: { compared: REQUESTS, different: 64 },
    });
    expect(result.err[0]).toBe(`Active host: ${gateway.url}`);
  });
});

describe("gate --wait", () => {
  it("ends as soon as the verdict is conclusive, long before the wait is up", { timeout: 30_000 }, async () => {
    const started = Date.now();
    // The CLI runner gives up after 20 s, so a gate that waited out its 10 minutes fails this test.
    const gate = asUser(["gate", "gcmd_wait", "2.0.0", "--wait", "10m"]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await traffic("gcmd_wait", REQUESTS);
    const result = await gate;
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.out[1]).toMatch(
      /^Waiting for gcmd_wait 2\.0\.0 \(last 1h, (?:10m 00s|9m 5\ds) left\): inconclusive, \d+\/100 with an outcome/,
    );
    expect(result.out).toContain("gcmd_wait 2.0.0 passes the gate (last 1h)");
  });

  it("shows live progress on a terminal: one line rewritten in place, then the verdict", async () => {
    const output = await runOnTerminal(user.home, ["gate", "gcmd_idle", "2.0.0", "--wait", "4s"], connection);
    const rewrites = output.split("\r\u001B[2K");
    // At least the first look and one more, each rewriting the line; the last rewrite clears it.
    expect(rewrites.length).toBeGreaterThanOrEqual(3);
    expect(rewrites[1]).toMatch(
      /^Waiting for gcmd_idle 2\.0\.0 \(last 1h, [34]s left\): inconclusive, 0\/100 with an outcome$/,
    );
    expect(rewrites.at(-1)).toMatch(/^gcmd_idle 2\.0\.0 is still inconclusive after waiting [45]s \(last 1h\)\r?\n/);
  });
});
