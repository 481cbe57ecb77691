import { defineCommand } from "citty";
import { forgetLogin, loginFilePath } from "../config.ts";
import { createOutput } from "../output.ts";

export default defineCommand({
  meta: { name: "logout", description: "Forget the host and token saved by `login`" },
  async run() {
    const output = createOutput();
    const { forgotten, host } = await forgetLogin(loginFilePath());
    if (!forgotten) output.say.log("Not logged in; there was no saved host to forget.");
    else output.say.log(host ? `Logged out from ${host}` : "Logged out");
  },
});
