import type { ArgDef } from "citty";

export const connectionArgs = {
  host: {
    type: "string",
    valueHint: "url",
    description: "Gateway URL (default: $DAEPLOY_HOST, then the host saved by `login`)",
  },
  token: {
    type: "string",
    valueHint: "token",
    description: "Admin token (default: $DAEPLOY_TOKEN, then the token saved by `login`)",
  },
} as const satisfies Record<string, ArgDef>;

export const jsonArg = {
  json: { type: "boolean", description: "Print JSON on stdout instead of the table (messages go to stderr)" },
} as const satisfies Record<string, ArgDef>;

export const yesArg = {
  yes: { type: "boolean", alias: "y", description: "Do not ask for confirmation" },
} as const satisfies Record<string, ArgDef>;

/** NAME VERSION, both required (deploy, assign). */
export const serviceArgs = {
  name: { type: "positional", required: true, description: "Service name (lower-case letters, digits, underscores)" },
  version: { type: "positional", required: true, description: "Service version (SemVer, e.g. 1.0.0)" },
} as const satisfies Record<string, ArgDef>;

/** [NAME] [VERSION], narrowing what a command applies to (ls, kill). */
export const serviceFilterArgs = {
  name: { type: "positional", required: false, description: "Only the versions of this name" },
  version: { type: "positional", required: false, description: "Only this version of the name" },
} as const satisfies Record<string, ArgDef>;
