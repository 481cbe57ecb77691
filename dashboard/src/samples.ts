// Sampled exchanges of one shadow: main's answer beside the shadow's, with the differing paths marked.

// The comparison's own path grammar, so a line's path is the one a difference names (ids folded to `*`).
import { isWithin, segmentOf as segment } from "../../worker/src/evidence/paths.ts";
import type { ExchangeSample } from "./api.ts";
import { h, localTimestamp } from "./dom.ts";

type Side = ExchangeSample["main"];

/** A path is marked when it differs itself, or lies inside or above something that differs. */
function marked(path: string, paths: readonly string[]): boolean {
  return paths.some((diff) => isWithin(diff, path) || isWithin(path, diff));
}

interface Line {
  text: string;
  path: string;
}

/** Pretty JSON, one line per value, each line knowing its comparison path. */
function jsonLines(value: unknown, path: string, indent: string, key: string, last: boolean, out: Line[]): void {
  const comma = last ? "" : ",";
  if (Array.isArray(value)) {
    if (value.length === 0) {
      out.push({ text: `${indent}${key}[]${comma}`, path });
      return;
    }
    out.push({ text: `${indent}${key}[`, path });
    value.forEach((item, index) => {
      jsonLines(item, `${path}[]`, `${indent}  `, "", index === value.length - 1, out);
    });
    out.push({ text: `${indent}]${comma}`, path });
    return;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) {
      out.push({ text: `${indent}${key}{}${comma}`, path });
      return;
    }
    out.push({ text: `${indent}${key}{`, path });
    entries.forEach(([name, item], index) => {
      jsonLines(
        item,
        `${path}${segment(name)}`,
        `${indent}  `,
        `${JSON.stringify(name)}: `,
        index === entries.length - 1,
        out,
      );
    });
    out.push({ text: `${indent}}${comma}`, path });
    return;
  }
  out.push({ text: `${indent}${key}${JSON.stringify(value)}${comma}`, path });
}

function bodyView(side: Side, paths: readonly string[]): HTMLElement {
  let parsed: unknown;
  let isJson = false;
  try {
    parsed = JSON.parse(side.body);
    isJson = side.body.trim() !== "";
  } catch {
    isJson = false;
  }
  if (!isJson) {
    const whole = paths.includes("body");
    return h(
      "pre",
      { class: whole ? "body diff" : "body" },
      h("code", {}, side.body === "" ? "(empty body)" : side.body),
    );
  }
  const lines: Line[] = [];
  jsonLines(parsed, "body", "", "", true, lines);
  return h(
    "pre",
    { class: "body" },
    lines.map((line) => {
      const differs = line.path !== "body" && marked(line.path, paths);
      return h("span", { class: differs ? "line diff" : "line", "data-path": line.path }, `${line.text}\n`);
    }),
  );
}

function sideView(title: string, side: Side, paths: readonly string[]): HTMLElement {
  const headerNames = new Set(["content-type", ...paths.filter((p) => p.startsWith("header.")).map((p) => p.slice(7))]);
  return h(
    "div",
    { class: "side" },
    h("h4", {}, title),
    h("p", { class: paths.includes("status") ? "line diff" : "line" }, `status ${side.status}`),
    [...headerNames].map((name) =>
      h(
        "p",
        { class: paths.includes(`header.${name}`) ? "line diff" : "line" },
        `${name}: ${side.headers[name] ?? "(absent)"}`,
      ),
    ),
    bodyView(side, paths),
    side.truncated ? h("p", { class: "quiet" }, "Body cut to 8 KiB.") : "",
  );
}

export function sampleView(sample: ExchangeSample, version: string): HTMLElement {
  return h(
    "article",
    { class: "sample" },
    h(
      "p",
      { class: "request" },
      h("strong", {}, sample.method),
      " ",
      h("code", {}, sample.url),
      h(
        "span",
        { class: "quiet" },
        " at ",
        h("time", { datetime: sample.at }, localTimestamp(sample.at)),
        `, request ${sample.requestId}`,
      ),
    ),
    h(
      "p",
      {},
      "Differing paths: ",
      sample.paths.flatMap((path, index) => [index > 0 ? ", " : "", h("code", {}, path)]),
    ),
    h(
      "div",
      { class: "sides" },
      sideView("main", sample.main, sample.paths),
      sideView(version, sample.shadow, sample.paths),
    ),
  );
}
