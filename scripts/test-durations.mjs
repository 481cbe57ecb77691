#!/usr/bin/env node
// Writes scripts/test-durations.json, the order scripts/longest-first.ts starts test files in, from a
// vitest JSON report: `npx vitest run --project workers --reporter=json --outputFile=report.json`, then
// `node scripts/test-durations.mjs report.json [more.json…]`. Files the reports leave out keep their time.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const file = join(root, "scripts", "test-durations.json");
const seconds = JSON.parse(readFileSync(file, "utf8"));
for (const report of process.argv.slice(2)) {
  for (const result of JSON.parse(readFileSync(report, "utf8")).testResults) {
    seconds[relative(root, result.name)] = Math.round((result.endTime - result.startTime) / 100) / 10;
  }
}
const sorted = Object.entries(seconds).sort(([a], [b]) => (a < b ? -1 : 1));
writeFileSync(file, `${JSON.stringify(Object.fromEntries(sorted), null, 2)}\n`);
