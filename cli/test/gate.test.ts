import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningHello, startHello } from "./support/hello.ts";
import { newUser, runOnTerminal } from "./support/run-cli.ts";

// The promotion gate on evidence from real traffic: examples/hello origins behind the test gateway,
// requests through /services/, then report, diffs, policy and assign as an operator runs them.
// `clean` has a shadow that answers like main; `pricey` has one that changes the price on every
// fifth answer. Every hello names its own version and time in its answers, so both names ignore
// body.version (it differs by design) and learn body.time as noise.

const { gateway } = inject("cliWorld");
const REQUESTS = 320;
/** The failing rule's line; its band's low edge (at least …%, at any look) is matched by shape. */
const PRICEY_REASON = expect.stringMatching(
  /^64 of 320 compared requests differ \(20%, at least 1\d(\.\d+)?% at any look\), more than the 5% allowed; top fields: body\.price \(value, 20%\)$/,
);
const ROW = (version: string, counts: string, verdict: string) =>
  new RegExp(`^${version.replaceAll(".", "\\.")}\\s+${counts}\\s+0%\\s+[\\d.]+ ms\\s+[\\d.]+ ms\\s+${verdict}$`);
/** Same, different, error, not compared and down: the outcome columns of a shadow's row. */
const OUTCOMES = (same: number | string, different: number) => `${same}\\s+${different}\\s+0\\s+0\\s+0`;

let user: Awaited<ReturnType<typeof newUser>>;
const asUser = (args: string[], input?: string) =>
  user.run(args, {
    ...(input === undefined ? {} : { input }),
    env: { DAEPLOY_HOST: gateway.url, DAEPLOY_TOKEN: gateway.token },
  });

const hellos: RunningHello[] = [];
async function hello(version: string, flags: string[] = []): Promise<RunningHello> {
  const started = await startHello(version, flags);
  hellos.push(started);
  return started;
}

/** Real clients: GETs through the gateway, ten at a time, each with its own request id. */
async function traffic(name: string, count: number): Promise<void> {
  for (let sent = 0; sent < count; sent += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, count - sent) }, async (_, i) => {
        const response = await fetch(`${gateway.url}/services/${name}/prices?item=${sent + i}`, {
          headers: { "x-request-id": `gate-${name}-${randomUUID()}` },
        });
        expect(response.status).toBe(200);
        await response.arrayBuffer();
      }),
    );
  }
}

interface Compared {
  shadows: { version: string; requests: { compared: number } }[];
}

