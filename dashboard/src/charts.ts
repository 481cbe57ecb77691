// Charts over the window with uPlot, drawn from the report's per-minute series when it has one.
import uPlot from "uplot";
import type { Report, ReportSeries } from "./api.ts";
import { h } from "./dom.ts";

const COLOURS = ["#1f5fbf", "#c2410c", "#15803d", "#7e22ce", "#a16207", "#0e7490"];

interface ChartSpec {
  title: string;
  unit: string;
  lines: { label: string; colour: string; values: (number | null)[] }[];
}

function specs(series: ReportSeries, main: string): ChartSpec[] {
  // A version keeps its colour in every chart.
  const colourOf = (version: string) =>
    COLOURS[series.versions.findIndex((entry) => entry.version === version) % COLOURS.length] ?? "#000";
  const shadows = series.versions.filter((entry) => entry.version !== main);
  return [
    {
      title: "Requests per minute",
      unit: "requests",
      lines: series.versions.map((entry) => ({
        label: entry.version === main ? `${entry.version} (main)` : entry.version,
        colour: colourOf(entry.version),
        values: entry.requests.map((count) => (count * 60) / series.stepSeconds),
      })),
    },
    {
      title: "Difference rate",
      unit: "%",
      lines: shadows.map((entry) => ({
        label: entry.version,
        colour: colourOf(entry.version),
        values: (entry.compared ?? []).map((compared, index) =>
          compared > 0 ? (100 * (entry.different?.[index] ?? 0)) / compared : null,
        ),
      })),
    },
    {
      title: "p99 latency",
      unit: "ms",
      lines: series.versions.map((entry) => ({
        label: entry.version === main ? `${entry.version} (main)` : entry.version,
        colour: colourOf(entry.version),
        values: entry.p99Ms,
      })),
    },
  ];
}

/** Draws the charts into `host`; the old ones are destroyed first. Returns a cleanup. */
export function drawCharts(host: HTMLElement, report: Report): () => void {
  host.replaceChildren();
  const series = report.series;
  if (!series || series.versions.length === 0) {
    host.append(h("p", { class: "quiet", id: "no-series" }, "No per-minute data in this report, so no charts."));
    return () => {};
  }
  const start = Date.parse(series.from) / 1000;
  const points = Math.max(...series.versions.map((entry) => entry.requests.length));
  const times = Array.from({ length: points }, (_, index) => start + index * series.stepSeconds);
  const width = Math.max(260, Math.min(host.clientWidth || 600, 1200));
  const plots = specs(series, report.main).map((spec) => {
    const figure = h("figure", { class: "chart" }, h("figcaption", {}, spec.title));
    host.append(figure);
    const data: uPlot.AlignedData = [times, ...spec.lines.map((line) => line.values)];
    return new uPlot(
      {
        width,
        height: 180,
        series: [
          {},
          ...spec.lines.map((line) => ({
            label: line.label,
            stroke: line.colour,
            width: 2,
            value: (_: uPlot, value: number | null) =>
              value === null ? "—" : `${Number(value.toFixed(2))} ${spec.unit}`,
          })),
        ],
        axes: [{}, { size: 56 }],
      },
      data,
      figure,
    );
  });
  return () => {
    for (const plot of plots) plot.destroy();
  };
}
