#!/usr/bin/env node
import { defineCommand, runMain } from "citty";

runMain(defineCommand({ meta: { name: "daeploy-edge" } }));
