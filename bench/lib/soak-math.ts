// The soak's arithmetic: memory samples over time, the slope after warm-up, and the table.
// Pure functions, tested without a soak.

export interface MemorySample {
  /** Seconds since the traffic started. */
  atS: number;
  /** Resident memory of the gateway's workerd processes, summed, MB. */
  gatewayMb: number;
  /** The same for the bare pass-through Worker under the same traffic: the runtime's own drift. */
  controlMb: number;
  /** The gateway isolate's JavaScript heap in use (the inspector's reading), MB; null when unread. */
  heapMb?: number | null;
}

/** Least-squares slope of y over x, per unit of x; null for fewer than two distinct x. */
export function slope(points: readonly { x: number; y: number }[]): number | null {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

/** MB per minute after `warmupS`, for the gateway and the control, and the residual spread (noise) of the gateway. */
export function memoryTrend(samples: readonly MemorySample[], warmupS: number) {
  const after = samples.filter((s) => s.atS >= warmupS);
  const line = (pick: (s: MemorySample) => number) => slope(after.map((s) => ({ x: s.atS / 60, y: pick(s) })));
  const gateway = line((s) => s.gatewayMb);
  const values = after.map((s) => s.gatewayMb);
  const heap = after.flatMap((s) => (typeof s.heapMb === "number" ? [{ x: s.atS / 60, y: s.heapMb }] : []));
  return {
    samples: after.length,
    gatewayMbPerMin: gateway,
    controlMbPerMin: line((s) => s.controlMb),
    heapMbPerMin: slope(heap),
    gatewayRangeMb: values.length === 0 ? null : Math.max(...values) - Math.min(...values),
  };
}

/** One row a minute (the last sample of each minute), so a 20-minute curve reads as a small table. */
export function memoryTable(samples: readonly MemorySample[]): string {
  const byMinute = new Map<number, MemorySample>();
  for (const s of samples) byMinute.set(Math.floor(s.atS / 60), s);
  const rows = [...byMinute.entries()].map(
    ([minute, s]) =>
      `| ${minute} | ${s.gatewayMb.toFixed(0)} | ${typeof s.heapMb === "number" ? s.heapMb.toFixed(1) : "–"} | ${s.controlMb.toFixed(0)} |`,
  );
  return [
    "| minute | gateway workerd RSS MB | gateway JS heap MB | bare Worker workerd RSS MB |",
    "|--:|--:|--:|--:|",
    ...rows,
  ].join("\n");
}

/** Evidence the soak expected against what the report counted, per shadow. */
export interface EvidenceCount {
  name: string;
  version: string;
  /** Copies the bench's traffic should have produced: requests main answered × the shadow's share. */
  expected: number;
  /** What the report counts as mirrored (copies sent and recorded). */
  recorded: number;
  /** Of those, the ones that lost their field detail (counted, not compared). */
  unrecorded: number;
}

export const lostOf = (c: EvidenceCount): number => Math.max(0, c.expected - c.recorded);
