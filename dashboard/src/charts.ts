// Charts over the window with uPlot, drawn from the report's per-minute series. What an operator
// reads off them must hold: only complete steps are drawn (a running minute would fall towards 0),
// every axis says its unit, main is drawn last and distinct so a shadow on the same count never
// hides it, and times are local with the zone, as everywhere on the page.
import uPlot from "uplot";
import type { Report, ReportSeries } from "./api.ts";
import { h, localClock, localTimestamp, zoneName } from "./dom.ts";
import { completeSteps, fromFirstTraffic } from "./steps.ts";

const SHADOW_COLOURS = ["#1f5fbf", "#c2410c", "#15803d", "#7e22ce", "#a16207", "#0e7490"];
const MAIN_COLOUR = "#111827";

interface Line {
  label: string;
  colour: string;
  main: boolean;
  values: (number | null)[];
}

interface ChartSpec {
  id: string;
  title: string;
  /** The y axis's unit, as its label shows it. */
  unit: string;
  lines: Line[];
}

type SeriesVersion = ReportSeries["versions"][number];

function specs(series: ReportSeries, main: string, steps: number[]): ChartSpec[] {
  const pick = <T>(values: readonly T[] | undefined, fill: T) => steps.map((index) => values?.[index] ?? fill);
  const shadows = series.versions.filter((entry) => entry.version !== main);
  // Main's line is its own traffic (every request it served, whichever version was main), so it is
  // there with or without shadows and goes on across a promotion. An older gateway's series has no
  // `main`: then main's side of its widest shadow stands in.
  const own = series.main;
  const fromShadows = series.versions.find((entry) => entry.version === main);
  const mainEntry: SeriesVersion | undefined = own
    ? { version: main, requests: own.requests, p99Ms: own.p99Ms }
    : fromShadows;
  // A shadow keeps its colour in every chart; main has its own, and comes last so it is drawn on top.
  const colourOf = (entry: SeriesVersion) =>
    SHADOW_COLOURS[shadows.indexOf(entry) % SHADOW_COLOURS.length] ?? SHADOW_COLOURS[0] ?? "#000";
  const line = (entry: SeriesVersion, values: (number | null)[]): Line =>
    entry === mainEntry
      ? { label: `${entry.version} (main)`, colour: MAIN_COLOUR, main: true, values }
      : { label: entry.version, colour: colourOf(entry), main: false, values };
  const mainLast = [...shadows, ...(mainEntry ? [mainEntry] : [])];
  const perMinute = 60 / series.stepSeconds;
  return [
    {
      id: "requests",
      title: "Requests per minute",
      unit: "requests/min",
      lines: mainLast.map((entry) =>
        line(
          entry,
          pick(entry.requests, 0).map((count) => count * perMinute),
        ),
      ),
    },
    {
      id: "difference",
      title: "Difference rate",
      unit: "% of compared",
      lines: shadows.map((entry) => {
        const compared = pick(entry.compared, 0);
        const different = pick(entry.different, 0);
        return line(
          entry,
          compared.map((count, index) => (count > 0 ? (100 * (different[index] ?? 0)) / count : null)),
        );
      }),
    },
    {
      id: "p99",
      title: "p99 latency",
      unit: "ms",
      lines: mainLast.map((entry) => line(entry, pick(entry.p99Ms, null))),
    },
  ];
}

function note(id: string, text: string): HTMLElement {
  return h("p", { class: "quiet chart-note", id }, text);
}

const PROMOTION_COLOUR = "#b91c1c";
const STEP_COLOUR = "#1f5fbf";

/** A vertical line on the charts: a promotion (the baseline changed) or a rollout step (the canary share did). */
interface Marker {
  at: number;
  colour: string;
}

/** When a running rollout's canary share changed, as a chart marks it. */
interface StepMark {
  at: string;
  percent: number;
}

