import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningHello, startHello } from "./support/hello.ts";
import { newUser } from "./support/run-cli.ts";

// The progressive-delivery commands as an operator types them, against the test gateway with
// examples/hello origins: canary flags on deploy and mirror, and `rollout` start, status, abort.

const { gateway } = inject("cliWorld");
const connection = { DAEPLOY_HOST: gateway.url, DAEPLOY_TOKEN: gateway.token };

let user: Awaited<ReturnType<typeof newUser>>;
const asUser = (args: string[]) => user.run(args, { env: connection });

const hellos: RunningHello[] = [];
const name = "rollout_cmd";

beforeAll(async () => {
  user = await newUser();
  for (const version of ["1.0.0", "2.0.0"]) hellos.push(await startHello(version));
  expect((await asUser(["deploy", name, "1.0.0", (hellos[0] as RunningHello).url])).code).toBe(0);
}, 30_000);

afterAll(async () => {
  await asUser(["kill", name, "--yes"]);
  await Promise.all(hellos.map((started) => started.stop()));
});

describe("canary flags", () => {
  it("deploy --canary and --canary-key set the share and the key, and say so", async () => {
    const origin = (hellos[1] as RunningHello).url;
    const result = await asUser(["deploy", name, "2.0.0", origin, "--canary", "10", "--canary-key", "X-User-Id"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.out).toContain(
      `Traffic controls of ${name} 2.0.0: 100% of requests, every method; answers 10% as a canary, picked by the x-user-id header`,
    );
  });

  it("mirror --canary over 50 is refused in one line naming the field, and changes nothing", async () => {
    const refused = await asUser(["mirror", name, "2.0.0", "--canary", "60"]);
    expect(refused.code).toBe(1);
    expect(refused.err).toEqual([
      "Command failed: 422 - Unprocessable Entity: canaryPercent must be a number from 0 to 50",
    ]);
    const shown = await asUser(["mirror", name, "2.0.0", "--canary", "0", "--canary-key", "request-id"]);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain(`Traffic controls of ${name} 2.0.0: 100% of requests, every method`);
  });
});

describe("canary writes", () => {
  it("mirror --canary-writes on opts in, off opts out, and ls --json shows it; a typo is one line", async () => {
    const on = await asUser(["mirror", name, "2.0.0", "--canary", "10", "--canary-writes", "on"]);
    expect(on.code, on.stderr).toBe(0);
    expect(on.out).toContain(
      `Traffic controls of ${name} 2.0.0: 100% of requests, every method; answers 10% as a canary, picked by the request id (main gets marked copies of its writes too)`,
    );
    const off = await asUser(["mirror", name, "2.0.0", "--canary", "0", "--canary-writes", "off"]);
    expect(off.code, off.stderr).toBe(0);
    const listed = await asUser(["ls", name, "2.0.0", "--json"]);
    expect(JSON.parse(listed.stdout).services).toMatchObject([
      { version: "2.0.0", canaryPercent: 0, canaryWrites: false },
    ]);
    const typo = await asUser(["mirror", name, "2.0.0", "--canary-writes", "maybe"]);
    expect(typo.code).toBe(1);
    expect(typo.err).toEqual(['--canary-writes takes on or off, e.g. --canary-writes off; got "maybe"']);
  });

  it("mirror refuses a share that would take the name's canaries past 50 %, naming the total", async () => {
    const hello3 = await startHello("3.0.0");
    hellos.push(hello3);
    expect((await asUser(["deploy", name, "3.0.0", hello3.url, "--canary", "40"])).code).toBe(0);
    const refused = await asUser(["mirror", name, "2.0.0", "--canary", "40"]);
    expect(refused.code).toBe(1);
    expect(refused.err[0]).toContain(`canaryPercent 40 would make the canary shares of ${name} add up to 80 %`);
    expect((await asUser(["kill", name, "3.0.0", "--yes"])).code).toBe(0);
  });
});

describe("rollout", () => {
  it("starts, refuses a second, shows its progress, and aborts", async () => {
    const started = await asUser(["rollout", name, "2.0.0", "--steps", "5,25,50", "--every", "10m"]);
    expect(started.code, started.stderr).toBe(0);
    expect(started.out.slice(1, 3)).toEqual([
      `Rollout of ${name} 2.0.0 started: canary 5 % → 25 % → 50 %, each step at least 10 min while its verdict passes, then promote it through the gate`,
      `${name} 2.0.0: [##------------------] step 1 of 3, canary 5 %, 10 min left in the step`,
    ]);

    const second = await asUser(["rollout", name, "2.0.0", "--steps", "10", "--no-promote"]);
    expect(second.code).toBe(1);
    expect(second.err[0]).toMatch(
      /^Command failed: 409 - Conflict: rollout_cmd already has a rollout of 2\.0\.0 running/,
    );

    const status = await asUser(["rollout", "status", name]);
    expect(status.code).toBe(0);
    expect(status.out[1]).toMatch(/step 1 of 3, canary 5 %, (10|9) min left in the step$/);
    // The running step's line says how it is going before the cron acts: inconclusive, and why (a step is
    // judged on its own whole minutes, so at first it waits for the next to begin).
    expect(status.out[2]).toMatch(
      /^ {2}step 1: 5 % running, inconclusive so far: the step's evidence starts with its first whole minute, at \d\d:\d\d UTC$/,
    );
    expect(status.out.slice(3, 5)).toEqual(["  step 2: 25 % -", "  step 3: 50 % -"]);
    expect(status.out[5]).toMatch(/^Next: raise the canary to 25 % in (10|9) min at the earliest/);

    const aborted = await asUser(["rollout", "abort", name]);
    expect(aborted.code).toBe(0);
    expect(aborted.out.slice(1, 3)).toEqual([
      `Rollout of ${name} 2.0.0 aborted; its canary share is back to 0 %`,
      `${name} 2.0.0: rollout aborted after 0 of 3 steps`,
    ]);
    expect(aborted.out).toContain("Reason: aborted by hand");
  });

  it("says in one line what is wrong with --steps or --every, before asking the host", async () => {
    const steps = await asUser(["rollout", name, "2.0.0", "--steps", "5,x"]);
    expect(steps.code).toBe(1);
    expect(steps.err).toEqual(['--steps takes canary shares separated by commas, e.g. --steps 5,25,50; got "5,x"']);
    const every = await asUser(["rollout", name, "2.0.0", "--steps", "5", "--every", "soon"]);
    expect(every.code).toBe(1);
    expect(every.err).toEqual(['--every takes how long each step lasts, such as 10m or 1h; got "soon"']);
    const onMain = await asUser(["rollout", name, "1.0.0", "--steps", "5"]);
    expect(onMain.code).toBe(1);
    expect(onMain.err[0]).toMatch(/^Command failed: 422 - Unprocessable Entity: rollout_cmd 1\.0\.0 is main/);
  });

  it("a misspelt action is named with the command meant, not taken for a service needing --steps", async () => {
    const typo = await asUser(["rollout", "stauts", name]);
    expect(typo.code).toBe(1);
    expect(typo.err).toEqual([`Unknown rollout action stauts. Did you mean \`daeploy-edge rollout status ${name}\`?`]);
    const notAVersion = await asUser(["rollout", name, "latest", "--steps", "5"]);
    expect(notAVersion.code).toBe(1);
    expect(notAVersion.err[0]).toMatch(/^"latest" is not a version \(such as 2\.0\.0\)/);
  });

  it("refuses a version that fails the gate, with its reasons, and --force starts it anyway with a warning", {
    timeout: 30_000,
  }, async () => {
    // hello answers its own version, and nothing tells the gate to ignore it: 2.0.0 differs on every answer.
    for (let i = 0; i < 12; i++) {
      await Promise.all(
        Array.from({ length: 10 }, async () => (await fetch(`${gateway.url}/services/${name}/`)).arrayBuffer()),
      );
    }
    let gate = await asUser(["gate", name, "2.0.0"]);
    for (let tries = 0; gate.code !== 1 && tries < 20; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      gate = await asUser(["gate", name, "2.0.0"]);
    }
    expect(gate.code, gate.stdout).toBe(1);

    const refused = await asUser(["rollout", name, "2.0.0", "--steps", "5,25"]);
    expect(refused.code).toBe(1);
    expect(refused.out.join("\n")).toMatch(/^ {2}\d[\d,]* of [\d,]+ compared requests differ/m);
    expect(refused.err).toEqual([
      `Command failed: 409 - Conflict: ${name} 2.0.0 (last 1h) fails the gate, so no user is sent to it (the reasons are in error.reasons). Fix the shadow, ignore noisy paths in the name's policy, or force the rollout (force: true)`,
    ]);
    const status = await asUser(["rollout", "status", name]);
    expect(status.out[1]).toMatch(/rollout aborted/);

    const forced = await asUser(["rollout", name, "2.0.0", "--steps", "5,25", "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain(`${name} 2.0.0 (last 1h) fails the gate; the rollout started anyway (forced)`);
    expect(forced.out[1]).toMatch(/^Rollout of rollout_cmd 2\.0\.0 started: canary 5 % → 25 %/);
    const history = await asUser(["history", name, "--json"]);
    const { audit } = JSON.parse(history.stdout) as { audit: { action: string; detail: Record<string, unknown> }[] };
    // Newest first: the forced start, whatever the gateway's cron did since.
    const started = audit.find((row) => row.action === "rollout" && row.detail.change === "started");
    expect(started?.detail).toMatchObject({ force: true, gate: "fail" });
    await asUser(["rollout", "abort", name]);
  });
});
