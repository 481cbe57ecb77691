import { afterEach, describe, expect, it, vi } from "vitest";
import { prometheusTool } from "../support/prometheus-tools.ts";

// Whether the Prometheus tests run: skipped with a reason on a developer machine without the
// binaries, but never silently in CI, where .ci/run installs them.
describe("prometheusTool", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it("skips with a printed reason when the binary is absent and CI is not set", () => {
    vi.stubEnv("PATH", "/nonexistent");
    vi.stubEnv("CI", "");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expect(prometheusTool("promtool")).toEqual({
      skipReason: "promtool is not installed (apt-get install -y prometheus)",
    });
    expect(warn).toHaveBeenCalledWith(
      "Skipping the promtool tests: promtool is not installed (apt-get install -y prometheus)",
    );
  });

  it("fails under CI when the binary is absent", () => {
    vi.stubEnv("PATH", "/nonexistent");
    vi.stubEnv("CI", "true");
    expect(() => prometheusTool("prometheus")).toThrow(
      "prometheus is not installed (apt-get install -y prometheus), and CI must run the Prometheus tests; .ci/run installs it",
    );
  });
});