/** The canary's share at each step of the rollout, said in words beside the lines that mark them. */
function stepNote(steps: { at: number; percent: number }[]): HTMLElement {
  return h(
    "p",
    { class: "chart-note steps", id: "rollout-steps-note" },
    h("span", { class: "step-key", "aria-hidden": "true" }, "┃ "),
    steps.map((step) => `canary ${step.percent} % from ${localTimestamp(new Date(step.at * 1000))}`).join("; "),
  );
}

/** Spacings of the time axis's ticks, in seconds: whole minutes, hours and days, so no two ticks read alike. */
const TICK_SECONDS = [60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800];

/** A chart with no point to draw (no compared request yet, no latency measured) says so in words. */
function emptyNote(spec: ChartSpec): string | undefined {
  const drawable = spec.lines.some((line) => line.values.some((value) => value !== null && value !== 0));
  if (drawable) return undefined;
  // The running minute is not drawn: what it holds appears when it ends.
  if (spec.id === "difference") return "No compared requests in the complete minutes yet: no difference rate to draw.";
  if (spec.id === "p99") return "No latency measured in the complete minutes yet.";
  return "No requests in the complete minutes yet.";
}

/** The baseline changed: who became main, and when, in the page's one time format. */
function promotionNote(promotions: { at: number; main: string }[]): HTMLElement {
  return h(
    "p",
    { class: "chart-note promotions", id: "promotions" },
    h("span", { class: "promotion-key", "aria-hidden": "true" }, "┃ "),
    promotions
      .map(
        (p) => `${p.main} became main at ${localTimestamp(new Date(p.at * 1000))}; shadows are compared with it since`,
      )
      .join(". "),
  );
}

/** A dashed vertical line at each promotion and rollout step inside the plotted time range. */
function mark(plot: uPlot, markers: readonly Marker[]): void {
  const { ctx, bbox } = plot;
  const [min, max] = [plot.scales.x?.min, plot.scales.x?.max];
  if (min === undefined || max === undefined) return;
  ctx.save();
  ctx.lineWidth = 2 * devicePixelRatio;
  ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
  for (const { at, colour } of markers) {
    if (at < min || at > max) continue;
    const x = plot.valToPos(at, "x", true);
    ctx.strokeStyle = colour;
    ctx.beginPath();
    ctx.moveTo(x, bbox.top);
    ctx.lineTo(x, bbox.top + bbox.height);
    ctx.stroke();
  }
  ctx.restore();
}

/**
 * Draws the charts into `host`; the old ones are destroyed first. Returns a cleanup. `rolloutSteps`,
 * when the name has a running rollout, marks where each step's canary share began.
 */
