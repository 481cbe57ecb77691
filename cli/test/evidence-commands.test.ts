import { beforeAll, describe, expect, inject, it } from "vitest";
import { type CliResult, newUser, since } from "./support/run-cli.ts";

// mirror, report, diffs and policy before any traffic: what an operator sees right after deploying,
// every refusal in one line, and --json for scripts. Evidence from real traffic is in gate.test.ts.

const { gateway, origins } = inject("cliWorld");
const HEADER = "MAIN    NAME    VERSION    STATUS    RUNNING";
const DASHES = "------  ------  ---------  --------  -----------------------------------";

let user: Awaited<ReturnType<typeof newUser>>;
const asUser = (args: string[], input?: string) =>
  user.run(args, {
    ...(input === undefined ? {} : { input }),
    env: { DAEPLOY_HOST: gateway.url, DAEPLOY_TOKEN: gateway.token },
  });

interface Record {
  version: string;
  statusSince: string;
  mirrorPercent: number;
  mirrorMethods: string[] | null;
}

const recordOf = async (version: string) => {
  const result = await asUser(["ls", "shop", version, "--json"]);
  const [record] = (JSON.parse(result.stdout) as { services: Record[] }).services;
  if (!record) throw new Error(`shop ${version} is not deployed`);
  return record;
};

