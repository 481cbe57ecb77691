import type { ArgsDef, CommandDef } from "citty";
import { reportingFailures } from "../reporting.ts";
import assign from "./assign.ts";
import deploy from "./deploy.ts";
import kill from "./kill.ts";
import login from "./login.ts";
import logout from "./logout.ts";
import ls from "./ls.ts";

// Plain imports: the build bundles the whole CLI into one small file, so a lazy import() would be
// inlined anyway and save nothing. Every command reports its failures in one place.
const reporting = <T extends ArgsDef>(command: CommandDef<T>) => reportingFailures(command);

export const commands = {
  login: reporting(login),
  logout: reporting(logout),
  deploy: reporting(deploy),
  ls: reporting(ls),
  assign: reporting(assign),
  kill: reporting(kill),
};
