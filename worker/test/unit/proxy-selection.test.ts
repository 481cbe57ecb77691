import { describe, expect, it } from "vitest";
import { PAUSE_AFTER_FAILURES, ShadowPauses } from "../../src/proxy/pause.ts";
import { isSampled, requestBucket } from "../../src/proxy/sampling.ts";
import { pauseKey, type ShadowControls, selectShadows } from "../../src/proxy/selection.ts";

const shadow = (version: string, controls: Partial<ShadowControls> = {}): ShadowControls => ({
  version,
  origin: `http://127.0.0.1:9/${version}`,
  status: "running",
  mirrorPercent: 100,
  mirrorMethods: null,
  canaryPercent: 0,
  canaryKey: null,
  ...controls,
});

const versions = (list: { version: string }[]) => list.map((s) => s.version);

describe("selectShadows", () => {
  it("sends to every running shadow by default", () => {
    const picked = selectShadows(
      "s",
      [shadow("2.0.0"), shadow("3.0.0", { status: "unknown" })],
      { method: "POST", requestId: "r" },
      new ShadowPauses(),
    );
    expect(versions(picked.send)).toEqual(["2.0.0", "3.0.0"]);
    expect(picked.skipped).toEqual([]);
  });

  it("skips unreachable shadows, methods not listed, and requests sampled out, saying why", () => {
    const requestId = Array.from({ length: 100 }, (_, i) => `id-${i}`).find((id) => !isSampled(requestBucket(id), 50));
    if (requestId === undefined) throw new Error("no id outside 50 % in 100 tries");
    const picked = selectShadows(
      "s",
      [
        shadow("1.1.0", { status: "unreachable" }),
        shadow("1.2.0", { mirrorMethods: ["GET", "HEAD"] }),
        shadow("1.3.0", { mirrorPercent: 50 }),
        shadow("1.4.0", { mirrorMethods: ["POST"] }),
      ],
      { method: "POST", requestId },
      new ShadowPauses(),
    );
    expect(versions(picked.send)).toEqual(["1.4.0"]);
    expect(picked.skipped).toEqual([
      { version: "1.1.0", reason: "unreachable" },
      { version: "1.2.0", reason: "method" },
      { version: "1.3.0", reason: "sampled out" },
    ]);
  });

  it("skips a paused shadow without spending its trial copy on a request it would not get anyway", () => {
    const pauses = new ShadowPauses(() => 0);
    const dead = shadow("2.0.0", { mirrorMethods: ["GET"] });
    for (let i = 0; i < PAUSE_AFTER_FAILURES; i++) pauses.report(pauseKey("s", dead), false);
    const post = selectShadows("s", [dead], { method: "POST", requestId: "r" }, pauses);
    expect(post.skipped).toEqual([{ version: "2.0.0", reason: "method" }]);
    const get = selectShadows("s", [dead], { method: "GET", requestId: "r" }, pauses);
    expect(get.skipped).toEqual([{ version: "2.0.0", reason: "paused" }]);
  });
});
