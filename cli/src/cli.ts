#!/usr/bin/env node
import { defineCommand, runMain } from "citty";
import { version } from "../../package.json" with { type: "json" };
import { commands } from "./commands/index.ts";

runMain(
  defineCommand({
    meta: {
      name: "daeploy-edge",
      version,
      description: "Deploy, list, assign and kill versions of services behind a daeploy-edge shadow gateway",
    },
    subCommands: commands,
  }),
);
