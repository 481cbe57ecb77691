import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { newUser, runOnTerminal } from "./support/run-cli.ts";

// An origin's body that clears the screen, retitles the window and rings the bell, printed by `diffs`.

const { gateway, origins } = inject("cliWorld");
const NAME = "rawtext";
const HOSTILE = "\u001B[2J\u001B]0;pwned\u0007\u009B31m";
const ESCAPED = "\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m";

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
