// `node bench/compare-micro.ts [--rules] [--root DIR]`: the CPU one comparison of two 4 KiB JSON
// answers costs, as the isolate's thread pays it (both bodies parsed, then walked), with and
// without field rules. A micro benchmark of the comparison alone, not of the gateway: for
// before/after numbers of a change to compare.ts without running the whole bench (`--root` loads
// compare.ts from another checkout, such as `git archive` of an older commit).
//
// `--gateway [--against DIR]`: the comparison work of one request of bench scenario 9a instead
// (main's /json4k-varied answer prepared once, three shadows' compared with it under the bench's
// four field rules). With `--against`, that checkout's comparison runs in the same process, in
// batches interleaved with this one's, and the median of the per-batch ratios is printed.
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import type * as Compare from "../worker/src/evidence/compare.ts";

const { values: flags } = parseArgs({
  options: {
    rules: { type: "boolean" },
    root: { type: "string" },
    gateway: { type: "boolean" },
    against: { type: "string" },
  },
});
const root = flags.root ? resolve(flags.root) : resolve(import.meta.dirname, "..");
const loadCompare = (dir: string): Promise<typeof Compare> => import(`${dir}/worker/src/evidence/compare.ts`);
const { compareAnswers, prepareAnswer } = await loadCompare(root);

const encoder = new TextEncoder();

/** About 4 KiB of an order list: ids, prices, timestamps, nested objects, an array of 44 items. */
function document(seed: number, options: { reorder?: boolean; dust?: boolean } = {}): Uint8Array {
  const items = Array.from({ length: 44 }, (_, k) => ({
    id: `item-${k}`,
    sku: `SKU${1000 + k}`,
    q: k % 5,
    price: options.dust ? (k + 0.1) * (1 + 1e-9) : k + 0.1,
    tags: ["a", "b"],
    name: `Widget ${k}`,
  }));
  if (options.reorder) items.reverse();
  const body = {
    id: 9007199254740993n.toString(),
    createdAt: `2026-12-06T07:12:${String(seed % 60).padStart(2, "0")}Z`,
    customer: { name: "Ann", email: "ann@example.com", address: { city: "Lund", zip: "22100" } },
    total: 1234.5,
    items,
  };
  return encoder.encode(JSON.stringify(body));
}

const answer = (body: Uint8Array) => ({
  status: 200,
  headers: { "content-type": "application/json" },
  body,
  bodyComplete: true,
});

type Options = Parameters<typeof compareAnswers>[2];

function measure(label: string, main: Uint8Array, shadow: Uint8Array, options?: Options): void {
  const run = () => compareAnswers(prepareAnswer(answer(main)), prepareAnswer(answer(shadow)), options);
  for (let i = 0; i < 2_000; i++) run();
  const rounds: number[] = [];
  for (let round = 0; round < 5; round++) {
    const n = 5_000;
    const started = performance.now();
    for (let i = 0; i < n; i++) run();
    rounds.push(((performance.now() - started) * 1000) / n);
  }
  rounds.sort((a, b) => a - b);
  const differences = run().differences.map((d) => `${d.path} ${d.kind}`);
  console.log(
    `${label.padEnd(44)} ${main.byteLength} B  median ${rounds[2]?.toFixed(1)} µs/compare  (${differences.join(", ") || "same"})`,
  );
}

if (flags.gateway) {
  const { measureGateway } = await import("./lib/compare-gateway.ts");
  const against = flags.against === undefined ? undefined : await loadCompare(resolve(flags.against));
  measureGateway(await loadCompare(root), against);
  process.exit(0);
}

const main = document(1);
measure("identical bytes", main, document(1));
measure("createdAt differs", main, document(2));
measure("prices differ by float dust", main, document(1, { dust: true }));
measure("items reordered", main, document(1, { reorder: true }));
if (flags.rules) {
  const policyRules = [
    { path: "body.createdAt", match: "present" },
    { path: "body.items[].price", match: "number", rel: 1e-6 },
    { path: "body.items", match: "unordered", key: "id" },
    { path: "body.customer.email", match: "format", format: "email" },
  ];
  const options = { rules: policyRules } as unknown as Options;
  measure("rules: createdAt differs", main, document(2), options);
  measure("rules: prices differ by float dust", main, document(1, { dust: true }), options);
  measure("rules: items reordered", main, document(1, { reorder: true }), options);
}
