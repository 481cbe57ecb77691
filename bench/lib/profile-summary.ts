// Turns a V8 CPU profile of the bundled Worker into time per source module and per
// function, so the hot path can be read without DevTools.

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where each module of an esbuild bundle starts: esbuild marks it with a `// path/to/file.ts` line. */
export function bundleModules(bundle: string): { line: number; module: string }[] {
  const starts: { line: number; module: string }[] = [];
  bundle.split("\n").forEach((text, line) => {
    const match = /^\/\/ ((?:\.\.\/)*[\w@./-]+\.(?:ts|js|mjs|cjs))$/.exec(text);
    if (match?.[1]) starts.push({ line, module: match[1].replace(/^(\.\.\/)+/, "") });
  });
  return starts;
}

function moduleAt(starts: { line: number; module: string }[], line: number): string | undefined {
  let found: string | undefined;
  for (const start of starts) {
    if (start.line > line) break;
    found = start.module;
  }
  return found;
}

/**
 * Samples, not sampled time: the isolate's thread is not sampled while workerd
 * works outside JavaScript, so gaps between samples say nothing about the frame
 * that follows them. Each sample stands for one sampling interval.
 */
export interface ProfileSummary {
  intervalUs: number;
  samples: number;
  /** Samples in which the isolate was running JavaScript or runtime code (all but "(idle)"). */
  busySamples: number;
  byModule: { module: string; selfSamples: number }[];
  /** Samples of the gateway's own functions (worker/src) and below, the top of the hot path. */
  gatewayFunctions: { fn: string; inclusiveSamples: number; selfSamples: number }[];
  /** The heaviest leaf frames with the caller that reached them, to name native work (fetch, console.log). */
  hotLeaves: { frame: string; selfSamples: number }[];
}

/**
 * `bundleOf(url)` returns the bundle text of a script URL, or undefined; frames
 * outside a known bundle are grouped by URL, and runtime frames by their name
 * ("(program)" is native work such as HTTP and fetch, "(garbage collector)" is GC).
 */
export function summariseProfile(
  profile: CpuProfile,
  intervalUs: number,
  bundleOf: (url: string) => string | undefined,
): ProfileSummary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const starts = new Map<string, { line: number; module: string }[]>();
  const modulesOf = (url: string) => {
    let known = starts.get(url);
    if (!known) {
      const text = bundleOf(url);
      known = text ? bundleModules(text) : [];
      starts.set(url, known);
    }
    return known;
  };
  const labelOf = (node: CpuProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    if (url === "") return { module: functionName || "(native)", fn: functionName || "(native)" };
    const module = moduleAt(modulesOf(url), lineNumber) ?? url.split("/").pop() ?? url;
    return { module, fn: `${functionName || "(anonymous)"} ${module}` };
  };

  const selfByModule = new Map<string, number>();
  const selfByFn = new Map<string, number>();
  const inclusiveByFn = new Map<string, number>();
  const leaves = new Map<string, number>();
  const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  let busySamples = 0;
  for (const id of profile.samples) {
    const node = nodes.get(id);
    if (!node || node.callFrame.functionName === "(idle)") continue;
    busySamples++;
    const { module, fn } = labelOf(node);
    add(selfByModule, module);
    add(selfByFn, fn);
    const caller = nodes.get(parent.get(id) ?? -1);
    add(leaves, caller && caller.callFrame.functionName !== "(root)" ? `${fn} < ${labelOf(caller).fn}` : fn);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = nodes.get(at);
      if (!frame) break;
      const label = labelOf(frame);
      if (!label.module.startsWith("worker/src/") || seen.has(label.fn)) continue;
      seen.add(label.fn);
      add(inclusiveByFn, label.fn);
    }
  }
  const sorted = <T>(map: Map<string, number>, shape: (key: string, n: number) => T, by: (t: T) => number) =>
    [...map].map(([key, n]) => shape(key, n)).sort((a, b) => by(b) - by(a));
  return {
    intervalUs,
    samples: profile.samples.length,
    busySamples,
    byModule: sorted(
      selfByModule,
      (module, selfSamples) => ({ module, selfSamples }),
      (m) => m.selfSamples,
    ),
    gatewayFunctions: sorted(
      inclusiveByFn,
      (fn, inclusiveSamples) => ({ fn, inclusiveSamples, selfSamples: selfByFn.get(fn) ?? 0 }),
      (f) => f.inclusiveSamples,
    ),
    hotLeaves: sorted(
      leaves,
      (frame, selfSamples) => ({ frame, selfSamples }),
      (l) => l.selfSamples,
    ),
  };
}

/** The summary as text: shares of busy samples, and the estimated JavaScript-thread time per request. */
export function formatSummary(summary: ProfileSummary, requests: number, top = 12): string {
  const perReq = (samples: number) =>
    requests > 0 ? ((samples * summary.intervalUs) / requests).toFixed(0).padStart(6) : "     –";
  const share = (samples: number) =>
    (summary.busySamples > 0 ? (samples / summary.busySamples) * 100 : 0).toFixed(1).padStart(5);
  return [
    `${summary.busySamples} busy of ${summary.samples} samples every ${summary.intervalUs} µs over ${requests} requests ` +
      `(≈ ${perReq(summary.busySamples).trim()} µs of isolate time per request)`,
    "Self, by module            (% of busy, ≈ µs/request):",
    ...summary.byModule.slice(0, top).map((m) => `  ${share(m.selfSamples)} % ${perReq(m.selfSamples)}  ${m.module}`),
    "Heaviest frames < caller   (% of busy, ≈ µs/request):",
    ...summary.hotLeaves.slice(0, top).map((l) => `  ${share(l.selfSamples)} % ${perReq(l.selfSamples)}  ${l.frame}`),
    "Gateway functions, inclusive and self (% of busy):",
    ...summary.gatewayFunctions
      .slice(0, top)
      .map((f) => `  ${share(f.inclusiveSamples)} % ${share(f.selfSamples)} %  ${f.fn}`),
  ].join("\n");
}
