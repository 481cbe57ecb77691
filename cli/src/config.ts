import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { ConnectionSetupError } from "./errors.ts";

/** What `daeploy-edge login` saves, and every later command falls back to. */
interface SavedLogin {
  host: string;
  token: string;
}

/** The host and token one command talks to. */
export interface Connection {
  host: string;
  token: string;
}

interface ConnectionSources {
  flags: { host?: string | undefined; token?: string | undefined };
  env: { DAEPLOY_HOST?: string | undefined; DAEPLOY_TOKEN?: string | undefined };
  saved?: SavedLogin | undefined;
}

const APP_DIRECTORY = "daeploy-edge";
const FILE_NAME = "login.json";

/** `$XDG_CONFIG_HOME/daeploy-edge/login.json`, else `~/.config/daeploy-edge/login.json`. */
export function loginFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(configHome, APP_DIRECTORY, FILE_NAME);
}

/** `http(s)://host[:port][/base]` with no trailing slash, or a one-line error saying what is wrong. */
export function normalizeHost(raw: string): string {
  const trimmed = raw.trim();
  const problem = `The host must be an http:// or https:// URL such as http://127.0.0.1:8787, got "${trimmed}"`;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new ConnectionSetupError(problem);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ConnectionSetupError(problem);
  if (url.username || url.password || url.search || url.hash) {
    throw new ConnectionSetupError(
      `The host must be a plain URL without credentials, query or fragment, got "${trimmed}"`,
    );
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

const given = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value.trim());

/**
 * Flags beat DAEPLOY_HOST/DAEPLOY_TOKEN, which beat the saved login. The saved token only goes
 * to the saved host: pointing a command at another host must not send it a token it was never given.
 */
export function resolveConnection({ flags, env, saved }: ConnectionSources): Connection {
  const rawHost = given(flags.host) ?? given(env.DAEPLOY_HOST) ?? saved?.host;
  if (rawHost === undefined) {
    throw new ConnectionSetupError(
      "Not logged in to any gateway: run `daeploy-edge login --host <url> --token <token>`, " +
        "or set DAEPLOY_HOST and DAEPLOY_TOKEN",
    );
  }
  const host = normalizeHost(rawHost);
  const savedToken = saved && normalizeHost(saved.host) === host ? saved.token : undefined;
  const token = given(flags.token) ?? given(env.DAEPLOY_TOKEN) ?? savedToken;
  if (token === undefined) {
    throw new ConnectionSetupError(
      `No admin token for ${host}: pass --token, set DAEPLOY_TOKEN, or run \`daeploy-edge login --host ${host}\``,
    );
  }
  return { host, token };
}

const isSavedLogin = (value: unknown): value is SavedLogin =>
  typeof value === "object" &&
  value !== null &&
  "host" in value &&
  "token" in value &&
  typeof value.host === "string" &&
  typeof value.token === "string";

export async function readSavedLogin(path: string = loginFilePath()): Promise<SavedLogin | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ConnectionSetupError(`Cannot read the saved login ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isSavedLogin(parsed)) {
    throw new ConnectionSetupError(
      `The saved login ${path} is damaged; run \`daeploy-edge login\` again, or delete the file`,
    );
  }
  return parsed;
}

/** The token is a secret: the directory is private to the user and the file is 0600, even if it existed before. */
export async function saveLogin(login: SavedLogin, path: string = loginFilePath()): Promise<void> {
  const directory = join(path, "..");
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
}

/** Deletes the saved login; says whether there was one, and for which host. */
export async function forgetLogin(path: string = loginFilePath()): Promise<{ forgotten: boolean; host?: string }> {
  const saved = await readSavedLogin(path).catch(() => undefined);
  try {
    await rm(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { forgotten: false };
    throw new ConnectionSetupError(`Cannot delete the saved login ${path}: ${(error as Error).message}`);
  }
  return saved ? { forgotten: true, host: saved.host } : { forgotten: true };
}
