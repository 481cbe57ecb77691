// The comparison work of one request of bench scenario 9a, for bench/compare-micro.ts --gateway:
// main's /json4k-varied answer prepared once and three shadows' answers compared with it under the
// bench's four field rules (bench/run.ts's FIELD_RULES), every body fresh bytes as the gateway reads them.
import { performance } from "node:perf_hooks";
import type * as Compare from "../../worker/src/evidence/compare.ts";
import { variedDocument, variedItems } from "./varied-json.ts";

type Module = typeof Compare;
type Options = Parameters<Module["compareAnswers"]>[2];

/** As bench/run.ts's FIELD_RULES. */
const FIELD_RULES = [
  { path: "body.items", match: "unordered", key: "id" },
  { path: "body.items[].price", match: "number", rel: 1e-6 },
  { path: "body.createdAt", match: "present" },
  { path: "body.requestId", match: "format", format: "uuid" },
];
const OPTIONS = { headers: [], rules: FIELD_RULES } as unknown as Options;
const SHADOWS = 3;
const REQUESTS = 64;
// Short batches, many of them, alternating: a busy machine moves a long batch more than a short one.
const ROUNDS = 100;
const PER_BATCH = 100;

interface Request {
  main: Uint8Array;
  shadows: Uint8Array[];
}

function requests(): Request[] {
  const encoder = new TextEncoder();
  const mainItems = variedItems(false);
  const shadowItems = variedItems(true);
  const body = (items: string, k: number) =>
    encoder.encode(variedDocument(items, new Date(Date.UTC(2026, 11, 6, 12, 0, k)).toISOString(), crypto.randomUUID()));
  return Array.from({ length: REQUESTS }, (_, r) => ({
    main: body(mainItems, r),
    shadows: Array.from({ length: SHADOWS }, (_, s) => body(shadowItems, r * SHADOWS + s + 1)),
  }));
}

const answer = (body: Uint8Array) => ({
  status: 200,
  headers: { "content-type": "application/json" },
  body,
  bodyComplete: true,
});

/** One request's comparisons; the differences found, joined, so a wrong answer shows. */
function compareRequest(module: Module, request: Request): string {
  const main = module.prepareAnswer(answer(request.main));
  let found = "";
  for (const shadow of request.shadows) {
    const comparison = module.compareAnswers(main, module.prepareAnswer(answer(shadow)), OPTIONS);
    found += comparison.differences.map((d) => `${d.path} ${d.kind}`).join(", ");
  }
  return found;
}

/** Microseconds per request over one batch of `n` requests. */
function batch(module: Module, all: Request[], n: number): number {
  const started = performance.now();
  for (let i = 0; i < n; i++) compareRequest(module, all[i % all.length] as Request);
  return ((performance.now() - started) * 1000) / n;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

const fixed = (value: number, digits = 1) => value.toFixed(digits);

/** Prints this checkout's µs per request, and with `against`, the other's and the ratio, over interleaved batches. */
export function measureGateway(module: Module, against: Module | undefined): void {
  const all = requests();
  for (const m of [module, against]) {
    if (!m) continue;
    const found = compareRequest(m, all[0] as Request);
    if (found !== "") console.log(`differences found (the rules should make every copy the same): ${found}`);
    batch(m, all, 1_000);
  }
  const mine: number[] = [];
  const theirs: number[] = [];
  const ratios: number[] = [];
  const runMine = () => batch(module, all, PER_BATCH);
  const runTheirs = (other: Module) => batch(other, all, PER_BATCH);
  for (let round = 0; round < ROUNDS; round++) {
    if (!against) {
      mine.push(runMine());
      continue;
    }
    // Alternate which side goes first, so neither always runs just after the other's garbage.
    let a: number;
    let b: number;
    if (round % 2 === 0) {
      a = runMine();
      b = runTheirs(against);
    } else {
      b = runTheirs(against);
      a = runMine();
    }
    mine.push(a);
    theirs.push(b);
    ratios.push(a / b);
  }
  const spread = (values: number[]) => `${fixed(Math.min(...values))}–${fixed(Math.max(...values))}`;
  console.log(`this checkout: median ${fixed(median(mine))} µs/request (${spread(mine)} over ${ROUNDS} batches)`);
  if (against) {
    console.log(`--against:     median ${fixed(median(theirs))} µs/request (${spread(theirs)})`);
    console.log(
      `this ÷ against: median ${fixed(median(ratios), 3)} (${fixed(Math.min(...ratios), 3)}–${fixed(Math.max(...ratios), 3)})`,
    );
  }
}
