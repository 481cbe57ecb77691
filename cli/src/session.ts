import { type AdminApiClient, connectAdminApi } from "./client.ts";
import { loginFilePath, readSavedLogin, resolveConnection } from "./config.ts";
import type { Output } from "./output.ts";

interface ConnectionFlags {
  host?: string | undefined;
  token?: string | undefined;
}

/** Resolves host and token (flags, then environment, then saved login) and announces the host, as Daeploy does. */
export async function openSession(flags: ConnectionFlags, output: Output): Promise<AdminApiClient> {
  const saved = await readSavedLogin(loginFilePath());
  const connection = resolveConnection({ flags, env: process.env, saved });
  output.say.log(`Active host: ${connection.host}`);
  return connectAdminApi(connection);
}