/** Evidence reaches the ledger in batches (one write per isolate per second): wait until it has all of it. */
async function evidenceSettled(name: string, compared: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(`${gateway.url}/api/v1/services/${name}/report`, {
      headers: { authorization: `Bearer ${gateway.token}` },
    });
    const report = (await response.json()) as Compared;
    const counts = report.shadows.map((shadow) => shadow.requests.compared);
    if (counts.every((count) => count >= compared)) return;
    if (Date.now() > deadline) throw new Error(`${name}: compared ${counts.join(", ")} of ${compared} after 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const mains = async (name: string) => {
  const { services } = JSON.parse((await asUser(["ls", name, "--json"])).stdout) as {
    services: { version: string; main: boolean }[];
  };
  return services.filter((service) => service.main).map((service) => service.version);
};

beforeAll(async () => {
  user = await newUser();
  expect((await asUser(["kill", "--all", "--yes"])).code).toBe(0);
  const main = await hello("1.0.0", ["--timestamp"]);
  const clean = await hello("2.0.0", ["--timestamp"]);
  const pricey = await hello("2.0.0", ["--timestamp", "--differ", "price:0.2"]);
  for (const [name, shadow] of [
    ["clean", clean],
    ["pricey", pricey],
  ] as const) {
    expect((await asUser(["deploy", name, "1.0.0", main.url])).code).toBe(0);
    expect((await asUser(["deploy", name, "2.0.0", shadow.url])).code).toBe(0);
    // One noise copy in five, so that even this short run learns that body.time differs on its own.
    // These tests judge answers, not speed: on a shared test machine a p99 can jump by tens of ms.
    // Limits of 5 % and alpha 0.2: 320 clean requests clear them at any look (a p99 band needs ~310 latencies).
    const policy = ["--ignore", "body.version", "--noise-percent", "20", "--min-p99-delta", "1000"];
    policy.push("--max-diff-rate", "5%", "--max-error-increase", "5%", "--alpha", "0.2");
    expect((await asUser(["policy", name, ...policy])).code).toBe(0);
  }
  await Promise.all([traffic("clean", REQUESTS), traffic("pricey", REQUESTS)]);
  await Promise.all([evidenceSettled("clean", REQUESTS), evidenceSettled("pricey", REQUESTS)]);
}, 120_000);

afterAll(async () => {
  await asUser(["kill", "--all", "--yes"]);
  await Promise.all(hellos.map((started) => started.stop()));
});

describe("a shadow that answers like main", () => {
  it("passes in the report", async () => {
    const result = await asUser(["report", "clean"]);
    expect(result.code).toBe(0);
    expect(result.out.slice(0, 4)).toEqual([
      `Active host: ${gateway.url}`,
      expect.stringMatching(new RegExp(`^Against main 1\\.0\\.0 since [\\d-]+ [\\d:]+: ${REQUESTS} requests to main$`)),
      expect.stringMatching(
        /^VERSION {4}SAME {4}DIFFERENT {4}ERROR {4}NOT COMPARED {4}DOWN {4}ERROR RATE {4}P50 +P99 +VERDICT$/,
      ),
      expect.stringMatching(/^-{9} {2}-{6} {2}-{11} {2}-{7} {2}-{14} {2}-{6} {2}-{12} {2}-+ {2}-+ {2}-{9}$/),
    ]);
    expect(result.out[4]).toMatch(ROW("1.0.0", "-\\s+-\\s+-\\s+-\\s+-", "main"));
    expect(result.out[5]).toMatch(ROW("2.0.0", OUTCOMES(REQUESTS, 0), "pass"));
    // Under the table, the bands the pass rests on, said to hold at any look: every upper edge within the limits.
    expect(result.out.slice(6, 10)).toEqual([
      "",
      "Bands at alpha 0.2, which hold at any look:",
      expect.stringMatching(
        /^VERSION +DIFFERENT +ERROR RATE +ERROR INCREASE +P50 SHADOW +P50 MAIN +P99 SHADOW +P99 MAIN$/,
      ),
      expect.stringMatching(/^[- ]+$/),
    ]);
    const band =
      /^2\.0\.0 +0% to ([\d.]+)% +0% to [\d.]+% +-?[\d.]+ to \+?([\d.]+) points( +[\d.]+ (to [\d.]+ ms|ms to unbounded)){4}$/.exec(
        result.out[10] ?? "",
      );
    expect(Number(band?.[1])).toBeLessThan(5);
    expect(Number(band?.[2])).toBeLessThan(5);
    expect(result.out[12]).toMatch(/^Noise \(main against itself, \d+ copies\): body\.time \(value\) 100%$/);
  });

  it("is assigned, with its verdict line before the question", async () => {
    const result = await asUser(["assign", "clean", "2.0.0"], "y\n");
    expect(result.code).toBe(0);
    expect(result.out[1]).toMatch(
      new RegExp(
        `^Evidence for clean 2\\.0\\.0 \\(last 1h\\): pass — ${REQUESTS} compared, 0% different \\(at most [\\d.]+%\\), ` +
          "errors 0% vs 0% on main, p99 [\\d.]+ ms vs [\\d.]+ ms$",
      ),
    );
    expect(result.out.slice(2, 4)).toEqual([
      "Change clean 2.0.0 to main? [y/N]: ",
      "Changed main version to clean 2.0.0",
    ]);
    expect(await mains("clean")).toEqual(["2.0.0"]);
  });
});

describe("a shadow that changes the price on 20% of its answers", () => {
  it("fails in the report, with the reason and the field that counts", async () => {
    const result = await asUser(["report", "pricey"]);
    expect(result.code).toBe(0);
    expect(result.out[5]).toMatch(ROW("2.0.0", OUTCOMES(256, 64), "fail"));
    expect(result.out.slice(6, 12)).toEqual([
      "",
      "2.0.0 fails:",
      expect.stringMatching(/^ {2}64 of 320 compared requests differ \(20%, at least 1\d(\.\d+)?% at any look\)/),
      "  PATH        KIND    RATE    NOISE RATE",
      "  ----------  ------  ------  ------------",
      "  body.price  value   20%     0%",
    ]);
  });

  it("report --json is the API's report, with the field's rate", async () => {
    const result = await asUser(["report", "pricey", "--json"]);
    const report = JSON.parse(result.stdout) as {
      main: string;
      shadows: {
        verdict: string;
        requests: { compared: number; different: number };
        fields: { path: string; rate: number; counts: boolean }[];
      }[];
    };
    expect(report.main).toBe("1.0.0");
    const [shadow] = report.shadows;
    expect(shadow).toMatchObject({ verdict: "fail", requests: { compared: REQUESTS, different: 64 } });
    expect(shadow?.fields.filter((field) => field.counts)).toEqual([
      expect.objectContaining({ path: "body.price", rate: 0.2 }),
    ]);
  });

  it("diffs shows sampled exchanges, main's price beside the shadow's", async () => {
    const result = await asUser(["diffs", "pricey", "2.0.0", "--path", "body.price", "--limit", "2"]);
    expect(result.code).toBe(0);
    const text = result.out.join("\n");
    expect(text.match(/^GET \S*\/prices\?item=\d+$/gm)).toHaveLength(2);
    expect(text.match(/^ {2}status: main 200, shadow 200$/gm)).toHaveLength(2);
    expect(text.match(/^ {2}differs at: .*body\.price/gm)).toHaveLength(2);
    expect(text.match(/^ {2}- {2}"price": 10,$/gm)).toHaveLength(2);
    expect(text.match(/^ {2}\+ {2}"price": 12,$/gm)).toHaveLength(2);

    // Samples are the newest per path: unfiltered, the newest may differ only where every answer does (body.version).
    const json = JSON.parse(
      (await asUser(["diffs", "pricey", "2.0.0", "--path", "body.price", "--limit", "3", "--json"])).stdout,
    ) as {
      samples: { paths: string[]; main: { body: string }; shadow: { body: string } }[];
    };
    expect(json.samples).toHaveLength(3);
    for (const sample of json.samples) expect(sample.paths).toContain("body.price");
  });

  it("diffs are coloured on a terminal only: main's lines red, the shadow's green", async () => {
    const connection = { DAEPLOY_HOST: gateway.url, DAEPLOY_TOKEN: gateway.token };
    const args = ["diffs", "pricey", "2.0.0", "--path", "body.price", "--limit", "1"];
    const coloured = await runOnTerminal(user.home, args, connection);
    expect(coloured).toContain('\u001B[31m-  "price": 10,\u001B[39m');
    expect(coloured).toContain('\u001B[32m+  "price": 12,\u001B[39m');
    expect(await runOnTerminal(user.home, args, { ...connection, NO_COLOR: "1" })).not.toContain("\u001B[");
    expect((await asUser(args)).stdout).not.toContain("\u001B[");
  });

  it("report and assign print the same main p99 for the same window: main's own traffic", async () => {
    const report = await asUser(["report", "pricey"]);
    const mainP99 = report.out[4]?.match(/^1\.0\.0\s.*\s([\d.]+ ms)\s+main$/)?.[1];
    expect(mainP99).toMatch(/^[\d.]+ ms$/);
    const assign = await asUser(["assign", "pricey", "2.0.0", "--yes"]);
    expect(assign.code).toBe(1);
    expect(assign.out[1]).toMatch(new RegExp(`, p99 [\\d.]+ ms vs ${mainP99}$`));
  });

  it("assign refuses without asking: the verdict line, the reasons, one line on stderr, exit 1", async () => {
    const result = await asUser(["assign", "pricey", "2.0.0", "--yes"]);
    expect(result.code).toBe(1);
    expect(result.out[1]).toMatch(
      /^Evidence for pricey 2\.0\.0 \(last 1h\): fail — 320 compared, 20% different \(at least 1\d(\.\d+)?%\), errors 0% vs 0% on main, p99 /,
    );
    expect(result.out.slice(2)).toEqual([
      expect.stringMatching(/^ {2}64 of 320 compared requests differ \(20%, at least 1\d(\.\d+)?% at any look\)/),
    ]);
    expect(result.err).toEqual([
      "pricey 2.0.0 fails the promotion gate, so it stays a shadow. See `daeploy-edge report pricey` and " +
        "`daeploy-edge diffs pricey 2.0.0`, or force the promotion with --force.",
    ]);
    expect(await mains("pricey")).toEqual(["1.0.0"]);
  });

  it("under --json the refusal is JSON too", async () => {
    const result = await asUser(["assign", "pricey", "2.0.0", "--yes", "--json"]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      error: {
        code: "gate_failed",
        message: expect.stringMatching(/^pricey 2\.0\.0 fails the promotion gate/),
        reasons: [PRICEY_REASON],
      },
    });
  });

  it("--force asks, and declining still changes nothing", async () => {
    const result = await asUser(["assign", "pricey", "2.0.0", "--force"], "n\n");
    expect(result.code).toBe(0);
    expect(result.out.slice(-2)).toEqual(["Change pricey 2.0.0 to main? [y/N]: ", "Assign cancelled."]);
    expect(await mains("pricey")).toEqual(["1.0.0"]);
  });

  it("--force, confirmed, assigns it", async () => {
    const result = await asUser(["assign", "pricey", "2.0.0", "--force"], "y\n");
    expect(result.code).toBe(0);
    expect(result.out.slice(3, 5)).toEqual([
      "Change pricey 2.0.0 to main? [y/N]: ",
      "Changed main version to pricey 2.0.0",
    ]);
    expect(await mains("pricey")).toEqual(["2.0.0"]);
    // Back to 1.0.0, which as a shadow has no evidence: inconclusive, so the gate lets it through (320 at this alpha 0.2).
    const back = await asUser(["assign", "pricey", "1.0.0", "--yes"]);
    expect(back.code).toBe(0);
    expect(back.out[1]).toBe(
      "Evidence for pricey 1.0.0 (last 1h): inconclusive (0/100 with an outcome) — no copies have arrived yet; a shadow identical to main would need at least 320 to pass; the gate lets it through with a warning",
    );
  });

  it("ignoring body.price (the new prices are intended) makes it pass, and assign proceeds", {
    timeout: 30_000,
  }, async () => {
    const policy = await asUser(["policy", "pricey", "--ignore", "body.price"]);
    expect(policy.out[2]).toBe("  ignore              body.version, body.price");
    // 1.0.0 was made main again above: its evidence starts at that minute, so the 320 requests a pass
    // needs are sent again (the first 320 count too when it all happened within one minute).
    await traffic("pricey", REQUESTS);
    await evidenceSettled("pricey", REQUESTS);
    const report = await asUser(["report", "pricey"]);
    // The ignore list applies when the ledger is read: every exchange with a new price is the same now.
    expect(report.out[5]).toMatch(ROW("2.0.0", OUTCOMES("\\d+", 0), "pass"));
    const assigned = await asUser(["assign", "pricey", "2.0.0", "--yes"]);
    expect(assigned.code).toBe(0);
    expect(assigned.out[1]).toMatch(
      /^Evidence for pricey 2\.0\.0 \(last 1h\): pass — [\d,]+ compared, 0% different \(at most [\d.]+%\), /,
    );
    expect(assigned.out[2]).toBe("Changed main version to pricey 2.0.0");
  });
});
