// `npm run test:pack`: the package as a user gets it. Packs it, installs the tarball into an empty folder
// with the system Node and npm (not the Node 22 of node_modules), and runs `daeploy-edge --help` and
// real commands against a throwaway gateway. Exits 1 with the reason on any surprise.
import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startGateway } from "./gateway.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const systemBin = process.env.SYSTEM_NODE_BIN ?? "/usr/bin";
// Only the system's tools: an installed CLI must not lean on the clone's node_modules/.bin.
const systemEnv = { HOME: process.env.HOME ?? tmpdir(), PATH: `${systemBin}:/bin`, NO_COLOR: "1", TZ: "UTC" };
const EXPECTED_FILES = [
  "LICENSE",
  "README.md",
  "bin/daeploy-edge.mjs",
  "dist/THIRD_PARTY_LICENSES.md",
  "dist/cli.mjs",
  "package.json",
];

class PackCheckFailure extends Error {}

function fail(message: string): never {
  throw new PackCheckFailure(message);
}

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, env: systemEnv, encoding: "utf8" });
  return { code: result.status, out: result.stdout ?? "", err: result.stderr ?? "" };
}

const work = await mkdtemp(join(tmpdir(), "daeploy-edge-pack-"));
try {
  const nodeVersion = run(join(systemBin, "node"), ["--version"], work).out.trim();
  console.log(`system Node ${nodeVersion}, npm ${run(join(systemBin, "npm"), ["--version"], work).out.trim()}`);

  // `npm pack` runs prepack, which builds dist/ with the clone's esbuild.
  const packed = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: root, encoding: "utf8" }),
  ) as { filename: string; files: { path: string }[] }[];
  const tarball = packed[0];
  if (!tarball) fail("npm pack printed no tarball");
  const files = tarball.files.map((file) => file.path).sort();
  if (JSON.stringify(files) !== JSON.stringify(EXPECTED_FILES)) {
    fail(`the tarball holds ${files.join(", ")}; expected ${EXPECTED_FILES.join(", ")}`);
  }

  const app = join(work, "app");
  execFileSync("mkdir", [app]);
  const install = run(
    join(systemBin, "npm"),
    ["install", "--no-audit", "--no-fund", join(work, tarball.filename)],
    app,
  );
  if (install.code !== 0) fail(`npm install of the tarball exited ${install.code}:\n${install.out}${install.err}`);
  if (/install-scripts|allowScripts/.test(install.out + install.err)) {
    fail(`installing ran into install scripts:\n${install.out}${install.err}`);
  }
  const lock = JSON.parse(await readFile(join(app, "package-lock.json"), "utf8")) as { packages: object };
  const installed = Object.keys(lock.packages).filter((path) => path.startsWith("node_modules/"));
  if (installed.join() !== "node_modules/daeploy-edge") fail(`installing pulled in ${installed.join(", ")}`);
  console.log(`installed ${tarball.filename} alone, with no install scripts`);

  const cli = join(app, "node_modules", ".bin", "daeploy-edge");
  const help = run(cli, ["--help"], app);
  if (help.code !== 0 || !help.out.includes("USAGE")) fail(`daeploy-edge --help:\n${help.out}${help.err}`);

  const gateway = await startGateway({ token: `pack-${randomUUID()}`, stateDir: join(work, "gateway") });
  try {
    const connection = ["--host", gateway.url, "--token", gateway.token];
    const deploy = run(cli, ["deploy", "packed", "1.0.0", "http://127.0.0.1:9", "--no-check", ...connection], app);
    if (deploy.code !== 0) fail(`daeploy-edge deploy:\n${deploy.out}${deploy.err}`);
    const ls = run(cli, ["ls", ...connection], app);
    if (ls.code !== 0 || !/^\*\s+packed\s+1\.0\.0\s+unknown\s/m.test(ls.out))
      fail(`daeploy-edge ls:\n${ls.out}${ls.err}`);
    const report = run(cli, ["report", "packed", ...connection], app);
    if (report.code !== 0 || !/^1\.0\.0(\s+-)+\s+main$/m.test(report.out))
      fail(`daeploy-edge report:\n${report.out}${report.err}`);
    console.log(`daeploy-edge --help, deploy, ls and report work on Node ${nodeVersion} from an empty folder`);
  } finally {
    await gateway.stop();
  }
} catch (error) {
  if (!(error instanceof PackCheckFailure)) throw error;
  console.error(`pack check failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  await rm(work, { recursive: true, force: true });
}
