import { describe, expect, it } from "vitest";
import { longStretches } from "../lib/stretches.ts";

const frame = (id: number, functionName: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url: "", lineNumber: 0, columnNumber: 0 },
  children,
});

describe("long busy stretches of a profile", () => {
  it("counts runs of busy samples at least as long as asked, and puts each sample under what it was in", () => {
    const profile = {
      nodes: [
        frame(1, "(root)", [2, 3, 4, 6]),
        frame(2, "(idle)"),
        frame(3, "mirrorAndCompare"),
        frame(4, "record", [5]),
        frame(5, "exec"),
        frame(6, "(garbage collector)"),
      ],
      // 200 µs samples: a 1.2 ms run (3 3 5 5 6 3), idle, a 0.4 ms run, idle, a 1 ms run.
      samples: [3, 3, 5, 5, 6, 3, 2, 3, 3, 2, 2, 4, 5, 3, 3, 3],
      timeDeltas: Array.from({ length: 16 }, () => 200),
      startTime: 0,
      endTime: 3200,
    };
    const summary = longStretches(profile, 200, 1);
    expect(summary.count).toBe(2);
    expect(summary.longestMs).toBeCloseTo(1.2);
    expect(summary.byKind).toEqual({ "ledger write": 4, "garbage collection": 1, report: 0, requests: 6 });
    expect(longStretches(profile, 200, 2).count).toBe(0);
  });
});
