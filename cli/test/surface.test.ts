import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { newUser } from "./support/run-cli.ts";

// The operator surface from the CLI: the audit trail, copies without credentials, and the read token.

const { gateway, origins } = inject("cliWorld");
const NAME = "surface";

let user: Awaited<ReturnType<typeof newUser>>;
const as = (token: string) => (args: string[], input?: string) =>
  user.run(args, {
    ...(input === undefined ? {} : { input }),
    env: { DAEPLOY_HOST: gateway.url, DAEPLOY_TOKEN: token },
  });
const asAdmin = (args: string[], input?: string) => as(gateway.token)(args, input);
const asReader = (args: string[]) => as(gateway.readToken)(args);

interface Row {
  actor: string;
  action: string;
  name: string;
  version: string | null;
  detail: Record<string, unknown>;
}

/** Every request differs at body.version (each origin names itself), so the shadow fails the gate. */
async function failingEvidence(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${gateway.url}/services/${NAME}/x`, { headers: { "x-request-id": randomUUID() } });
    await response.arrayBuffer();
  }
  const deadline = Date.now() + 15_000;
  for (;;) {
    const report = await asAdmin(["report", NAME, "--json"]);
    const shadows = (JSON.parse(report.stdout) as { shadows: { verdict: string }[] }).shadows;
    if (shadows[0]?.verdict === "fail") return;
    if (Date.now() > deadline) throw new Error(`no failing verdict after 15 s: ${report.stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  user = await newUser();
  expect((await asAdmin(["deploy", NAME, "1.0.0", origins.v1])).code).toBe(0);
});

afterAll(async () => {
  await asAdmin(["kill", NAME, "--yes"]);
});

describe("copies without credentials", () => {
  it("deploy --strip and mirror --strip set the headers a shadow's copies go without; ls --json shows them", async () => {
    const deployed = await asAdmin(["deploy", NAME, "2.0.0", origins.v2, "--strip", "Authorization, cookie"]);
    expect(deployed.code).toBe(0);
    const listed = await asAdmin(["ls", NAME, "2.0.0", "--json"]);
    expect(JSON.parse(listed.stdout).services[0].stripHeaders).toEqual(["authorization", "cookie"]);

    const changed = await asAdmin(["mirror", NAME, "2.0.0", "--strip", "cookie"]);
    expect(changed.code).toBe(0);
    expect(changed.out[1]).toBe(
      `Traffic controls of ${NAME} 2.0.0: 100% of requests, every method, copies without cookie`,
    );
    const shown = await asAdmin(["ls", NAME, "2.0.0", "--json"]);
    expect(JSON.parse(shown.stdout).services[0].stripHeaders).toEqual(["cookie"]);
  });

  it("refuses the gateway's own headers in one line", async () => {
    const refused = await asAdmin(["mirror", NAME, "2.0.0", "--strip", "via"]);
    expect(refused.code).toBe(1);
    expect(refused.err).toHaveLength(1);
    expect(refused.err[0]).toMatch(
      /^Command failed: 422 - Unprocessable Entity: stripHeaders must not list the gateway's own headers/,
    );
  });
});

describe("history", () => {
  it("prints who changed what, newest first, and a forced promotion says it was forced", async () => {
    await asAdmin(["policy", NAME, "--min-requests", "5"]);
    await failingEvidence(8);
    const refused = await asAdmin(["assign", NAME, "2.0.0", "--yes"]);
    expect(refused.code).toBe(1);
    const forced = await asAdmin(["assign", NAME, "2.0.0", "--yes", "--force"]);
    expect(forced.code).toBe(0);

    const history = await asAdmin(["history", NAME]);
    expect(history.code).toBe(0);
    expect(history.out[0]).toBe(`Active host: ${gateway.url}`);
    expect(history.out[1]).toMatch(/^AT\s+ACTOR\s+ACTION\s+NAME\s+VERSION\s+DETAIL$/);
    const rows = history.out.slice(3);
    expect(rows.map((line) => line.split(/\s{2,}/)[2])).toEqual(["assign", "policy", "traffic", "deploy", "deploy"]);
    expect(rows[0]).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+admin-token\s+assign\s+surface\s+2\.0\.0\s+from 1\.0\.0, verdict fail, FORCED over the failing gate$/,
    );
  });

  it("--json gives the rows, and --limit keeps the newest", async () => {
    const result = await asAdmin(["history", NAME, "--limit", "2", "--json"]);
    expect(result.code).toBe(0);
    const { audit } = JSON.parse(result.stdout) as { audit: Row[] };
    expect(audit.map((row) => row.action)).toEqual(["assign", "policy"]);
    expect(audit[0]).toMatchObject({ actor: "admin-token", name: NAME, version: "2.0.0" });
    expect(audit[0]?.detail).toMatchObject({ from: "1.0.0", verdict: "fail", force: true });
  });

  it("a bad --limit is one line", async () => {
    const result = await asAdmin(["history", "--limit", "0"]);
    expect(result.code).toBe(1);
    expect(result.err).toEqual([expect.stringMatching(/^Command failed: 422 - Unprocessable Entity: limit must be/)]);
  });
});

describe("the read token", () => {
  it("reads: ls, report, policy and history work", async () => {
    for (const args of [
      ["ls", NAME],
      ["report", NAME],
      ["policy", NAME],
      ["history", NAME],
      ["diffs", NAME, "1.0.0"],
    ]) {
      const result = await asReader(args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
    }
  });

  it("cannot change anything: one line saying so, and nothing changed", async () => {
    const before = (await asAdmin(["ls", NAME, "--json"])).stdout;
    const writes = [
      ["deploy", NAME, "3.0.0", origins.v1, "--no-check"],
      ["mirror", NAME, "1.0.0", "--percent", "5"],
      ["assign", NAME, "1.0.0", "--yes", "--force"],
      ["kill", NAME, "1.0.0", "--yes"],
      ["policy", NAME, "--ignore", "body.version"],
    ];
    for (const args of writes) {
      const result = await asReader(args);
      expect(result.code, args.join(" ")).toBe(1);
      expect(result.err.at(-1), args.join(" ")).toMatch(
        /^Command failed: 403 - Forbidden: The read token may only read/,
      );
    }
    expect((await asAdmin(["ls", NAME, "--json"])).stdout).toBe(before);
  });
});

describe("the Access assertion", () => {
  it("mirror --forward-access on|off sets whether a version gets it, and says so; anything else is one line", async () => {
    const on = await asAdmin(["mirror", NAME, "1.0.0", "--forward-access", "on"]);
    expect(on.code).toBe(0);
    expect(on.out[1]).toMatch(/; gets the Cloudflare Access assertion$/);
    expect(JSON.parse((await asAdmin(["ls", NAME, "1.0.0", "--json"])).stdout).services[0].forwardAccess).toBe(true);
    const off = await asAdmin(["mirror", NAME, "1.0.0", "--forward-access", "off"]);
    expect(off.out[1]).not.toContain("Access");
    expect(JSON.parse((await asAdmin(["ls", NAME, "1.0.0", "--json"])).stdout).services[0].forwardAccess).toBe(false);

    const refused = await asAdmin(["mirror", NAME, "1.0.0", "--forward-access", "maybe"]);
    expect(refused.code).toBe(1);
    expect(refused.err).toEqual(['--forward-access takes on or off, e.g. --forward-access off; got "maybe"']);
  });
});
