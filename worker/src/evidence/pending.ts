import type { EvidenceBatch, MainMinute, MinuteCounts, NoiseMinute } from "./batch.ts";
import { emptyCounters } from "./counters.ts";
import type { ExchangeSample } from "./exchange-sample.ts";
import { LatencyHistogram } from "./histogram.ts";
import { OTHER_ROUTES } from "./verdict.ts";

export class PendingMinute {
  readonly counts = emptyCounters();
  readonly latencyMain = new LatencyHistogram();
  readonly latencyShadow = new LatencyHistogram();
  readonly signatures = new Map<string, number>();
  readonly partialSignatures = new Map<string, number>();
  readonly routes = new Map<string, number>();
}

export class PendingMain {
  requests = 0;
  readonly status: [number, number, number, number] = [0, 0, 0, 0];
  readonly latency = new LatencyHistogram();
}

/** One name's evidence gathered since its last flush. */
export class PendingBatch {
  readonly main = new Map<string, PendingMain>();
  readonly shadows = new Map<string, PendingMinute>();
  /** By main and minute. */
  readonly noise = new Map<string, NoiseMinute>();
  readonly samples: (ExchangeSample & { version: string })[] = [];
  /** Fields seen per version (and `""` for noise), bounded by maxFields. */
  readonly fields = new Map<string, Set<string>>();
  /** Routes seen, for every version and noise alike, bounded by maxRoutes. */
  readonly routes = new Set<string>();
  signatures = 0;
  bytes = 0;
  dropped = 0;

  minute(version: string, baseline: string, at: number): PendingMinute {
    const key = `${Math.floor(at / 60_000)}\t${baseline}\t${version}`;
    let counts = this.shadows.get(key);
    if (!counts) {
      counts = new PendingMinute();
      this.shadows.set(key, counts);
    }
    return counts;
  }

  /** The route a result is kept under: its own while the batch has room for it, else OTHER_ROUTES. */
  route(route: string | undefined, maxRoutes: number): string {
    if (route === undefined) return OTHER_ROUTES;
    if (this.routes.has(route)) return route;
    if (this.routes.size >= maxRoutes) return OTHER_ROUTES;
    this.routes.add(route);
    return route;
  }

  fieldsOf(version: string): Set<string> {
    let known = this.fields.get(version);
    if (!known) {
      known = new Set();
      this.fields.set(version, known);
    }
    return known;
  }

  toBatch(): EvidenceBatch {
    const main: MainMinute[] = [];
    for (const [key, m] of this.main) {
      const tab = key.indexOf("\t");
      main.push({
        version: key.slice(tab + 1),
        minute: Number(key.slice(0, tab)),
        requests: m.requests,
        status: m.status,
        latency: m.latency.toJson(),
      });
    }
    const shadows: MinuteCounts[] = [];
    for (const [key, m] of this.shadows) {
      const [minute = "", baseline = "", version = ""] = key.split("\t");
      shadows.push({
        version,
        baseline,
        minute: Number(minute),
        ...m.counts,
        latencyMain: m.latencyMain.toJson(),
        latencyShadow: m.latencyShadow.toJson(),
        signatures: Object.fromEntries(m.signatures),
        partialSignatures: Object.fromEntries(m.partialSignatures),
        routes: Object.fromEntries(m.routes),
      });
    }
    return { main, shadows, noise: [...this.noise.values()], samples: this.samples, dropped: this.dropped };
  }
}
