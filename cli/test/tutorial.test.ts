import { beforeAll, describe, expect, inject, it } from "vitest";
import { type CliResult, newUser, since } from "./support/run-cli.ts";

// Daeploy's tutorial, with origin URLs instead of source directories, in the README's order.
// The steps build on each other, so they run in order within this file.

const { gateway, origins } = inject("cliWorld");
const HEADER = "MAIN    NAME    VERSION    STATUS    RUNNING";
const DASHES = "------  ------  ---------  --------  -----------------------------------";
// The one line daeploy-edge adds to Daeploy's assign: with no traffic yet there is no verdict, and the assign proceeds.
const NO_EVIDENCE =
  "Evidence for hello 2.0.0 (last 1h): inconclusive (0/100 with an outcome) — no copies have arrived yet; " +
  "a shadow identical to main would need at least 820 to pass; the gate lets it through with a warning";

let user: Awaited<ReturnType<typeof newUser>>;
const asUser = (args: string[], input?: string) =>
  user.run(args, {
    ...(input === undefined ? {} : { input }),
    env: { DAEPLOY_HOST: gateway.url, DAEPLOY_TOKEN: gateway.token },
  });

interface Listed {
  name: string;
  version: string;
  main: boolean;
  status: string;
  statusSince: string;
}

async function listed(name?: string): Promise<Listed[]> {
  const result = await asUser(["ls", ...(name ? [name] : []), "--json"]);
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { services: Listed[] }).services;
}

const expectNoStackTrace = (result: CliResult) => expect(result.stderr).not.toMatch(/^\s+at /m);

beforeAll(async () => {
  user = await newUser();
  // Files share one gateway and run one after another; start this tutorial from an empty registry.
  expect((await asUser(["kill", "--all", "--yes"])).code).toBe(0);
});

