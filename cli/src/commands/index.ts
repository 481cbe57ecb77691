import type { ArgsDef, CommandDef } from "citty";
import { reportingFailures } from "../reporting.ts";

/** Loaded on use, so `daeploy-edge ls` never parses the other commands; failures are reported in one place. */
const lazy =
  <T extends ArgsDef>(load: () => Promise<{ default: CommandDef<T> }>) =>
  async () =>
    reportingFailures((await load()).default);

export const commands = {
  login: lazy(() => import("./login.ts")),
  logout: lazy(() => import("./logout.ts")),
  deploy: lazy(() => import("./deploy.ts")),
  ls: lazy(() => import("./ls.ts")),
  assign: lazy(() => import("./assign.ts")),
  kill: lazy(() => import("./kill.ts")),
};
