import { afterEach, describe, expect, it } from "vitest";
import type { ServiceRecord } from "../../src/client.ts";
import { formatLocalTimestamp, formatServiceTable, formatSimpleTable } from "../../src/table.ts";

const record = (overrides: Partial<ServiceRecord>): ServiceRecord => ({
  name: "hello",
  version: "1.0.0",
  origin: "https://hello-v1.example.com",
  main: true,
  status: "running",
  statusSince: "2026-11-26T11:30:00.000Z",
  createdAt: "2026-11-26T11:30:00.000Z",
  mirrorPercent: 100,
  mirrorMethods: null,
  stripHeaders: [],
  canaryPercent: 0,
  canaryKey: null,
  canaryWrites: false,
  forwardAccess: false,
  ...overrides,
});

describe("the service table (Daeploy's tabulate 'simple' format)", () => {
  const originalTz = process.env.TZ;
  afterEach(() => {
    process.env.TZ = originalTz;
  });

  it("prints the issue's example byte for byte", () => {
    process.env.TZ = "UTC";
    expect(formatServiceTable([record({})])).toBe(
      [
        "MAIN    NAME    VERSION    STATUS    RUNNING",
        "------  ------  ---------  --------  -----------------------------------",
        "*       hello   1.0.0      running   Running (since 2026-11-26 11:30:00)",
      ].join("\n"),
    );
  });

  it("widens a column to its longest cell, marks only main, and names each status in RUNNING", () => {
    process.env.TZ = "UTC";
    const table = formatServiceTable([
      record({ name: "a_long_service_name", version: "10.20.30-rc.1", status: "unreachable" }),
      record({ name: "a_long_service_name", version: "1.0.0", main: false, status: "unknown" }),
    ]);
    expect(table.split("\n")).toEqual([
      "MAIN    NAME                 VERSION        STATUS       RUNNING",
      "------  -------------------  -------------  -----------  ---------------------------------------",
      "*       a_long_service_name  10.20.30-rc.1  unreachable  Unreachable (since 2026-11-26 11:30:00)",
      "        a_long_service_name  1.0.0          unknown      Unknown (since 2026-11-26 11:30:00)",
    ]);
  });

  it("prints only the header and the dashes when there is nothing to list", () => {
    expect(formatServiceTable([])).toBe(
      "MAIN    NAME    VERSION    STATUS    RUNNING\n------  ------  ---------  --------  ---------",
    );
  });

  it("on a terminal, colours an unreachable STATUS red without moving any column", () => {
    process.env.TZ = "UTC";
    const records = [record({ status: "unreachable" }), record({ version: "2.0.0", main: false })];
    const plain = formatServiceTable(records, { colour: false });
    const coloured = formatServiceTable(records, { colour: true });
    expect(plain).not.toContain("\u001B[");
    expect(formatServiceTable(records)).toBe(plain);
    expect(coloured.split("\n")[2]).toBe(
      "*       hello   1.0.0      \u001B[31munreachable\u001B[39m  Unreachable (since 2026-11-26 11:30:00)",
    );
    expect(coloured.replaceAll("\u001B[31m", "").replaceAll("\u001B[39m", "")).toBe(plain);
    expect(coloured.split("\n")[3]).not.toContain("\u001B[");
  });

  it("never leaves trailing spaces, even when the last column is empty", () => {
    const table = formatSimpleTable(["A", "B"], [["x", ""]]);
    expect(table).toBe("A    B\n---  ---\nx");
  });

  it("shows times in the local time zone", () => {
    process.env.TZ = "Asia/Tokyo";
    expect(formatLocalTimestamp("2026-11-26T23:30:05.000Z")).toBe("2026-11-27 08:30:05");
    process.env.TZ = "UTC";
    expect(formatLocalTimestamp("2026-11-26T23:30:05.000Z")).toBe("2026-11-26 23:30:05");
  });
});
