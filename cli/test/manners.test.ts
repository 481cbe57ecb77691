import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type CliResult, newUser, runOnTerminal } from "./support/run-cli.ts";

// How the CLI behaves when a person or a script gets something wrong: one line and exit 1,
// JSON on stdout for scripts, colour only for people at a terminal.

const { gateway, origins } = inject("cliWorld");
const ESC = "\u001B[";

let user: Awaited<ReturnType<typeof newUser>>;
const asUser = (args: string[], options: { input?: string; env?: Record<string, string | undefined> } = {}) =>
  user.run(args, { ...options, env: { DAEPLOY_HOST: gateway.url, DAEPLOY_TOKEN: gateway.token, ...options.env } });

function expectOneLine(result: CliResult): string {
  expect(result.code).toBe(1);
  expect(result.err).toHaveLength(1);
  return result.err[0] ?? "";
}

const onTerminal = (args: string[], env: Record<string, string>) => runOnTerminal(user.home, args, env);

beforeAll(async () => {
  user = await newUser();
  expect((await asUser(["kill", "--all", "--yes"])).code).toBe(0);
  expect((await asUser(["deploy", "manners", "1.0.0", origins.v1])).code).toBe(0);
});

afterAll(async () => {
  await asUser(["kill", "--all", "--yes"]);
});

describe("a typo'd command", () => {
  it("gets one line with the nearest command, and exit 1", async () => {
    const result = await asUser(["lss"]);
    expect(expectOneLine(result)).toBe("Unknown command lss. Did you mean ls?");
    expect(result.stdout).toBe("");
    expect(expectOneLine(await asUser(["asign", "manners", "1.0.0"]))).toBe(
      "Unknown command asign. Did you mean assign?",
    );
  });

  it("gets no suggestion when nothing is close", async () => {
    expect(expectOneLine(await asUser(["frobnicate"]))).toBe(
      "Unknown command frobnicate. Run `daeploy-edge --help` to see the commands.",
    );
  });
});

describe("arguments a command does not take", () => {
  it("an unknown option is one line and exit 1, and nothing is done", async () => {
    const result = await asUser(["kill", "manners", "--force", "--yes"]);
    expect(expectOneLine(result)).toBe("Unknown option --force. See `daeploy-edge kill --help`.");
    const ls = await asUser(["ls", "manners", "--json"]);
    expect(JSON.parse(ls.stdout)).toMatchObject({ services: [{ name: "manners", version: "1.0.0" }] });
  });

  it("an extra positional argument is one line and exit 1", async () => {
    expect(expectOneLine(await asUser(["ls", "manners", "1.0.0", "extra"]))).toBe(
      'Unexpected argument "extra": the command takes [NAME] [VERSION]. See `daeploy-edge ls --help`.',
    );
    expect(expectOneLine(await asUser(["logout", "now"]))).toMatch(/^Unexpected argument "now": the command takes no/);
  });

  it("known options in every spelling still work: --name=value, short aliases, --no-…", async () => {
    const result = await asUser(["ls", `--host=${gateway.url}`, "--json"]);
    expect(result.code).toBe(0);
    expect((await asUser(["deploy", "manners", "9.0.0", origins.dead, "--no-check"])).code).toBe(0);
    const kill = await asUser(["kill", "manners", "9.0.0", "-y"]);
    expect(kill.code).toBe(0);
    expect(kill.out).toContain("Service manners 9.0.0 killed.");
  });
});

