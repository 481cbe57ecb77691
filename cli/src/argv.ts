import type { ArgsDef, CommandDef } from "citty";
import { nearest as nearestWord } from "../../worker/src/registry/edit-distance.ts";
import { UsageError } from "./errors.ts";

/** The command nearest to a typo, if one is close (commands are lower-case). */
export const nearest = (typo: string, known: readonly string[]): string | undefined =>
  nearestWord(typo.toLowerCase(), known);

const isFlag = (arg: string) => arg.startsWith("-") && arg !== "-" && !/^-\d/.test(arg);

/**
 * What is wrong with the words before the command name, if anything: the CLI itself takes only
 * --help and --version, and the command must be one it knows.
 */
export function topLevelProblem(rawArgs: readonly string[], commands: readonly string[]): string | undefined {
  if (rawArgs.some((arg) => arg === "--help" || arg === "-h")) return undefined;
  if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) return undefined;
  const first = rawArgs[0];
  if (first === undefined) return undefined;
  if (isFlag(first)) return `Unknown option ${first.split("=")[0]}. Run \`daeploy-edge --help\` to see the commands.`;
  if (commands.includes(first)) return undefined;
  const suggestion = nearest(first, commands);
  return `Unknown command ${first}.${suggestion ? ` Did you mean ${suggestion}?` : " Run `daeploy-edge --help` to see the commands."}`;
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** Every command here declares its arguments as a plain object. */
export const plainArgs = <T extends ArgsDef>(args: CommandDef<T>["args"]): ArgsDef =>
  args === undefined || typeof args === "function" || args instanceof Promise ? {} : args;

interface ArgumentCheck {
  /** The first argument the command does not take: an unknown option, or one positional too many. */
  unexpected?: string;
  /** The first required positional argument that is missing, upper-cased as the help shows it. */
  missing?: string;
}

/** Reads the words after a command name the way citty will, to catch what citty would ignore. */
export function checkArguments(rawArgs: readonly string[], args: ArgsDef): ArgumentCheck {
  const options = new Map<string, "boolean" | "value">([
    ["help", "boolean"],
    ["h", "boolean"],
  ]);
  const positionals: { label: string; required: boolean }[] = [];
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") {
      const required = def.required !== false && def.default === undefined;
      positionals.push({ label: required ? name.toUpperCase() : `[${name.toUpperCase()}]`, required });
      continue;
    }
    const kind = def.type === "boolean" ? "boolean" : "value";
    const alias = "alias" in def ? def.alias : undefined;
    const aliases = alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
    for (const spelling of [name, kebab(name), ...aliases]) {
      options.set(spelling, kind);
      if (kind === "boolean") options.set(`no-${spelling}`, kind);
    }
  }

  let given = 0;
  let onlyPositionals = false;
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i] ?? "";
    if (arg === "--" && !onlyPositionals) {
      onlyPositionals = true;
      continue;
    }
    if (!onlyPositionals && isFlag(arg)) {
      const [spelled = "", value] = arg.replace(/^--?/, "").split("=", 2);
      const names = arg.startsWith("--") || spelled.length === 1 ? [spelled] : [...spelled];
      for (const [at, name] of names.entries()) {
        const kind = options.get(name);
        if (!kind) return { unexpected: `Unknown option ${arg.startsWith("--") ? "--" : "-"}${name}` };
        // A value option takes the next word, unless it was given as --name=value.
        if (kind === "value" && at === names.length - 1 && value === undefined) i++;
      }
      continue;
    }
    given++;
    if (given > positionals.length) {
      const labels = positionals.map((positional) => positional.label);
      const takes = labels.length === 0 ? "takes no arguments" : `takes ${labels.join(" ")}`;
      return { unexpected: `Unexpected argument ${JSON.stringify(arg)}: the command ${takes}` };
    }
  }
  const missing = positionals.slice(given).find((positional) => positional.required);
  return missing ? { missing: missing.label } : {};
}

/** The first argument a command does not take, which citty would silently ignore. */
export const unexpectedArgument = (rawArgs: readonly string[], args: ArgsDef): string | undefined =>
  checkArguments(rawArgs, args).unexpected;

/** Splits `a,b` on commas, except inside double quotes (a path may quote an odd JSON key). */
export function splitList(text: string): string[] {
  const items: string[] = [];
  let current = "";
  let quoted = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    if (char === "," && !quoted) {
      items.push(current);
      current = "";
    } else current += char;
  }
  items.push(current);
  return items.map((item) => item.trim()).filter((item) => item !== "");
}

/**
 * Every value of an option that may be given more than once (`--ignore a --ignore b`, or
 * `--ignore a,b`). citty keeps only the last one, so these are read from the raw words.
 * With `split: false` a value is kept whole (a pattern may hold commas).
 */
export function repeatedOption(rawArgs: readonly string[], name: string, { split = true } = {}): string[] {
  const read = (text: string) => (split ? splitList(text) : [text]);
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i] ?? "";
    if (arg === "--") break;
    if (arg === `--${name}`) {
      const next = rawArgs[i + 1];
      if (next === undefined || isFlag(next)) throw new UsageError(`--${name} needs a value after it`);
      values.push(...read(next));
      i++;
    } else if (arg.startsWith(`--${name}=`)) {
      values.push(...read(arg.slice(name.length + 3)));
    }
  }
  return values;
}
