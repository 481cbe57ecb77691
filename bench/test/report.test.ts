import { describe, expect, it } from "vitest";
import { nginxConfig } from "../lib/nginx.ts";
import { parseMachineBusyTicks, parseProcStat } from "../lib/proc-stats.ts";
import { summariseProfile } from "../lib/profile-summary.ts";
import { IDS, markdownTable, otherLoadPercent, ratioText, type ScenarioResult, targetChecks } from "../lib/report.ts";
import { errorCount, parseWrkOutput } from "../lib/wrk.ts";
import { scenarioResult as result } from "./scenario-result.ts";

/** One round of results: a target is then the ratio within it. */
const oneRound = (results: ScenarioResult[]): ScenarioResult[][] => [results];

describe("target checks", () => {
  it("meets (a) and (b) at their bounds and misses them just past", () => {
    const atBounds = targetChecks(
      oneRound([
        result(IDS.noShadows, 100, 10),
        result(IDS.slowShadow, 80, 15),
        result(IDS.bareWorkerAssets, 100, 10),
        result(IDS.pinned, 90, 10),
      ]),
    );
    const aAndB = (checks: ReturnType<typeof targetChecks>) =>
      checks.filter((c) => /^\((a\) (throughput|p99)|b\) )/.test(c.label)).map((c) => c.met);
    expect(aAndB(atBounds)).toEqual([true, true, true]);

    const pastBounds = targetChecks(
      oneRound([
        result(IDS.noShadows, 100, 10),
        result(IDS.slowShadow, 79, 15.1),
        result(IDS.bareWorkerAssets, 100, 10),
        result(IDS.pinned, 89, 10),
      ]),
    );
    expect(aAndB(pastBounds)).toEqual([false, false, false]);
  });

  it("meets the (a) ceiling at 0.9 of the bare Worker's mirroring throughput and 1.5 × its p99", () => {
    const ceiling = (rps: number, p99: number) =>
      targetChecks(oneRound([result(IDS.bareMirrorSlow, 100, 10), result(IDS.slowShadowCompareOff, rps, p99)])).filter(
        (c) => c.label.startsWith("(a) ceiling"),
      );
    expect(ceiling(90, 15).map((c) => c.met)).toEqual([true, true]);
    expect(ceiling(89, 15.1).map((c) => c.met)).toEqual([false, false]);
  });

  it("meets the user-felt targets (f) at their bounds and misses them just past", () => {
    const felt = (three: { p50: number; p99: number }, slowP99: number, canaryP99: number) =>
      targetChecks(
        oneRound([
          { ...result(IDS.steadyNoShadows, 80, 10), p50Ms: 4 },
          { ...result(IDS.steadyThreeShadows, 80, three.p99), p50Ms: three.p50 },
          result(IDS.steadySlowShadow, 80, slowP99),
          result(IDS.steadyCanary, 80, canaryP99),
        ]),
      ).filter((c) => c.label.startsWith("(f)"));
    expect(felt({ p50: 4.4, p99: 15 }, 12, 12).map((c) => c.met)).toEqual([true, true, true, true]);
    expect(felt({ p50: 4.41, p99: 15.1 }, 12.1, 12.1).map((c) => c.met)).toEqual([false, false, false, false]);
  });

  it("meets the comparison and traffic-control targets at their bounds and misses them just past", () => {
    const compare = (on: { rps: number; p50: number; cpu: number; writes: number; felt: number }) => [
      { ...result(IDS.jsonCompareOff, 100, 10), p50Ms: 5, cpuMsPerReq: 1 },
      { ...result(IDS.jsonCompare, on.rps, 10), p50Ms: on.p50, cpuMsPerReq: on.cpu, ledgerWritesPerReq: on.writes },
      { ...result(IDS.steadyJsonCompareOff, 50, 30), p50Ms: 20 },
      { ...result(IDS.steadyJsonCompare, 50, 30), p50Ms: on.felt },
      result(IDS.noShadows, 100, 10),
    ];
    const labels = (checks: ReturnType<typeof targetChecks>) =>
      checks.filter((c) => c.label.startsWith("(c)") || c.label.startsWith("(d)"));
    const at = labels(
      targetChecks(
        oneRound([
          ...compare({ rps: 80, p50: 5.5, cpu: 1.25, writes: 0.02, felt: 22 }),
          result(IDS.tenPercent, 85, 10),
          result(IDS.deadMarked, 90, 10),
        ]),
      ),
    );
    expect(at.map((c) => c.met)).toEqual([true, true, true, true, true, true, true]);
    const past = labels(
      targetChecks(
        oneRound([
          ...compare({ rps: 79, p50: 5.6, cpu: 1.26, writes: 0.021, felt: 22.2 }),
          result(IDS.tenPercent, 84, 10),
          result(IDS.deadMarked, 89, 10),
        ]),
      ),
    );
    expect(past.map((c) => c.met)).toEqual([false, false, false, false, false, false, false]);
  });

  it("meets the canary target at 0.9 of one shadow's throughput and misses it just below", () => {
    const canary = (rps: number) =>
      targetChecks(oneRound([result(IDS.oneShadow, 100, 10), result(IDS.canary, rps, 10)])).find((c) =>
        c.label.startsWith("(e)"),
      );
    expect(canary(90)).toMatchObject({ value: 0.9, met: true });
    expect(canary(89)).toMatchObject({ met: false });
  });

  it("meets the capture target at 0.9 of main's throughput without capture and misses it just below", () => {
    const capture = (rps: number) =>
      targetChecks(oneRound([result(IDS.noShadows, 100, 10), result(IDS.captureAll, rps, 10)])).find((c) =>
        c.label.startsWith("(g)"),
      );
    expect(capture(90)).toMatchObject({ value: 0.9, met: true });
    expect(capture(89)).toMatchObject({ met: false });
  });

  it("prints a small share with two significant digits, so a measured one never reads 0.00", () => {
    expect([0.0045, 0.98, 1.254, 0, null].map(ratioText)).toEqual(["0.0045", "0.98", "1.25", "0.00", "–"]);
  });

  it("reports a target as not measured when a scenario did not run", () => {
    const checks = targetChecks(oneRound([result(IDS.noShadows, 100, 10)]));
    expect(checks.every((c) => c.met === null && c.value === null)).toBe(true);
  });

  it("prints one table row per scenario, with a dash for a missing CPU figure", () => {
    const direct = { ...result(IDS.direct, 5000, 1), target: "origin" as const, cpuMsPerReq: null };
    const table = markdownTable([direct, result(IDS.noShadows, 100, 10)]).split("\n");
    expect(table).toHaveLength(4);
    expect(table[2]).toContain("| 5000 |");
    expect(table[2]).toContain("| – |");
  });
});

