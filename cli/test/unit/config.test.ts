import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  forgetLogin,
  loginFilePath,
  normalizeHost,
  readSavedLogin,
  resolveConnection,
  saveLogin,
} from "../../src/config.ts";
import { ConnectionSetupError } from "../../src/errors.ts";

const saved = { host: "http://saved.example:8787", token: "saved-token" };

describe("host and token precedence", () => {
  it("takes the flags over the environment and the saved login", () => {
    expect(
      resolveConnection({
        flags: { host: "http://flag.example", token: "flag-token" },
        env: { DAEPLOY_HOST: "http://env.example", DAEPLOY_TOKEN: "env-token" },
        saved,
      }),
    ).toEqual({ host: "http://flag.example", token: "flag-token" });
  });

  it("takes the environment over the saved login", () => {
    expect(
      resolveConnection({
        flags: {},
        env: { DAEPLOY_HOST: "http://env.example", DAEPLOY_TOKEN: "env-token" },
        saved,
      }),
    ).toEqual({ host: "http://env.example", token: "env-token" });
  });

  it("resolves host and token separately", () => {
    expect(resolveConnection({ flags: { token: "flag-token" }, env: {}, saved })).toEqual({
      host: "http://saved.example:8787",
      token: "flag-token",
    });
    expect(resolveConnection({ flags: {}, env: { DAEPLOY_TOKEN: "env-token" }, saved })).toEqual({
      host: "http://saved.example:8787",
      token: "env-token",
    });
  });

  it("falls back to the saved login, and treats empty values as unset", () => {
    expect(
      resolveConnection({ flags: { host: "", token: " " }, env: { DAEPLOY_HOST: "", DAEPLOY_TOKEN: "" }, saved }),
    ).toEqual({ host: "http://saved.example:8787", token: "saved-token" });
  });

  it("never sends the saved token to a host it was not saved for", () => {
    expect(() => resolveConnection({ flags: { host: "http://other.example" }, env: {}, saved })).toThrow(
      "No admin token for http://other.example: pass --token, set DAEPLOY_TOKEN, or run `daeploy-edge login --host http://other.example`",
    );
    // The same host written differently is still the saved host.
    expect(resolveConnection({ flags: { host: "http://saved.example:8787/" }, env: {}, saved }).token).toBe(
      "saved-token",
    );
  });

  it("says how to log in when there is no host at all", () => {
    expect(() => resolveConnection({ flags: {}, env: {} })).toThrow(ConnectionSetupError);
    expect(() => resolveConnection({ flags: {}, env: {} })).toThrow(
      /^Not logged in to any gateway: run `daeploy-edge login/,
    );
  });
});

describe("host URLs", () => {
  it("keeps a base path and drops trailing slashes", () => {
    expect(normalizeHost(" https://gw.example.com/edge/ ")).toBe("https://gw.example.com/edge");
    expect(normalizeHost("http://127.0.0.1:8787")).toBe("http://127.0.0.1:8787");
  });

  it("refuses what is not an http(s) URL, saying what it got", () => {
    expect(() => normalizeHost("127.0.0.1:8787")).toThrow(
      'The host must be an http:// or https:// URL such as http://127.0.0.1:8787, got "127.0.0.1:8787"',
    );
    expect(() => normalizeHost("ftp://gw.example.com")).toThrow(/must be an http:\/\/ or https:\/\/ URL/);
    expect(() => normalizeHost("not a url")).toThrow(/got "not a url"$/);
    expect(() => normalizeHost("https://user:pw@gw.example.com")).toThrow(/without credentials/);
  });
});

describe("the saved login file", () => {
  let scratchDir: string;
  beforeAll(async () => {
    scratchDir = await mkdtemp(join(tmpdir(), "daeploy-edge-config-"));
  });
  afterAll(() => rm(scratchDir, { recursive: true, force: true }));

  it("lives under XDG_CONFIG_HOME, else under ~/.config", () => {
    expect(loginFilePath({ XDG_CONFIG_HOME: "/x/config", HOME: "/home/a" })).toBe("/x/config/daeploy-edge/login.json");
    expect(loginFilePath({ HOME: "/home/a" })).toBe("/home/a/.config/daeploy-edge/login.json");
  });

  it("is written with mode 0600 (even over a looser file) and read back", async () => {
    const path = join(await mkdtemp(join(scratchDir, "config-")), "nested", "login.json");
    await saveLogin(saved, path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(path, ".."))).mode & 0o777).toBe(0o700);
    await writeFile(path, "{}", { mode: 0o644 });
    await saveLogin(saved, path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readSavedLogin(path)).toEqual(saved);
  });

  it("reads as no login when missing, and as a one-line error when damaged", async () => {
    const dir = await mkdtemp(join(scratchDir, "config-"));
    expect(await readSavedLogin(join(dir, "login.json"))).toBeUndefined();
    await writeFile(join(dir, "login.json"), "{ not json");
    await expect(readSavedLogin(join(dir, "login.json"))).rejects.toThrow(/is damaged; run `daeploy-edge login` again/);
  });

  it("is deleted by forgetLogin, which says whether there was one", async () => {
    const path = join(await mkdtemp(join(scratchDir, "config-")), "login.json");
    await saveLogin(saved, path);
    expect(await forgetLogin(path)).toEqual({ forgotten: true, host: saved.host });
    await expect(readFile(path)).rejects.toThrow(/ENOENT/);
    expect(await forgetLogin(path)).toEqual({ forgotten: false });
  });
});
