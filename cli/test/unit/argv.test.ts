import { describe, expect, it } from "vitest";
import { editDistance } from "../../../worker/src/registry/edit-distance.ts";
import {
  checkArguments,
  nearest,
  repeatedOption,
  splitList,
  topLevelProblem,
  unexpectedArgument,
} from "../../src/argv.ts";
import { connectionArgs, jsonArg, serviceArgs, serviceFilterArgs, yesArg } from "../../src/commands/args.ts";

const COMMANDS = ["login", "logout", "deploy", "ls", "assign", "kill"];
const killArgs = {
  ...serviceFilterArgs,
  all: { type: "boolean", alias: "a" },
  ...yesArg,
  ...jsonArg,
  ...connectionArgs,
} as const;

describe("suggestions for a typo'd command", () => {
  it("counts single-character edits", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "ls")).toBe(2);
    expect(editDistance("ls", "ls")).toBe(0);
  });

  it("offers the nearest command within two edits, and nothing when none is close", () => {
    expect(nearest("lss", COMMANDS)).toBe("ls");
    expect(nearest("deplyo", COMMANDS)).toBe("deploy");
    expect(nearest("LOGIN", COMMANDS)).toBe("login");
    expect(nearest("x", COMMANDS)).toBeUndefined();
    expect(nearest("frobnicate", COMMANDS)).toBeUndefined();
  });

  it("lets --help, --version and known commands through", () => {
    expect(topLevelProblem([], COMMANDS)).toBeUndefined();
    expect(topLevelProblem(["--version"], COMMANDS)).toBeUndefined();
    expect(topLevelProblem(["nope", "--help"], COMMANDS)).toBeUndefined();
    expect(topLevelProblem(["ls", "--whatever"], COMMANDS)).toBeUndefined();
    expect(topLevelProblem(["--verbose", "ls"], COMMANDS)).toBe(
      "Unknown option --verbose. Run `daeploy-edge --help` to see the commands.",
    );
  });
});

describe("arguments a command does not take", () => {
  it("accepts every spelling of the options it defines", () => {
    for (const args of [
      ["hello", "1.0.0", "--yes", "--json"],
      ["-ay"],
      ["--no-yes", "hello"],
      ["--host", "http://h", "--token=t", "hello"],
      ["hello", "--", "1.0.0"],
    ]) {
      expect(unexpectedArgument(args, killArgs)).toBeUndefined();
    }
  });

  it("a value option swallows the next word, so it is never counted as a positional", () => {
    expect(unexpectedArgument(["--host", "a", "--token", "b", "x", "y"], killArgs)).toBeUndefined();
    expect(unexpectedArgument(["--host=a", "x", "y", "z"], killArgs)).toBe(
      'Unexpected argument "z": the command takes [NAME] [VERSION]',
    );
  });

  it("names the first unknown option, long or short", () => {
    expect(unexpectedArgument(["--force"], killArgs)).toBe("Unknown option --force");
    expect(unexpectedArgument(["-ax"], killArgs)).toBe("Unknown option -x");
    expect(unexpectedArgument(["--no-host"], killArgs)).toBe("Unknown option --no-host");
  });

  it("counts positionals after --", () => {
    expect(unexpectedArgument(["--", "a", "b", "c"], killArgs)).toMatch(/^Unexpected argument "c"/);
    expect(unexpectedArgument(["now"], {})).toBe('Unexpected argument "now": the command takes no arguments');
  });
});

describe("a missing argument", () => {
  it("names the first required positional that was not given", () => {
    const assignArgs = { ...serviceArgs, ...jsonArg, ...connectionArgs };
    expect(checkArguments(["hello", "--json"], assignArgs)).toEqual({ missing: "VERSION" });
    expect(checkArguments(["--host", "hello", "--json"], assignArgs)).toEqual({ missing: "NAME" });
    expect(checkArguments(["hello", "1.0.0"], serviceArgs)).toEqual({});
    expect(checkArguments([], serviceFilterArgs)).toEqual({});
  });
});

describe("options given more than once", () => {
  it("collects every --ignore, as separate words, with =, or as comma lists", () => {
    expect(
      repeatedOption(
        ["hello", "--ignore", "body.a", "--json", "--ignore=body.b,header.etag", "--ignore", "body.c"],
        "ignore",
      ),
    ).toEqual(["body.a", "body.b", "header.etag", "body.c"]);
    expect(repeatedOption(["hello", "--unignore", "body.a"], "ignore")).toEqual([]);
    expect(repeatedOption(["hello", "--", "--ignore", "x"], "ignore")).toEqual([]);
  });

  it("keeps a quoted key with a comma in one piece", () => {
    expect(splitList('body."a,b",body.c')).toEqual(['body."a,b"', "body.c"]);
  });

  it("an --ignore without a value is one line saying so", () => {
    expect(() => repeatedOption(["hello", "--ignore"], "ignore")).toThrow("--ignore needs a value after it");
    expect(() => repeatedOption(["hello", "--ignore", "--json"], "ignore")).toThrow("--ignore needs a value after it");
  });
});