describe("wrk output", () => {
  it("reads the report line among wrk's own output and sums every kind of error", () => {
    const stdout = [
      "Running 4s test @ http://127.0.0.1:1/x",
      'BENCH_JSON {"durationUs":4000000,"requests":800,"errors":{"connect":1,"read":2,"write":0,"status":3,"timeout":4},"latencyUs":{"p50":9000,"p90":15000,"p99":21000,"p999":25000,"max":30000}}',
      "",
    ].join("\n");
    const report = parseWrkOutput(stdout);
    expect(report.requests).toBe(800);
    expect(report.latencyUs.p99).toBe(21000);
    expect(errorCount(report)).toBe(10);
  });

  it("fails loudly when the report line is missing", () => {
    expect(() => parseWrkOutput("unable to connect to 127.0.0.1:1")).toThrow(/no report line/);
  });
});

describe("/proc parsing", () => {
  it("reads CPU ticks of a process whose name holds spaces and parentheses", () => {
    const fields = ["S", "42", ...Array.from({ length: 9 }, () => "0"), "150", "50", "7", "3", "20", "0"];
    const stat = parseProcStat(`1234 (my (odd) name) ${fields.join(" ")}`);
    expect(stat).toEqual({ comm: "my (odd) name", ppid: 42, cpuTicks: 200, waitedChildrenTicks: 10 });
  });

  it("counts busy machine time without idle and iowait", () => {
    expect(parseMachineBusyTicks("cpu  100 1 20 5000 40 2 3 4 0 0\ncpu0 1 2 3")).toBe(130);
  });

  it("attributes to other processes only the machine time the bench did not use", () => {
    const before = { machineMs: 1_000, oursMs: 500 };
    const after = { machineMs: 4_000, oursMs: 3_000 };
    // 500 ms of others over 1 s on 2 cores is a quarter of the machine.
    expect(otherLoadPercent(before, after, 1_000, 2)).toBe(25);
  });
});