describe("the tutorial", () => {
  it("deploy: the first version becomes main, printed with Daeploy's messages and table", async () => {
    const result = await asUser(["deploy", "hello", "1.0.0", origins.v1]);
    expect(result.code).toBe(0);
    const [record] = await listed("hello");
    expect(result.out).toEqual([
      `Active host: ${gateway.url}`,
      "Deploying service...",
      "Service deployed successfully",
      HEADER,
      DASHES,
      `*       hello   1.0.0      running   Running (since ${since(record?.statusSince ?? "")})`,
    ]);
    expect(result.stderr).toBe("");
  });

  it("deploy again: the second version is a shadow, without the star", async () => {
    const result = await asUser(["deploy", "hello", "2.0.0", origins.v2]);
    expect(result.code).toBe(0);
    const second = (await listed("hello")).find((r) => r.version === "2.0.0");
    expect(result.out.slice(1, 3)).toEqual(["Deploying service...", "Service deployed successfully"]);
    expect(result.out.slice(3)).toEqual([
      HEADER,
      DASHES,
      `        hello   2.0.0      running   Running (since ${since(second?.statusSince ?? "")})`,
    ]);
  });

  it("ls: one row per version, the star on main", async () => {
    const result = await asUser(["ls"]);
    expect(result.code).toBe(0);
    const [first, second] = await listed();
    expect(result.out).toEqual([
      `Active host: ${gateway.url}`,
      HEADER,
      DASHES,
      `*       hello   1.0.0      running   Running (since ${since(first?.statusSince ?? "")})`,
      `        hello   2.0.0      running   Running (since ${since(second?.statusSince ?? "")})`,
    ]);
  });

  it("ls NAME VERSION: only that version", async () => {
    const result = await asUser(["ls", "hello", "2.0.0"]);
    expect(result.out.slice(1).map((line) => line.slice(0, 27))).toEqual([
      HEADER.slice(0, 27),
      DASHES.slice(0, 27),
      "        hello   2.0.0      ",
    ]);
  });

  it("assign, declined: asks Daeploy's question, exits 0, and changes nothing", async () => {
    const result = await asUser(["assign", "hello", "2.0.0"], "n\n");
    expect(result.code).toBe(0);
    expect(result.out).toEqual([
      `Active host: ${gateway.url}`,
      NO_EVIDENCE,
      "Change hello 2.0.0 to main? [y/N]: ",
      "Assign cancelled.",
    ]);
    expect((await listed("hello")).filter((r) => r.main).map((r) => r.version)).toEqual(["1.0.0"]);
  });

  it("assign with no answer at all (stdin at its end, no terminal) fails, saying to pass --yes, and changes nothing", async () => {
    const result = await asUser(["assign", "hello", "2.0.0"], "");
    expect(result.code).toBe(1);
    expect(result.err).toEqual([
      "Nobody answered the question (standard input ended); pass --yes to go ahead without asking.",
    ]);
    expect(result.out).not.toContain("Assign cancelled.");
    expect((await listed("hello")).filter((r) => r.main).map((r) => r.version)).toEqual(["1.0.0"]);
  });

  it("assign, accepted on stdin: moves main and prints the name's table", async () => {
    const result = await asUser(["assign", "hello", "2.0.0"], "y\n");
    expect(result.code).toBe(0);
    const [first, second] = await listed("hello");
    expect(result.out).toEqual([
      `Active host: ${gateway.url}`,
      NO_EVIDENCE,
      "Change hello 2.0.0 to main? [y/N]: ",
      "Changed main version to hello 2.0.0",
      HEADER,
      DASHES,
      `        hello   1.0.0      running   Running (since ${since(first?.statusSince ?? "")})`,
      `*       hello   2.0.0      running   Running (since ${since(second?.statusSince ?? "")})`,
    ]);
  });

  it("kill a main that has shadows: Command failed with 403, exit 1, nothing killed", async () => {
    const result = await asUser(["kill", "hello", "2.0.0", "--yes"]);
    expect(result.code).toBe(1);
    // It showed the row it was about to kill...
    expect(result.out[3]).toMatch(/^\*\s+hello\s+2\.0\.0\s+running/);
    // ...and the gateway's refusal in Daeploy's words, naming the shadow.
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(/^Command failed: 403 - Forbidden: .*hello 1\.0\.0/);
    expectNoStackTrace(result);
    expect(await listed("hello")).toHaveLength(2);
  });

  it("kill a shadow, declined: exits 0 and kills nothing", async () => {
    const result = await asUser(["kill", "hello", "1.0.0"], "no\n");
    expect(result.code).toBe(0);
    expect(result.out.at(-2)).toBe("Are you sure you want to kill the above service(s)? [y/N]: ");
    expect(result.out.at(-1)).toBe("Service(s) not killed");
    expect(await listed("hello")).toHaveLength(2);
  });

  it("kill a shadow, accepted: shows the row, asks once, kills it", async () => {
    const result = await asUser(["kill", "hello", "1.0.0"], "y\n");
    expect(result.code).toBe(0);
    expect(result.out.slice(1, 3)).toEqual([HEADER, DASHES]);
    expect(result.out[3]).toMatch(/^\s+hello\s+1\.0\.0\s+running\s+Running \(since /);
    expect(result.out.slice(4)).toEqual([
      "Are you sure you want to kill the above service(s)? [y/N]: ",
      "Service hello 1.0.0 killed.",
    ]);
    expect((await listed("hello")).map((r) => r.version)).toEqual(["2.0.0"]);
  });

  it("kill a main that is the only version", async () => {
    const result = await asUser(["kill", "hello", "2.0.0", "--yes"]);
    expect(result.code).toBe(0);
    expect(result.out.at(-1)).toBe("Service hello 2.0.0 killed.");
    expect(await listed("hello")).toEqual([]);
  });

  it("kill NAME: every version at once, shadows printed before main", async () => {
    for (const [version, origin] of [
      ["1.0.0", origins.v1],
      ["2.0.0", origins.v2],
      ["3.0.0", origins.v2],
    ] as const) {
      expect((await asUser(["deploy", "world", version, origin])).code).toBe(0);
    }
    const result = await asUser(["kill", "world", "--yes"]);
    expect(result.code).toBe(0);
    // Shown first: all three rows, main (1.0.0, the first deployed) on top.
    expect(result.out.slice(3, 6).map((line) => line.slice(0, 27).trimEnd())).toEqual([
      "*       world   1.0.0",
      "        world   2.0.0",
      "        world   3.0.0",
    ]);
    expect(result.out.slice(6)).toEqual([
      "Service world 2.0.0 killed.",
      "Service world 3.0.0 killed.",
      "Service world 1.0.0 killed.",
    ]);
    expect(await listed("world")).toEqual([]);
  });

  it("kill --all: every name, each name's shadows before its main; then the table is empty", async () => {
    await asUser(["deploy", "alpha", "1.0.0", origins.v1]);
    await asUser(["deploy", "alpha", "1.1.0", origins.v2]);
    await asUser(["deploy", "beta", "1.0.0", origins.v1]);
    const result = await asUser(["kill", "--all"], "yes\n");
    expect(result.code).toBe(0);
    expect(result.out.slice(-3)).toEqual([
      "Service alpha 1.1.0 killed.",
      "Service alpha 1.0.0 killed.",
      "Service beta 1.0.0 killed.",
    ]);
    const after = await asUser(["ls"]);
    expect(after.out).toEqual([
      `Active host: ${gateway.url}`,
      HEADER,
      "------  ------  ---------  --------  ---------",
    ]);
  });

  it("kill --all with nothing deployed says so and exits 0", async () => {
    const result = await asUser(["kill", "--all", "--yes"]);
    expect(result.code).toBe(0);
    expect(result.out).toEqual([`Active host: ${gateway.url}`, "There are no services to kill."]);
  });

  it("kill with neither a name nor --all explains what to give, exit 1, without talking to a host", async () => {
    const result = await user.run(["kill"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.err).toEqual([
      "Say what to kill: `daeploy-edge kill NAME VERSION` (one version), `daeploy-edge kill NAME` " +
        "(every version of NAME) or `daeploy-edge kill --all` (every service)",
    ]);
  });

  it("kill of a name that does not exist: one line, exit 1", async () => {
    const result = await asUser(["kill", "nobody", "--yes"]);
    expect(result.code).toBe(1);
    expect(result.err).toEqual(["No services match the given name and version."]);
  });
});

describe("--json", () => {
  it("deploy, ls, assign and kill print JSON alone on stdout; the human lines go to stderr", async () => {
    const deployed = await asUser(["deploy", "jsonsvc", "1.0.0", origins.v1, "--json"]);
    expect(deployed.code).toBe(0);
    expect(JSON.parse(deployed.stdout)).toMatchObject({
      name: "jsonsvc",
      version: "1.0.0",
      origin: origins.v1,
      main: true,
      status: "running",
    });
    expect(deployed.err).toEqual([
      `Active host: ${gateway.url}`,
      "Deploying service...",
      "Service deployed successfully",
    ]);
    await asUser(["deploy", "jsonsvc", "2.0.0", origins.v2]);

    const ls = JSON.parse((await asUser(["ls", "jsonsvc", "--json"])).stdout) as { services: Listed[] };
    expect(ls.services.map((r) => [r.version, r.main])).toEqual([
      ["1.0.0", true],
      ["2.0.0", false],
    ]);
    for (const r of ls.services) expect(Number.isNaN(Date.parse(r.statusSince))).toBe(false);

    const assigned = await asUser(["assign", "jsonsvc", "2.0.0", "--yes", "--json"]);
    const assignedBody = JSON.parse(assigned.stdout) as { services: Listed[] };
    expect(assignedBody.services.map((r) => [r.version, r.main])).toEqual([
      ["1.0.0", false],
      ["2.0.0", true],
    ]);
    expect(assigned.err.at(-1)).toBe("Changed main version to jsonsvc 2.0.0");

    const killed = await asUser(["kill", "jsonsvc", "--yes", "--json"]);
    expect(killed.code).toBe(0);
    const killedBody = JSON.parse(killed.stdout) as { killed: Listed[] };
    expect(killedBody.killed.map((r) => r.version)).toEqual(["1.0.0", "2.0.0"]);
    expect(killed.err.slice(-2)).toEqual(["Service jsonsvc 1.0.0 killed.", "Service jsonsvc 2.0.0 killed."]);
  });
});
