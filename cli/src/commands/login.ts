import { defineCommand } from "citty";
import { connectAdminApi } from "../client.ts";
import { loginFilePath, normalizeHost, saveLogin } from "../config.ts";
import { UsageError } from "../errors.ts";
import { createOutput, type Output } from "../output.ts";
import { ask } from "../prompt.ts";
import { connectionArgs } from "./args.ts";

async function askFor(question: string, output: Output, secret = false): Promise<string> {
  const answer = (await ask(question, { output: output.promptStream, secret }))?.trim();
  if (!answer) throw new UsageError("Nothing entered; pass --host and --token, or type them when asked");
  return answer;
}

export default defineCommand({
  meta: { name: "login", description: "Check a gateway URL and admin token, then save them for later commands" },
  args: { ...connectionArgs },
  async run({ args }) {
    const output = createOutput();
    const host = normalizeHost(args.host || process.env.DAEPLOY_HOST || (await askFor("Gateway URL: ", output)));
    const token = args.token || process.env.DAEPLOY_TOKEN || (await askFor("Admin token: ", output, true));
    output.say.log(`Active host: ${host}`);
    // Any authorised read proves the pair; a refusal (401, 503) stops here and nothing is saved.
    await connectAdminApi({ host, token }).listServices();
    const path = loginFilePath();
    await saveLogin({ host, token }, path);
    output.say.log(`Logged in to ${host}; host and token saved in ${path}`);
  },
});
