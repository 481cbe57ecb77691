import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { newUser } from "./support/run-cli.ts";

const { gateway, origins } = inject("cliWorld");
/** A gateway URL where nothing listens: using it anywhere fails the command. */
const deadHost = origins.dead;
const WRONG_TOKEN = "wrong-token";

const loginFile = (configHome: string) => join(configHome, "daeploy-edge", "login.json");

async function saveByHand(configHome: string, login: { host: string; token: string }) {
  await mkdir(join(configHome, "daeploy-edge"), { recursive: true });
  await writeFile(loginFile(configHome), JSON.stringify(login), { mode: 0o600 });
}

describe("login and logout", () => {
  it("login checks the pair against the gateway, saves it 0600 under XDG_CONFIG_HOME, and later commands use it", async () => {
    const user = await newUser();
    const login = await user.run(["login", "--host", `${gateway.url}/`, "--token", gateway.token]);
    expect(login.code).toBe(0);
    const path = loginFile(user.configHome);
    expect(login.out).toEqual([
      `Active host: ${gateway.url}`,
      `Logged in to ${gateway.url}; host and token saved in ${path}`,
    ]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ host: gateway.url, token: gateway.token });

    const ls = await user.run(["ls"]);
    expect(ls.code).toBe(0);
    expect(ls.out[0]).toBe(`Active host: ${gateway.url}`);
  });

  it("login falls back to ~/.config/daeploy-edge without XDG_CONFIG_HOME", async () => {
    const user = await newUser();
    const env = { XDG_CONFIG_HOME: undefined };
    const login = await user.run(["login", "--host", gateway.url, "--token", gateway.token], { env });
    expect(login.code).toBe(0);
    const path = join(user.home, ".config", "daeploy-edge", "login.json");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await user.run(["ls"], { env })).code).toBe(0);
  });

  it("login reads host and token from stdin when there is no terminal", async () => {
    const user = await newUser();
    const login = await user.run(["login"], { input: `${gateway.url}\n${gateway.token}\n` });
    expect(login.code).toBe(0);
    expect(login.out).toEqual([
      "Gateway URL: ",
      "Admin token: ",
      `Active host: ${gateway.url}`,
      `Logged in to ${gateway.url}; host and token saved in ${loginFile(user.configHome)}`,
    ]);
    expect((await user.run(["ls"])).code).toBe(0);
  });

  it("login with a wrong token is refused by the gateway and saves nothing", async () => {
    const user = await newUser();
    const login = await user.run(["login", "--host", gateway.url, "--token", WRONG_TOKEN]);
    expect(login.code).toBe(1);
    expect(login.err).toEqual([
      "Command failed: 401 - Unauthorized: The token is neither the admin token nor the read token",
    ]);
    await expect(stat(loginFile(user.configHome))).rejects.toThrow(/ENOENT/);
  });

  it("login to a host where nothing listens says so and saves nothing", async () => {
    const user = await newUser();
    const login = await user.run(["login", "--host", deadHost, "--token", gateway.token]);
    expect(login.code).toBe(1);
    expect(login.err).toHaveLength(1);
    expect(login.err[0]).toMatch(/^Cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+ \(connection refused\)/);
    await expect(stat(loginFile(user.configHome))).rejects.toThrow(/ENOENT/);
  });

  it("logout forgets the saved host; then commands say how to log in", async () => {
    const user = await newUser();
    await user.run(["login", "--host", gateway.url, "--token", gateway.token]);
    const logout = await user.run(["logout"]);
    expect(logout.code).toBe(0);
    expect(logout.out).toEqual([`Logged out from ${gateway.url}`]);
    await expect(stat(loginFile(user.configHome))).rejects.toThrow(/ENOENT/);

    const ls = await user.run(["ls"]);
    expect(ls.code).toBe(1);
    expect(ls.stdout).toBe("");
    expect(ls.err).toEqual([
      "Not logged in to any gateway: run `daeploy-edge login --host <url> --token <token>`, " +
        "or set DAEPLOY_HOST and DAEPLOY_TOKEN",
    ]);
    expect((await user.run(["logout"])).out).toEqual(["Not logged in; there was no saved host to forget."]);
  });
});

describe("host and token precedence: flags, then DAEPLOY_HOST/DAEPLOY_TOKEN, then the saved login", () => {
  it("flags beat the environment, which is wrong on both counts", async () => {
    const user = await newUser();
    const result = await user.run(["ls", "--host", gateway.url, "--token", gateway.token], {
      env: { DAEPLOY_HOST: deadHost, DAEPLOY_TOKEN: WRONG_TOKEN },
    });
    expect(result.code).toBe(0);
    expect(result.out[0]).toBe(`Active host: ${gateway.url}`);
  });

  it("a wrong --token is used even when the environment has the right one", async () => {
    const user = await newUser();
    const result = await user.run(["ls", "--token", WRONG_TOKEN], {
      env: { DAEPLOY_HOST: gateway.url, DAEPLOY_TOKEN: gateway.token },
    });
    expect(result.code).toBe(1);
    expect(result.err).toEqual([
      "Command failed: 401 - Unauthorized: The token is neither the admin token nor the read token",
    ]);
  });

  it("the environment beats a saved login that is wrong on both counts", async () => {
    const user = await newUser();
    await saveByHand(user.configHome, { host: deadHost, token: WRONG_TOKEN });
    const result = await user.run(["ls"], { env: { DAEPLOY_HOST: gateway.url, DAEPLOY_TOKEN: gateway.token } });
    expect(result.code).toBe(0);
    expect(result.out[0]).toBe(`Active host: ${gateway.url}`);
  });

  it("a wrong DAEPLOY_TOKEN is used even when the saved login has the right one", async () => {
    const user = await newUser();
    await saveByHand(user.configHome, { host: gateway.url, token: gateway.token });
    const result = await user.run(["ls"], { env: { DAEPLOY_TOKEN: WRONG_TOKEN } });
    expect(result.code).toBe(1);
    expect(result.err).toEqual([
      "Command failed: 401 - Unauthorized: The token is neither the admin token nor the read token",
    ]);
  });

  it("the saved login alone is enough, and --host to the saved host still uses the saved token", async () => {
    const user = await newUser();
    await saveByHand(user.configHome, { host: gateway.url, token: gateway.token });
    expect((await user.run(["ls"])).code).toBe(0);
    expect((await user.run(["ls", "--host", `${gateway.url}/`])).code).toBe(0);
  });

  it("the saved token is never sent to another host", async () => {
    const user = await newUser();
    await saveByHand(user.configHome, { host: gateway.url, token: gateway.token });
    const other = gateway.url.replace("127.0.0.1", "localhost");
    const result = await user.run(["ls", "--host", other]);
    expect(result.code).toBe(1);
    expect(result.err).toEqual([
      `No admin token for ${other}: pass --token, set DAEPLOY_TOKEN, or run \`daeploy-edge login --host ${other}\``,
    ]);
  });

  it("a damaged login file is one line that says what to do", async () => {
    const user = await newUser();
    await mkdir(join(user.configHome, "daeploy-edge"), { recursive: true });
    await writeFile(loginFile(user.configHome), "{ half written");
    const result = await user.run(["ls"]);
    expect(result.code).toBe(1);
    expect(result.err).toEqual([
      `The saved login ${loginFile(user.configHome)} is damaged; run \`daeploy-edge login\` again, or delete the file`,
    ]);
  });
});