function expectOneLineFailure(result: CliResult, line: string | RegExp): void {
  expect(result.code).toBe(1);
  expect(result.err).toHaveLength(1);
  expect(result.err[0]).toMatch(line);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

beforeAll(async () => {
  user = await newUser();
  expect((await asUser(["kill", "--all", "--yes"])).code).toBe(0);
  expect((await asUser(["deploy", "shop", "1.0.0", origins.v1])).code).toBe(0);
});

describe("traffic controls", () => {
  it("deploy --mirror-percent --mirror-methods sets them and says so; the table keeps Daeploy's columns", async () => {
    const result = await asUser([
      "deploy",
      "shop",
      "2.0.0",
      origins.v2,
      "--mirror-percent",
      "25",
      "--mirror-methods",
      "get,head",
    ]);
    expect(result.code).toBe(0);
    const record = await recordOf("2.0.0");
    expect(record).toMatchObject({ mirrorPercent: 25, mirrorMethods: ["GET", "HEAD"] });
    // The controls are said back, before the row.
    expect(result.out.slice(2)).toEqual([
      "Service deployed successfully",
      "Traffic controls of shop 2.0.0: 25% of requests, methods GET, HEAD",
      HEADER,
      DASHES,
      `        shop    2.0.0      running   Running (since ${since(record.statusSince)})`,
    ]);
  });

  it("mirror NAME VERSION shows them, with the version's row", async () => {
    const result = await asUser(["mirror", "shop", "2.0.0"]);
    expect(result.code).toBe(0);
    const record = await recordOf("2.0.0");
    expect(result.out).toEqual([
      `Active host: ${gateway.url}`,
      "Traffic controls of shop 2.0.0: 25% of requests, methods GET, HEAD",
      HEADER,
      DASHES,
      `        shop    2.0.0      running   Running (since ${since(record.statusSince)})`,
    ]);
  });

  it("--percent and --methods change them; `all` is every method again", async () => {
    const result = await asUser(["mirror", "shop", "2.0.0", "--percent", "12.5", "--methods", "all"]);
    expect(result.code).toBe(0);
    expect(result.out[1]).toBe("Traffic controls of shop 2.0.0: 12.5% of requests, every method");
    expect(await recordOf("2.0.0")).toMatchObject({ mirrorPercent: 12.5, mirrorMethods: null });
  });

  it("--json prints the record with mirrorPercent and mirrorMethods; the human lines go to stderr", async () => {
    const result = await asUser(["mirror", "shop", "2.0.0", "--methods", "POST", "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      name: "shop",
      version: "2.0.0",
      main: false,
      mirrorPercent: 12.5,
      mirrorMethods: ["POST"],
    });
    expect(result.err).toEqual([
      `Active host: ${gateway.url}`,
      "Traffic controls of shop 2.0.0: 12.5% of requests, methods POST",
    ]);
  });

  it("a main's controls are shown with when they apply", async () => {
    const result = await asUser(["mirror", "shop", "1.0.0"]);
    expect(result.out[1]).toBe(
      "Traffic controls of shop 1.0.0: 100% of requests, every method (they apply once it is a shadow; main gets everything)",
    );
  });

  it.each([
    [["--percent", "150"], /^Command failed: 422 - Unprocessable Entity: mirrorPercent /],
    [["--percent", "12.345"], /^Command failed: 422 - Unprocessable Entity: mirrorPercent /],
    [["--methods", "GET,FETCH ME"], /^--methods: FETCH ME is not an HTTP method \(RFC 9110 or WebDAV\)$/],
    // A typo would quietly stop the shadow's copies of GET: refused, with the method meant.
    [["--methods", "gte"], /^--methods: GTE is not an HTTP method; did you mean GET\?$/],
    [["--percent", "half"], /^--percent takes a share of requests from 0 to 100, e\.g\. --percent 12\.5; got "half"$/],
  ])("mirror shop 2.0.0 %j fails in one line and changes nothing", async (flags, line) => {
    expectOneLineFailure(await asUser(["mirror", "shop", "2.0.0", ...flags]), line);
    expect(await recordOf("2.0.0")).toMatchObject({ mirrorPercent: 12.5, mirrorMethods: ["POST"] });
  });

  it("deploy with a bad --mirror-percent fails in one line and deploys nothing", async () => {
    const result = await asUser(["deploy", "shop", "3.0.0", origins.v2, "--mirror-percent", "-1"]);
    expectOneLineFailure(result, /^Command failed: 422 - Unprocessable Entity: mirrorPercent /);
    expect((await asUser(["ls", "shop", "3.0.0", "--json"])).stdout).toContain('"services": []');
  });

  it("mirror of a version that does not exist: 404 when changing, one line when showing", async () => {
    expectOneLineFailure(
      await asUser(["mirror", "shop", "9.9.9", "--percent", "5"]),
      /^Command failed: 404 - Not Found: /,
    );
    expectOneLineFailure(
      await asUser(["mirror", "shop", "9.9.9"]),
      "No service matches shop 9.9.9; `daeploy-edge ls shop` lists its versions.",
    );
  });
});

describe("report before any traffic", () => {
  it("main's row as the baseline, every shadow inconclusive (0/100)", async () => {
    await asUser(["mirror", "shop", "2.0.0", "--percent", "100", "--methods", "all"]);
    const result = await asUser(["report", "shop"]);
    expect(result.code).toBe(0);
    expect(result.out).toEqual([
      `Active host: ${gateway.url}`,
      "Against main 1.0.0 (no evidence yet): 0 requests to main",
      "VERSION    SAME    DIFFERENT    ERROR    NOT COMPARED    DOWN    ERROR RATE    P50    P99    VERDICT",
      "---------  ------  -----------  -------  --------------  ------  ------------  -----  -----  --------------------",
      "1.0.0      -       -            -        -               -       -             -      -      main",
      "2.0.0      0       0            0        0               0       -             -      -      inconclusive (0/100)",
      "",
      "2.0.0 is inconclusive:",
      "  0 copies with an outcome, fewer than the 100 the gate needs",
      "  no copies have arrived yet; a shadow identical to main would need at least 820 to pass",
    ]);
  });

  it("--json prints the API's report", async () => {
    const result = await asUser(["report", "shop", "--window", "5m", "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      name: string;
      main: string;
      window: { from: string; to: string };
      shadows: { version: string; verdict: string; requests: { compared: number } }[];
      noise: { sampled: number };
    };
    expect(report).toMatchObject({ name: "shop", main: "1.0.0", noise: { sampled: 0, fields: [] } });
    expect(Date.parse(report.window.to) - Date.parse(report.window.from)).toBe(5 * 60_000);
    expect(report.shadows).toMatchObject([{ version: "2.0.0", verdict: "inconclusive", requests: { compared: 0 } }]);
    expect(result.err).toEqual([`Active host: ${gateway.url}`]);
  });

  it("report NAME VERSION keeps main's row and that shadow only; a version that is no shadow is one line", async () => {
    const result = await asUser(["report", "shop", "2.0.0"]);
    expect(result.out.slice(4, 6).map((line) => line.split(/\s+/)[0])).toEqual(["1.0.0", "2.0.0"]);
    expect(result.out[7]).toBe("2.0.0 is inconclusive:");
    expectOneLineFailure(
      await asUser(["report", "shop", "9.9.9"]),
      "shop has no shadow 9.9.9; `daeploy-edge ls shop` lists its versions.",
    );
  });

  it.each([
    [["report", "shop", "--window", "8d"], /^Command failed: 422 - Unprocessable Entity: window /],
    [["report", "nobody"], /^Command failed: 404 - Not Found: /],
  ])("daeploy-edge %j fails in one line", async (args, line) => {
    expectOneLineFailure(await asUser(args), line);
  });
});

describe("diffs before any traffic", () => {
  it("says there are none; --json prints an empty list", async () => {
    const result = await asUser(["diffs", "shop", "2.0.0"]);
    expect(result.code).toBe(0);
    expect(result.out).toEqual([
      `Active host: ${gateway.url}`,
      "No sampled differences of shop 2.0.0 (samples are kept for 7 days).",
    ]);
    const filtered = await asUser(["diffs", "shop", "2.0.0", "--path", "body.price"]);
    expect(filtered.out[1]).toBe("No sampled differences of shop 2.0.0 at body.price (samples are kept for 7 days).");
    const json = await asUser(["diffs", "shop", "2.0.0", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual({ samples: [] });
  });

  it.each([
    [["diffs", "shop", "2.0.0", "--limit", "0"], /^Command failed: 422 - Unprocessable Entity: limit /],
    [["diffs", "shop", "2.0.0", "--path", "price"], /^Command failed: 422 - Unprocessable Entity: path /],
    [["diffs", "shop", "9.9.9"], /^Command failed: 404 - Not Found: /],
  ])("daeploy-edge %j fails in one line", async (args, line) => {
    expectOneLineFailure(await asUser(args), line);
  });
});

describe("policy", () => {
  const defaults = [
    "  ignore              (nothing)",
    "  headers             (content-type only)",
    "  redact              (credential-named fields only)",
    "  noise-percent       5 (of mirrored GET and HEAD requests)",
    "  min-requests        100 (copies with an outcome, before a verdict)",
    "  max-diff-rate       0.01 (1%)",
    "  max-error-increase  0.01 (1%)",
    "  max-p99-ratio       1.5",
    "  pass-p99-ratio      2 (a pass needs p50 and p99 clearly within this × main's, or min-p99-delta)",
    "  min-p99-delta       25 ms",
    "  alpha               0.01 (the chance of failing a good shadow, however often it is read)",
    "  notify              (nowhere)",
  ];

  it("shows the defaults", async () => {
    const result = await asUser(["policy", "shop"]);
    expect(result.code).toBe(0);
    expect(result.out).toEqual([`Active host: ${gateway.url}`, "Policy of shop:", ...defaults]);
  });

  it("--ignore repeated and as a comma list, and thresholds, change it and print the new policy", async () => {
    const result = await asUser([
      "policy",
      "shop",
      "--ignore",
      "body.time",
      "--ignore",
      "header.etag,body.items[].id",
      "--max-diff-rate",
      "2%",
      "--min-requests",
      "50",
      "--max-p99-ratio",
      "2",
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toEqual([
      `Active host: ${gateway.url}`,
      "Changed the policy of shop:",
      "  ignore              body.time, header.etag, body.items[].id",
      "  headers             (content-type only)",
      "  redact              (credential-named fields only)",
      "  noise-percent       5 (of mirrored GET and HEAD requests)",
      "  min-requests        50 (copies with an outcome, before a verdict)",
      "  max-diff-rate       0.02 (2%)",
      "  max-error-increase  0.01 (1%)",
      "  max-p99-ratio       2",
      "  pass-p99-ratio      2 (a pass needs p50 and p99 clearly within this × main's, or min-p99-delta)",
      "  min-p99-delta       25 ms",
      "  alpha               0.01 (the chance of failing a good shadow, however often it is read)",
      "  notify              (nowhere)",
    ]);
  });

  it("--unignore takes a path off the list and says when it was not on it; --json prints the policy", async () => {
    const result = await asUser(["policy", "shop", "--unignore", "header.etag", "--unignore=body.nothing", "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      ignore: ["body.time", "body.items[].id"],
      headers: [],
      noisePercent: 5,
      redact: [],
      rules: [],
      gate: {
        minRequests: 50,
        maxDiffRate: 0.02,
        maxErrorRateIncrease: 0.01,
        maxP99Ratio: 2,
        passP99Ratio: 2,
        minP99DeltaMs: 25,
        alpha: 0.01,
      },
      notify: null,
      capture: null,
    });
    expect(result.err).toEqual([
      `Active host: ${gateway.url}`,
      "body.nothing was not in the ignore list of shop",
      "Changed the policy of shop:",
    ]);
  });

  it("field rule flags set and remove rules on the gateway, and the policy shows them in words", async () => {
    const set = await asUser([
      "policy",
      "shop",
      "--tolerance",
      "body.price=1e-6",
      "--unordered",
      "body.items:id",
      "--present",
      "body.createdAt",
      "--format",
      "body.id=uuid",
    ]);
    expect(set.code).toBe(0);
    expect(set.out.filter((line) => line.includes("body.") && !line.includes("ignore"))).toEqual([
      "  rules               body.price: a number, within rel 0.000001",
      "                      body.items: order does not matter, elements matched by id",
      "                      body.createdAt: only presence (and type) matters",
      "                      body.id: any value of format uuid",
    ]);
    const removed = await asUser([
      "policy",
      "shop",
      "--no-rule",
      "body.items,body.createdAt,body.id,body.price",
      "--json",
    ]);
    expect(removed.code).toBe(0);
    expect((JSON.parse(removed.stdout) as { rules: unknown[] }).rules).toEqual([]);
  });

  it("--redact and --unredact edit the redact list on the gateway, shown in the policy and its --json", async () => {
    const added = await asUser(["policy", "shop", "--redact", "query.user", "--redact=body.email,body.items[].card"]);
    expect(added.code).toBe(0);
    expect(added.out).toContain("  redact              query.user, body.email, body.items[].card");
    const removed = await asUser(["policy", "shop", "--unredact", "body.email", "--unredact", "query.never", "--json"]);
    expect(removed.code).toBe(0);
    expect(removed.err).toEqual([
      `Active host: ${gateway.url}`,
      "query.never was not in the redact list of shop",
      "Changed the policy of shop:",
    ]);
    const policy = JSON.parse(removed.stdout) as { redact: string[]; ignore: string[] };
    expect(policy.redact).toEqual(["query.user", "body.items[].card"]);
    expect(policy.ignore).toEqual(["body.time", "body.items[].id"]);
    // Shown, not only sent: a plain `policy NAME` reads it back from the gateway.
    const shown = await asUser(["policy", "shop"]);
    expect(shown.out).toContain("  redact              query.user, body.items[].card");
    const cleared = await asUser(["policy", "shop", "--unredact", "query.user,body.items[].card", "--json"]);
    expect((JSON.parse(cleared.stdout) as { redact: string[] }).redact).toEqual([]);
  });

  it.each([
    [["--max-diff-rate", "2"], /^Command failed: 422 - Unprocessable Entity: gate\.maxDiffRate /],
    [["--min-requests", "0"], /^Command failed: 422 - Unprocessable Entity: gate\.minRequests /],
    [["--noise-percent", "101"], /^Command failed: 422 - Unprocessable Entity: noisePercent /],
    [["--ignore", "time"], /^--ignore takes a difference path: .*; got "time": did you mean body\.time\?$/],
    [
      ["--tolerance", "price=1e-6"],
      /^--tolerance takes a body field path .*; got "price": did you mean body\.price\?$/,
    ],
    [
      ["--format", "body.code=(a+)+"],
      /^Command failed: 422 - Unprocessable Entity: rulesAdd\.0\.format must not repeat a group/,
    ],
    [["--min-requests", "lots"], /^--min-requests takes a number; got "lots"$/],
    [["--ignore"], /^--ignore needs a value after it$/],
    [
      ["--redact", "header.x-user"],
      /^--redact takes a sample field, query\.<parameter> or body\.<json path> \(such as query\.user or body\.email\); got "header\.x-user"$/,
    ],
    [["--min-requests", "1", "--unredact", "email"], /^--unredact takes a sample field, .*; got "email"$/],
  ])("policy shop %j fails in one line and changes nothing", async (flags, line) => {
    expectOneLineFailure(await asUser(["policy", "shop", ...flags]), line);
    const after = JSON.parse((await asUser(["policy", "shop", "--json"])).stdout) as { gate: { minRequests: number } };
    expect(after.gate.minRequests).toBe(50);
  });

  it("of a name that does not exist: 404 in one line", async () => {
    expectOneLineFailure(await asUser(["policy", "nobody"]), /^Command failed: 404 - Not Found: /);
  });

  it("--notify sets a receiver (all events by default), --notify-events narrows them, --notify off removes it", async () => {
    const set = await asUser(["policy", "shop", "--notify", "https://hooks.example.com/T0/B0"]);
    expect(set.code).toBe(0);
    expect(set.out.at(-1)).toBe(
      "  notify              https://hooks.example.com/… (verdict, assign, kill, rollout, replay)",
    );
    const narrowed = await asUser(["policy", "shop", "--notify-events", "verdict,kill"]);
    expect(narrowed.out.at(-1)).toBe("  notify              https://hooks.example.com/… (verdict, kill)");
    expectOneLineFailure(
      await asUser(["policy", "shop", "--notify", "http://hooks.example.com/x"]),
      /^Command failed: 422 - Unprocessable Entity: notify\.url must use https: \(http: only to a loopback address such as 127\.0\.0\.1\)$/,
    );
    const off = await asUser(["policy", "shop", "--notify", "off"]);
    expect(off.out.at(-1)).toBe("  notify              (nowhere)");
    expectOneLineFailure(
      await asUser(["policy", "shop", "--notify-events", "kill"]),
      /^--notify-events needs a receiver: give --notify URL too$/,
    );
  });
});

describe("assign with too little evidence", () => {
  it("prints the verdict line, proceeds, and --json carries the verdict the gateway decided on", async () => {
    const result = await asUser(["assign", "shop", "2.0.0", "--yes", "--json"]);
    expect(result.code).toBe(0);
    expect(result.err).toEqual([
      `Active host: ${gateway.url}`,
      "Evidence for shop 2.0.0 (last 1h): inconclusive (0/50 with an outcome) — no copies have arrived yet; a shadow identical to main would need at least 820 to pass; the gate lets it through with a warning",
      "Changed main version to shop 2.0.0",
    ]);
    const body = JSON.parse(result.stdout) as { changed: boolean; verdict: { verdict: string }; warning: string };
    expect(body).toMatchObject({ changed: true, verdict: { version: "2.0.0", verdict: "inconclusive" } });
    expect(body.warning).toEqual(expect.any(String));
  });

  it("cleans up: kill --all", async () => {
    expect((await asUser(["kill", "--all", "--yes"])).code).toBe(0);
  });
});
