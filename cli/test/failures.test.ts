import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningOrigin, startOrigin } from "../../worker/test/support/origins.ts";
import { type CliResult, newUser, since } from "./support/run-cli.ts";

const { gateway, origins, cliPath } = inject("cliWorld");

let user: Awaited<ReturnType<typeof newUser>>;
const asUser = (args: string[], env: Record<string, string> = {}) =>
  user.run(args, { env: { DAEPLOY_HOST: gateway.url, DAEPLOY_TOKEN: gateway.token, ...env } });

/** One line on stderr, exit 1, and nothing that looks like a stack trace. */
function expectOneLineFailure(result: CliResult): string {
  expect(result.code).toBe(1);
  expect(result.err).toHaveLength(1);
  expect(result.stderr).not.toMatch(/^\s+at |Error:/m);
  return result.err[0] ?? "";
}

beforeAll(async () => {
  user = await newUser();
});

describe("an unreachable or wrong host", () => {
  it("nothing listening: one line naming the host and the reason, exit 1", async () => {
    const result = await asUser(["ls"], { DAEPLOY_HOST: origins.dead });
    expect(result.out).toEqual([`Active host: ${origins.dead}`]);
    expect(expectOneLineFailure(result)).toBe(
      `Cannot reach the gateway at ${origins.dead} (connection refused); check that it is running ` +
        "(`npm run dev` locally) and that the host is right (--host, DAEPLOY_HOST or `daeploy-edge login`)",
    );
  });

  it("a host that is not a URL: one line, exit 1", async () => {
    const line = expectOneLineFailure(await asUser(["ls"], { DAEPLOY_HOST: "127.0.0.1:8787" }));
    expect(line).toBe(
      'The host must be an http:// or https:// URL such as http://127.0.0.1:8787, got "127.0.0.1:8787"',
    );
  });

  describe("a server that answers, but is not the gateway", () => {
    let stranger: RunningOrigin;
    beforeAll(async () => {
      stranger = await startOrigin({ version: "not-a-gateway" });
    });
    afterAll(() => stranger.close());

    it("says the host does not look like a daeploy-edge gateway", async () => {
      const line = expectOneLineFailure(await asUser(["ls"], { DAEPLOY_HOST: stranger.url }));
      expect(line).toMatch(/^The host http:\/\/127\.0\.0\.1:\d+ does not look like a daeploy-edge gateway/);
    });
  });
});

describe("refusals by the gateway: Command failed: <status> - <reason>: <message>, exit 1", () => {
  it("422 for a bad name, naming the field", async () => {
    const line = expectOneLineFailure(await asUser(["deploy", "Bad-Name", "1.0.0", origins.v1]));
    expect(line).toMatch(/^Command failed: 422 - Unprocessable Entity: name /);
  });

  it("422 for a bad version", async () => {
    const line = expectOneLineFailure(await asUser(["deploy", "fine", "v1", origins.v1]));
    expect(line).toMatch(/^Command failed: 422 - Unprocessable Entity: version /);
  });

  it("422 when the origin does not answer; --no-check deploys it anyway, shown as Unknown", async () => {
    const refused = await asUser(["deploy", "lonely", "1.0.0", origins.dead]);
    expect(refused.out).toEqual([`Active host: ${gateway.url}`, "Deploying service..."]);
    expect(expectOneLineFailure(refused)).toMatch(
      /^Command failed: 422 - Unprocessable Entity: origin .* did not answer/,
    );

    const forced = await asUser(["deploy", "lonely", "1.0.0", origins.dead, "--no-check", "--json"]);
    expect(forced.code).toBe(0);
    const record = JSON.parse(forced.stdout) as { status: string; statusSince: string };
    expect(record.status).toBe("unknown");
    const table = await asUser(["ls", "lonely"]);
    expect(table.out.at(-1)).toBe(`*       lonely  1.0.0      unknown   Unknown (since ${since(record.statusSince)})`);
  });

  it("409 for a version that is already deployed", async () => {
    await asUser(["deploy", "twice", "1.0.0", origins.v1]);
    const line = expectOneLineFailure(await asUser(["deploy", "twice", "1.0.0", origins.v2]));
    expect(line).toMatch(/^Command failed: 409 - Conflict: /);
  });

  it("404 for assigning a version that does not exist", async () => {
    await asUser(["deploy", "assignee", "1.0.0", origins.v1]);
    const line = expectOneLineFailure(await asUser(["assign", "assignee", "9.9.9", "--yes"]));
    expect(line).toMatch(/^Command failed: 404 - Not Found: /);
  });

  it("404 for a version that does not exist comes before the question, not after a yes", async () => {
    const result = await user.run(["assign", "assignee", "9.9.9"], {
      env: { DAEPLOY_HOST: gateway.url, DAEPLOY_TOKEN: gateway.token },
      input: "y\n",
    });
    expect(result.stdout + result.stderr).not.toContain("to main?");
    expect(expectOneLineFailure(result)).toMatch(/^Command failed: 404 - Not Found: /);
  });

  it("401 for a wrong token", async () => {
    const line = expectOneLineFailure(await asUser(["ls"], { DAEPLOY_TOKEN: "nope" }));
    expect(line).toBe("Command failed: 401 - Unauthorized: The token is neither the admin token nor the read token");
  });
});

describe("usage and the bin itself", () => {
  it("a missing argument exits 1 with citty's usage, no stack trace", async () => {
    const result = await asUser(["deploy", "hello"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Missing required positional argument: VERSION");
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it("the built dist/cli.mjs runs as an executable (shebang, mode) and lists every command", async () => {
    const result = await user.run(["--help"], { executable: cliPath });
    expect(result.code).toBe(0);
    for (const command of [
      "login",
      "logout",
      "deploy",
      "ls",
      "assign",
      "kill",
      "mirror",
      "report",
      "diffs",
      "policy",
    ]) {
      expect(result.stdout).toMatch(new RegExp(`^\\s+${command}\\s`, "m"));
    }
  });
});