describe('--json failures: {"error":{…}} on stdout, exit 1', () => {
  it("a refusal prints the API's error object", async () => {
    const result = await asUser(["deploy", "Bad-Name", "1.0.0", origins.v1, "--json"]);
    expect(result.code).toBe(1);
    const body = JSON.parse(result.stdout) as { error: { code: string; message: string; field?: string } };
    expect(body.error).toMatchObject({ field: "name" });
    expect(typeof body.error.code).toBe("string");
    expect(result.err.at(-1)).toMatch(/^Command failed: 422 - Unprocessable Entity: /);
  });

  it("an unreachable host gets an error the CLI makes, with a code", async () => {
    const result = await asUser(["ls", "--json"], { env: { DAEPLOY_HOST: origins.dead } });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      error: { code: "host_unreachable", message: expect.stringMatching(/^Cannot reach the gateway at /) },
    });
  });

  it("a bad argument is reported as JSON too", async () => {
    const result = await asUser(["ls", "a", "b", "c", "--json"]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: "usage" } });
    const missing = await asUser(["deploy", "hello", "--json"]);
    expect(expectOneLine(missing)).toBe("Missing argument VERSION. See `daeploy-edge deploy --help`.");
    expect(JSON.parse(missing.stdout)).toEqual({ error: { code: "usage", message: missing.err[0] } });
  });

  it('a declined prompt prints {"cancelled":true} and exits 0', async () => {
    // A shadow to ask about: assigning the current main asks nothing.
    expect((await asUser(["deploy", "manners", "1.0.1", origins.v1])).code).toBe(0);
    const assign = await asUser(["assign", "manners", "1.0.1", "--json"], { input: "n\n" });
    expect(assign.code).toBe(0);
    expect(JSON.parse(assign.stdout)).toEqual({ cancelled: true });
    const kill = await asUser(["kill", "manners", "--json"], { input: "n\n" });
    expect(kill.code).toBe(0);
    expect(JSON.parse(kill.stdout)).toEqual({ cancelled: true });
  });
});

describe("assigning the version that already is main", () => {
  it("says so instead of claiming a change", async () => {
    const result = await asUser(["assign", "manners", "1.0.0", "--yes"]);
    expect(result.code).toBe(0);
    expect(result.out).toContain("manners 1.0.0 is already main");
    expect(result.stdout).not.toContain("Changed main version");
  });

  it("says so without asking first: no prompt, even without --yes", async () => {
    // An empty stdin would read as "no" at a prompt, and cancel.
    const result = await asUser(["assign", "manners", "1.0.0"]);
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain("Change manners 1.0.0 to main?");
    expect(result.stdout).not.toContain("cancelled");
    expect(result.out.slice(1, 2)).toEqual(["manners 1.0.0 is already main"]);
  });
});

describe("colour", () => {
  beforeAll(async () => {
    expect((await asUser(["deploy", "dark", "1.0.0", origins.dead, "--no-check"])).code).toBe(0);
    await fetch(`${gateway.url}/cdn-cgi/local/scheduled`);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { services } = JSON.parse((await asUser(["ls", "dark", "--json"])).stdout) as {
        services: { status: string }[];
      };
      if (services[0]?.status === "unreachable") return;
      if (Date.now() > deadline) throw new Error("dark never became unreachable");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it("none when piped, in help or tables, even without NO_COLOR", async () => {
    const help = await asUser(["--help"], { env: { NO_COLOR: undefined, TERM: "xterm" } });
    const kill = await asUser(["kill", "--help"], { env: { NO_COLOR: undefined, TERM: "xterm" } });
    const ls = await asUser(["ls"], { env: { NO_COLOR: undefined, TERM: "xterm" } });
    expect(ls.stdout).toMatch(/\sunreachable\s/);
    for (const result of [help, kill, ls]) expect(result.stdout + result.stderr).not.toContain(ESC);
  });

  it("on a terminal, STATUS shows unreachable in red; NO_COLOR turns it off", async () => {
    const connection = { DAEPLOY_HOST: gateway.url, DAEPLOY_TOKEN: gateway.token };
    const coloured = await onTerminal(["ls"], connection);
    expect(coloured).toContain(`${ESC}31munreachable${ESC}39m`);
    expect(coloured).not.toContain(`${ESC}31mrunning`);
    const plain = await onTerminal(["ls"], { ...connection, NO_COLOR: "1" });
    expect(plain).toMatch(/\sunreachable\s/);
    expect(plain).not.toContain(ESC);
  });
});