export function drawCharts(host: HTMLElement, report: Report, rolloutSteps: readonly StepMark[] = []): () => void {
  host.replaceChildren();
  const series = report.series;
  if (!series || series.versions.length === 0) {
    host.append(note("no-series", "No per-minute data in this report, so no charts."));
    return () => {};
  }
  const steps = fromFirstTraffic(series, completeSteps(series, report.window));
  const noShadows = !series.versions.some((entry) => entry.version !== report.main);
  const promotions = (series.promotions ?? []).map((p) => ({ at: Date.parse(p.at) / 1000, main: p.main }));
  if (noShadows) {
    host.append(
      note(
        "no-shadows",
        `${report.name} has no shadows: nothing is mirrored or compared, so there is no difference rate to chart.`,
      ),
    );
  }
  const from = Date.parse(series.from);
  const stepMs = series.stepSeconds * 1000;
  const times = steps.map((index) => (from + index * stepMs) / 1000);
  const lastEnd = steps.length > 0 ? new Date(from + ((steps.at(-1) ?? 0) + 1) * stepMs) : undefined;
  if (promotions.length > 0) host.append(promotionNote(promotions));
  const stepMarks = rolloutSteps.map((step) => ({ at: Date.parse(step.at) / 1000, percent: step.percent }));
  if (stepMarks.length > 0) host.append(stepNote(stepMarks));
  const markers: Marker[] = [
    ...promotions.map((p) => ({ at: p.at, colour: PROMOTION_COLOUR })),
    ...stepMarks.map((step) => ({ at: step.at, colour: STEP_COLOUR })),
  ];
  const zone = zoneName();
  const multiDay = Date.parse(report.window.to) - Date.parse(report.window.from) > 24 * 3600_000;
  const tick = (seconds: number) => {
    const date = new Date(seconds * 1000);
    const clock = localClock(date, false);
    return multiDay
      ? `${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")} ${clock}`
      : clock;
  };
  const tickSteps = TICK_SECONDS.filter((seconds) => seconds >= series.stepSeconds);
  const width = Math.max(260, Math.min(host.clientWidth || 600, 1200));
  // Without shadows the difference chart has no line; main's traffic and latency are still drawn.
  const drawn = specs(series, report.main, steps).filter((spec) => spec.lines.length > 0);
  if (steps.length === 0) {
    host.append(
      note(
        "no-complete-step",
        "The charts show complete minutes only, and none has ended in this window yet: the first point appears when this minute ends.",
      ),
    );
    return () => {};
  }
  const plots = drawn.map((spec) => {
    const empty = emptyNote(spec);
    const figure = h(
      "figure",
      {
        class: "chart",
        "data-chart": spec.id,
        "data-y-unit": spec.unit,
        "data-x-unit": `local time (${zone})`,
        "data-last-step-end": lastEnd?.toISOString(),
        "data-first-step-start": times[0] === undefined ? undefined : new Date(times[0] * 1000).toISOString(),
        "data-promotions": promotions.map((p) => `${new Date(p.at * 1000).toISOString()} ${p.main}`).join(", "),
        "data-rollout-steps": stepMarks.map((m) => `${new Date(m.at * 1000).toISOString()} ${m.percent}`).join(", "),
        "data-empty": empty === undefined ? undefined : "true",
        "aria-label": `${spec.title}, in ${spec.unit}, against local time (${zone}), complete ${series.stepSeconds / 60}-minute steps up to ${lastEnd ? localTimestamp(lastEnd) : "now"}`,
      },
      h("figcaption", {}, spec.title),
      empty === undefined ? "" : h("p", { class: "quiet chart-note chart-empty" }, empty),
    );
    host.append(figure);
    const data: uPlot.AlignedData = [times, ...spec.lines.map((entry) => entry.values)];
    return new uPlot(
      {
        width,
        height: 200,
        series: [
          {
            value: (_: uPlot, seconds: number | null) =>
              seconds === null ? "—" : localTimestamp(new Date(seconds * 1000)),
          },
          ...spec.lines.map((entry) => ({
            label: entry.label,
            stroke: entry.colour,
            width: entry.main ? 3 : 2,
            ...(entry.main ? { dash: [8, 4] } : {}),
            value: (_: uPlot, value: number | null) =>
              value === null ? "—" : `${Number(value.toFixed(2))} ${spec.unit}`,
          })),
        ],
        // A promotion changed the baseline, or a rollout step the canary share: a vertical line then, on every chart.
        hooks: { draw: [(plot: uPlot) => mark(plot, markers)] },
        // Up to the end of the last complete step, so a promotion inside it is on the chart.
        scales: {
          x: {
            time: true,
            range: (_: uPlot, min: number, max: number) => [min, Math.max(max, (lastEnd?.getTime() ?? 0) / 1000)],
          },
        },
        axes: [
          {
            label: `Local time (${zone})`,
            // Ticks on whole steps only: a tick every 15 s would print each minute's HH:MM four times.
            incrs: tickSteps,
            values: (_: uPlot, ticks: number[]) => {
              const labels = ticks.map(tick);
              figure.dataset.xTicks = labels.join(", ");
              return labels;
            },
          },
          { label: spec.unit, size: 56 },
        ],
      },
      data,
      figure,
    );
  });
  return () => {
    for (const plot of plots) plot.destroy();
  };
}
