#!/usr/bin/env node
import { defineCommand, runMain } from "citty";
import manifest from "../../package.json" with { type: "json" };
import { commands } from "./commands/index.ts";

// `daeploy-edge ls | head -1` closes stdout early: the reader has what it wanted, so no stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

runMain(
  defineCommand({
    meta: {
      name: "daeploy-edge",
      version: manifest.version,
      description: "Deploy, list, assign and kill versions of services behind a daeploy-edge shadow gateway",
    },
    subCommands: commands,
  }),
);
