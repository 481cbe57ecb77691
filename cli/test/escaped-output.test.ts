import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { newUser, runOnTerminal } from "./support/run-cli.ts";

// An origin's body that clears the screen, retitles the window and rings the bell, printed by `diffs`.

const { gateway, origins } = inject("cliWorld");
const NAME = "rawtext";
const HOSTILE = "\u001B[2J\u001B]0;pwned\u0007\u009B31m";
const ESCAPED = "\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m";
/** A name whose shadow differs at a field named with the controls that survive JSON's escaping: C1 and DEL. */
const FIELDS = "rawfield";
const HOSTILE_KEY = "\u009b2J\u007f";

let user: Awaited<ReturnType<typeof newUser>>;
const connection = () => ({ DAEPLOY_HOST: gateway.url, DAEPLOY_TOKEN: gateway.token });
const asUser = (args: string[]) => user.run(args, { env: connection() });

beforeAll(async () => {
  user = await newUser();
  expect((await asUser(["deploy", NAME, "1.0.0", origins.v1])).code).toBe(0);
  expect((await asUser(["deploy", NAME, "2.0.0", origins.v2])).code).toBe(0);
  const response = await fetch(`${gateway.url}/services/${NAME}/raw-text?text=${encodeURIComponent(HOSTILE)}`);
  expect(await response.text()).toBe(`1.0.0: ${HOSTILE}`);
  // Samples reach the ledger in batches: wait for the one this request left.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const listed = await asUser(["diffs", NAME, "2.0.0", "--json"]);
    if ((JSON.parse(listed.stdout) as { samples: unknown[] }).samples.length > 0) break;
    if (Date.now() > deadline) throw new Error("no sample of the raw text after 15 s");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
});

afterAll(async () => {
  await asUser(["kill", NAME, "--yes"]);
  await asUser(["kill", FIELDS, "--yes"]);
});

describe("diffs of an origin's control characters", () => {
  it("prints them escaped off a terminal", async () => {
    const result = await asUser(["diffs", NAME, "2.0.0"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`-1.0.0: ${ESCAPED}`);
    expect(result.stdout).toContain(`+2.0.0: ${ESCAPED}`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters.
    expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/);
  });

  it("prints them escaped on a terminal, where only the CLI's own colours are escapes", async () => {
    const printed = await runOnTerminal(user.home, ["diffs", NAME, "2.0.0"], connection());
    expect(printed).toContain(`\u001B[31m-1.0.0: ${ESCAPED}\u001B[39m`);
    expect(printed).not.toContain("\u001B[2J");
    expect(printed).not.toContain("\u001B]0;");
    expect(printed).not.toContain("\u0007");
    expect(printed).not.toContain("\u009B");
  });
});

describe("verdict reasons that name an origin's field", () => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters.
  const CONTROLS = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/;

  beforeAll(async () => {
    expect((await asUser(["deploy", FIELDS, "1.0.0", origins.v1])).code).toBe(0);
    expect((await asUser(["deploy", FIELDS, "2.0.0", origins.v2])).code).toBe(0);
    expect((await asUser(["policy", FIELDS, "--min-requests", "10", "--noise-percent", "0"])).code).toBe(0);
    for (let i = 0; i < 12; i++) {
      const response = await fetch(`${gateway.url}/services/${FIELDS}/raw-json?key=${encodeURIComponent(HOSTILE_KEY)}`);
      expect(await response.json()).toEqual({ [HOSTILE_KEY]: "1.0.0" });
    }
    // Evidence reaches the ledger in batches: wait until the verdict is in.
    const deadline = Date.now() + 15_000;
    while ((await asUser(["gate", FIELDS, "2.0.0"])).code !== 1) {
      if (Date.now() > deadline) throw new Error("no fail verdict after 15 s");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });

  it("are printed escaped by gate", async () => {
    const result = await asUser(["gate", FIELDS, "2.0.0"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("\\x9b2J\\x7f");
    expect(result.stdout).not.toMatch(CONTROLS);
  });

  it("are printed escaped by assign, which refuses", async () => {
    const result = await asUser(["assign", FIELDS, "2.0.0", "--yes"]);
    expect(result.code).not.toBe(0);
    const printed = `${result.stdout}${result.stderr}`;
    expect(printed).toContain("\\x9b2J\\x7f");
    expect(printed).not.toMatch(CONTROLS);
  });
});
