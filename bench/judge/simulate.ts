import { EvidenceBatcher, type WireMinuteCounts } from "../../worker/src/evidence/batch.ts";
import { countersFromWire } from "../../worker/src/evidence/counters.ts";
import type { CounterRow } from "../../worker/src/evidence/ledger/counter-rows.ts";
import {
  addEvidence,
  emptyEvidence,
  evidenceOf,
  evidenceToJson,
  type SignatureRow,
} from "../../worker/src/evidence/ledger/window.ts";
import {
  defaultPolicy,
  type EvidencePolicy,
  type NoiseEvidence,
  type ShadowEvidence,
  shadowVerdict,
} from "../../worker/src/evidence/verdict.ts";
import { Random, requestOf, type Scenario } from "./traffic.ts";

/** When a run was first failed and first passed (in requests), if ever. */
export interface RunResult {
  firstFail: number | undefined;
  firstPass: number | undefined;
}

export interface SimulationOptions {
  lookEvery: number;
  maxRequests: number;
  policy?: EvidencePolicy;
}

const NAME = "bench";
const NO_NOISE: NoiseEvidence = { sampled: 0, routes: new Map(), paths: new Map() };

/**
 * A batch as the ledger keeps it: one counters row per (version, baseline,
 * minute) and one signature row per signature, the columns the ledger's
 * upsert adds up. The ledger's `+` in SQL is the one step done here.
 */
function rowsOf(m: WireMinuteCounts): { counter: CounterRow; signatures: SignatureRow[] } {
  const counter: CounterRow = {
    ...countersFromWire(m),
    version: m.version,
    baseline: m.baseline,
    minute: m.minute,
    latencyMain: JSON.stringify(m.latencyMain),
    latencyShadow: JSON.stringify(m.latencyShadow),
  };
  const signatures = (partial: number, from: Record<string, number>) =>
    Object.entries(from).map(([signature, count]) => ({
      version: m.version,
      minute: m.minute,
      partial,
      signature,
      count,
    }));
  return { counter, signatures: [...signatures(0, m.signatures), ...signatures(1, m.partialSignatures)] };
}

/**
 * One run: requests one after another through the gateway's batcher, its
 * batch flushed to a ledger stand-in at every look, the window's evidence
 * read with the ledger's own arithmetic (evidenceOf, then added up as shards
 * are), and judged by the report's own rules (`shadowVerdict`: the same
 * counts and rules as `shadowReport`, without the bands and words).
 */
export async function simulateRun(scenario: Scenario, seed: number, options: SimulationOptions): Promise<RunResult> {
  const random = new Random(seed);
  const policy = options.policy ?? defaultPolicy;
  const evidence: ShadowEvidence = emptyEvidence("2.0.0");
  const batcher = new EvidenceBatcher(
    async (_name, batch) => {
      for (const m of batch.shadows) {
        const { counter, signatures } = rowsOf(m);
        const routes = Object.entries(m.routes ?? {}).map(([route, requests]) => ({
          version: m.version,
          route,
          requests,
        }));
        const part = evidenceOf(m.version, {
          counters: [counter],
          signatures,
          routes,
          noise: NO_NOISE_ROWS,
          mainTraffic: [],
        });
        addEvidence(evidence, evidenceToJson(part));
      }
    },
    { intervalMs: 0, log: () => {} },
  );
  const ignore = () => {};
  const result: RunResult = { firstFail: undefined, firstPass: undefined };
  // A request every 10 ms of simulated time: 20,000 requests span a few minutes' rows, as in the ledger.
  const start = Date.UTC(2026, 0, 1);
  for (let n = 1; n <= options.maxRequests; n++) {
    batcher.addShadow(NAME, requestOf(scenario, random, start + n * 10), ignore);
    if (n % options.lookEvery !== 0) continue;
    await batcher.flush(NAME);
    const verdict = shadowVerdict(evidence, NO_NOISE, policy);
    if (verdict === "fail") result.firstFail ??= n;
    if (verdict === "pass") result.firstPass ??= n;
  }
  return result;
}

const NO_NOISE_ROWS = { sampled: 0, routes: {}, paths: {} };