describe("nginx config", () => {
  it("mirrors each route to its own shadows only and proxies every route to main", () => {
    const config = nginxConfig({
      port: 8080,
      prefixDir: "/tmp/x",
      main: "http://127.0.0.1:9000",
      routes: [
        { prefix: "/solo/", shadows: [] },
        { prefix: "/slow/", shadows: ["http://127.0.0.1:9001", "http://127.0.0.1:9002"] },
      ],
    });
    const solo = /location \/solo\/ \{([^}]*)\}/.exec(config)?.[1] ?? "";
    const slow = /location \/slow\/ \{([^}]*)\}/.exec(config)?.[1] ?? "";
    expect(solo).not.toContain("mirror");
    expect(slow.match(/mirror /g)).toHaveLength(2);
    expect(config).toContain("upstream main { server 127.0.0.1:9000;");
    expect(config).toContain("server 127.0.0.1:9002;");
    expect(config).toContain("listen 127.0.0.1:8080;");
  });
});

describe("CPU profile summary", () => {
  it("attributes samples to the bundle's source modules and leaves idle time out", () => {
    const bundle = [
      "// node_modules/hono/dist/hono.js",
      "function dispatch() {}",
      "// worker/src/proxy/mirror.ts",
      "function sendShadow() {}",
    ].join("\n");
    const frame = (id: number, functionName: string, lineNumber: number, children: number[] = []) => ({
      id,
      callFrame: { functionName, url: lineNumber < 0 ? "" : "index.js", lineNumber, columnNumber: 0 },
      children,
    });
    const profile = {
      nodes: [
        frame(1, "(root)", -1, [2, 3, 5]),
        frame(2, "dispatch", 1, [4]),
        frame(3, "(idle)", -1),
        frame(4, "sendShadow", 3, [6]),
        frame(5, "(program)", -1),
        frame(6, "fetch", -1),
      ],
      samples: [3, 3, 6, 6, 6, 4, 2, 5],
      timeDeltas: [200, 200, 200, 200, 200, 200, 200, 200],
      startTime: 0,
      endTime: 1600,
    };
    const summary = summariseProfile(profile, 200, (url) => (url === "index.js" ? bundle : undefined));
    expect(summary.busySamples).toBe(6);
    expect(summary.byModule[0]).toEqual({ module: "fetch", selfSamples: 3 });
    expect(summary.byModule).toContainEqual({ module: "worker/src/proxy/mirror.ts", selfSamples: 1 });
    expect(summary.byModule).toContainEqual({ module: "node_modules/hono/dist/hono.js", selfSamples: 1 });
    // sendShadow and the fetch it called, but not hono's dispatch above it.
    expect(summary.gatewayFunctions).toEqual([
      { fn: "sendShadow worker/src/proxy/mirror.ts", inclusiveSamples: 4, selfSamples: 1 },
    ]);
    expect(summary.hotLeaves[0]).toEqual({ frame: "fetch < sendShadow worker/src/proxy/mirror.ts", selfSamples: 3 });
  });
});
