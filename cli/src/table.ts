import type { ServiceRecord } from "./client.ts";
import { red } from "./colour.ts";

const SERVICE_TABLE_HEADERS = ["MAIN", "NAME", "VERSION", "STATUS", "RUNNING"] as const;

const COLUMN_SEPARATOR = "  ";
/** tabulate's "simple" format makes every column at least two wider than its header. */
const HEADER_PADDING = 2;

/**
 * A table in tabulate's "simple" format (what Daeploy prints): left-aligned columns, a dashes line
 * under the header, two spaces between columns, no trailing spaces.
 */
export function formatSimpleTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  /** Colours a body cell; widths are measured on the plain text, so colour never shifts a column. */
  paint: (cell: string, column: number) => string = (cell) => cell,
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length + HEADER_PADDING, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[], painted: boolean) =>
    widths
      .map((width, column) => {
        const cell = cells[column] ?? "";
        const padding = " ".repeat(width - cell.length);
        return `${painted && cell !== "" ? paint(cell, column) : cell}${padding}`;
      })
      .join(COLUMN_SEPARATOR)
      .trimEnd();
  return [
    line(headers, false),
    line(
      widths.map((width) => "-".repeat(width)),
      false,
    ),
    ...rows.map((row) => line(row, true)),
  ].join("\n");
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** `YYYY-MM-DD HH:MM:SS` in the local time zone (TZ), as Daeploy shows container start times. */
export function formatLocalTimestamp(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const day = `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}`;
  return `${day} ${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
}

const RUNNING_LABELS: Record<ServiceRecord["status"], string> = {
  running: "Running",
  unreachable: "Unreachable",
  unknown: "Unknown",
};

function serviceRow(record: ServiceRecord): string[] {
  return [
    record.main ? "*" : "",
    record.name,
    record.version,
    record.status,
    `${RUNNING_LABELS[record.status]} (since ${formatLocalTimestamp(record.statusSince)})`,
  ];
}

const STATUS_COLUMN = SERVICE_TABLE_HEADERS.indexOf("STATUS");

/** With `colour` (a terminal), an `unreachable` STATUS is red so a dead origin stands out. */
export const formatServiceTable = (
  records: readonly ServiceRecord[],
  { colour = false }: { colour?: boolean } = {},
): string =>
  formatSimpleTable(SERVICE_TABLE_HEADERS, records.map(serviceRow), (cell, column) =>
    colour && column === STATUS_COLUMN && cell === "unreachable" ? red(cell) : cell,
  );
