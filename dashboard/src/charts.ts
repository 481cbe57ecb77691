// Charts over the window with uPlot, drawn from the report's per-minute series. What an operator
// reads off them must hold: only complete steps are drawn (a running minute would fall towards 0),
// every axis says its unit, main is drawn last and distinct so a shadow on the same count never
// hides it, and times are local with the zone, as everywhere on the page.
import uPlot from "uplot";
import type { Report, ReportSeries } from "./api.ts";
import { h, localClock, localTimestamp, zoneName } from "./dom.ts";
import { completeSteps } from "./steps.ts";

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
  const mainEntry = series.versions.find((entry) => entry.version === main);
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

const hasData = (spec: ChartSpec) =>
  spec.lines.some((entry) => entry.values.some((value) => value !== null && value > 0));

function note(id: string, text: string): HTMLElement {
  return h("p", { class: "quiet chart-note", id }, text);
}

/** Draws the charts into `host`; the old ones are destroyed first. Returns a cleanup. */
export function drawCharts(host: HTMLElement, report: Report): () => void {
  host.replaceChildren();
  const series = report.series;
  if (!series || series.versions.length === 0) {
    host.append(note("no-series", "No per-minute data in this report, so no charts."));
    return () => {};
  }
  const steps = completeSteps(series, report.window);
  const noShadows = !series.versions.some((entry) => entry.version !== report.main);
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
  const zone = zoneName();
  const multiDay = Date.parse(report.window.to) - Date.parse(report.window.from) > 24 * 3600_000;
  const tick = (seconds: number) => {
    const date = new Date(seconds * 1000);
    const clock = localClock(date, false);
    return multiDay
      ? `${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")} ${clock}`
      : clock;
  };
  const width = Math.max(260, Math.min(host.clientWidth || 600, 1200));
  const drawn = specs(series, report.main, steps).filter((spec) => (noShadows ? hasData(spec) : spec.lines.length > 0));
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
    const figure = h(
      "figure",
      {
        class: "chart",
        "data-chart": spec.id,
        "data-y-unit": spec.unit,
        "data-x-unit": `local time (${zone})`,
        "data-last-step-end": lastEnd?.toISOString(),
        "aria-label": `${spec.title}, in ${spec.unit}, against local time (${zone}), complete ${series.stepSeconds / 60}-minute steps up to ${lastEnd ? localTimestamp(lastEnd) : "now"}`,
      },
      h("figcaption", {}, spec.title),
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
        axes: [
          { label: `Local time (${zone})`, values: (_: uPlot, ticks: number[]) => ticks.map(tick) },
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
