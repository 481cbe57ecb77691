import { defineCommand } from "citty";
import { repeatedOption } from "../argv.ts";
import { ruleFlags } from "../field-rules.ts";
import { createOutput } from "../output.ts";
import {
  captureChange,
  changesPolicy,
  checkIgnorePaths,
  checkRedactPaths,
  formatPolicy,
  type PolicyFlags,
  planPolicyChange,
  rulesChange,
  thresholdChange,
} from "../policy.ts";
import { openSession } from "../session.ts";
import { connectionArgs, jsonArg } from "./args.ts";

export default defineCommand({
  meta: {
    name: "policy",
    description:
      "Show or change a name's evidence policy: field rules, ignored paths, redacted fields, noise sampling, the gate's thresholds and notifications",
  },
  args: {
    name: { type: "positional", required: true, description: "Service name" },
    ignore: {
      type: "string",
      valueHint: "path",
      description: "Never count differences at this path (e.g. body.time); repeat it or give a comma list",
    },
    unignore: {
      type: "string",
      valueHint: "path",
      description: "Count this path again; repeat it or give a comma list",
    },
    redact: {
      type: "string",
      valueHint: "path",
      description:
        "Store this field of samples redacted (query.<parameter> or body.<path>, e.g. body.email); repeat it or give a comma list",
    },
    unredact: {
      type: "string",
      valueHint: "path",
      description: "Store this field as it is again; repeat it or give a comma list",
    },
    tolerance: {
      type: "string",
      valueHint: "path=rel",
      description: "Compare this field as a number within a relative tolerance (body.price=1e-6); repeatable",
    },
    "tolerance-abs": {
      type: "string",
      valueHint: "path=abs",
      description: "Compare this field as a number within an absolute tolerance (body.total=0.01); repeatable",
    },
    unordered: {
      type: "string",
      valueHint: "path[:key]",
      description: "The order of this array does not matter; elements matched by key if given (body.items:id)",
    },
    present: {
      type: "string",
      valueHint: "path",
      description: "Only presence and type of this field matter, not its value (body.createdAt)",
    },
    format: {
      type: "string",
      valueHint: "path=fmt",
      description: "Values of this field are the same when both match uuid, date-time, email, uri or a regex",
    },
    "no-rule": { type: "string", valueHint: "path", description: "Compare this field exactly again" },
    "noise-percent": {
      type: "string",
      valueHint: "0-100",
      description: "Share of mirrored GET/HEAD requests also sent to main to learn noise",
    },
    "min-requests": {
      type: "string",
      valueHint: "n",
      description: "Copies with an outcome needed before any verdict, and compared requests for a pass",
    },
    "max-diff-rate": {
      type: "string",
      valueHint: "rate",
      description: "Largest share of requests with a counting difference (0.01 or 1%)",
    },
    "max-error-increase": {
      type: "string",
      valueHint: "rate",
      description: "Largest excess of the shadow's error rate over main's (0.01 or 1%)",
    },
    "max-p99-ratio": { type: "string", valueHint: "x", description: "Largest ratio of the shadow's p99 to main's" },
    "pass-p99-ratio": {
      type: "string",
      valueHint: "x",
      description: "Pass only when the shadow's p99 and median are clearly under this many times main's",
    },
    "min-p99-delta": { type: "string", valueHint: "ms", description: "A slower p99 only fails past this many ms" },
    alpha: {
      type: "string",
      valueHint: "share",
      description: "Chance of a wrong verdict over any number of looks (0.01 or 1%)",
    },
    notify: {
      type: "string",
      valueHint: "url|off",
      description: "POST a JSON event per change here (https:, or http: to loopback); off stops them",
    },
    "notify-events": {
      type: "string",
      valueHint: "list",
      description: "Which changes to send: verdict,assign,kill,rollout (default all)",
    },
    capture: {
      type: "string",
      valueHint: "percent|off",
      description: "Keep this share of the name's GET and HEAD requests, with main's answers, for `replay`; off stops",
    },
    ...jsonArg,
    ...connectionArgs,
  },
  async run({ args, rawArgs }) {
    // citty keeps only the last of a repeated option, so the lists come from the raw words.
    const flags: PolicyFlags = {
      ignore: repeatedOption(rawArgs, "ignore"),
      unignore: repeatedOption(rawArgs, "unignore"),
      redact: repeatedOption(rawArgs, "redact"),
      unredact: repeatedOption(rawArgs, "unredact"),
      noisePercent: args["noise-percent"],
      minRequests: args["min-requests"],
      maxDiffRate: args["max-diff-rate"],
      maxErrorIncrease: args["max-error-increase"],
      maxP99Ratio: args["max-p99-ratio"],
      passP99Ratio: args["pass-p99-ratio"],
      minP99Delta: args["min-p99-delta"],
      alpha: args.alpha,
      notify: args.notify,
      notifyEvents: args["notify-events"],
      capture: args.capture,
      ...ruleFlags(rawArgs),
    };
    // A value that is no number, or no field a sample has, stops here, before the host is asked anything.
    thresholdChange(flags);
    captureChange(flags.capture);
    checkIgnorePaths(flags);
    checkRedactPaths(flags);
    rulesChange(flags);
    const output = createOutput({ json: args.json });
    const api = await openSession(args, output);
    const { name } = args;
    let policy = await api.policy(name);
    if (changesPolicy(flags)) {
      const { change, notIgnored, notRedacted } = planPolicyChange(policy, flags);
      for (const path of notIgnored) output.say.warn(`${path} was not in the ignore list of ${name}`);
      for (const path of notRedacted) output.say.warn(`${path} was not in the redact list of ${name}`);
      policy = await api.changePolicy(name, change);
      output.say.log(`Changed the policy of ${name}:`);
    } else {
      output.say.log(`Policy of ${name}:`);
    }
    if (args.json) output.json(policy);
    else output.say.log(formatPolicy(policy).join("\n"));
  },
});
