import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import type { CapturedExchange } from "../../src/capture/record.ts";
import { api } from "./admin-client.ts";
import { deploy, GATEWAY, uniqueName, withVars } from "./proxy-helpers.ts";
import { bucketOf, capturedRequests, captures, eventually, sendGets, setCapture } from "./replay-support.ts";

const origins = inject("origins");
const HOUR = 3_600_000;

describe("capture's bounds", () => {
  it("never keeps more bytes in an hour than CAPTURE_MAX_BYTES_PER_HOUR, and counts what it drops", async () => {
    const name = uniqueName("capbound");
    await deploy(name, "1.0.0", origins.v1);
    await setCapture(name, { percent: 100 });
    const bound = 6_000;
    const send = async (path: string, init?: RequestInit) => {
      const { response } = await withVars(
        { CAPTURE_MAX_BYTES_PER_HOUR: String(bound) },
        new Request(`${GATEWAY}${path}`, init),
      );
      return response;
    };
    await sendGets(name, 40, send);
    const view = await eventually("40 captures kept or dropped", async () => {
      const seen = await captures(name);
      return seen.total.requests + seen.total.dropped >= 40 ? seen : undefined;
    });
    expect(view.total.dropped).toBeGreaterThan(0);
    expect(view.total.requests).toBeGreaterThan(0);
    for (const window of view.windows) expect(window.bytes).toBeLessThanOrEqual(bound);
    // What R2 holds agrees, byte for byte.
    const objects = await bucketOf(name);
    const stored = objects.reduce((sum, object) => sum + object.size, 0);
    expect(stored).toBeLessThanOrEqual(bound);
    expect(stored).toBe(view.total.bytes);
  }, 30_000);

  it("prunes captures older than retentionHours, by the log's alarm", async () => {
    const name = uniqueName("capprune");
    await deploy(name, "1.0.0", origins.v1);
    await setCapture(name, { percent: 100, retentionHours: 1 });
    await sendGets(name, 5);
    await capturedRequests(name, 5);
    const log = env.CAPTURE_LOG.getByName(name);
    // The alarm is set for when the newest of these is an hour old (or sooner).
    const alarm = await runInDurableObject(log, (_instance, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm ?? 0).toBeGreaterThan(Date.now() + HOUR - 60_000);
    expect(alarm ?? 0).toBeLessThanOrEqual(Date.now() + HOUR);

    // A capture from three hours ago is past the hour kept: the alarm deletes it from R2, and its hour.
    const [line] = (await bucketOf(name))[0]?.text.split("\n") ?? [];
    const old: CapturedExchange = { ...JSON.parse(line ?? "{}"), at: Date.now() - 3 * HOUR };
    await log.add(name, { exchanges: [old], dropped: 0, maxBytesPerHour: 1_000_000, retentionHours: 1 });
    expect((await captures(name)).windows).toHaveLength(2);
    expect(await bucketOf(name)).toHaveLength(2);
    expect(await runDurableObjectAlarm(log)).toBe(true);
    const after = await captures(name);
    expect(after.windows).toHaveLength(1);
    expect(after.total.requests).toBe(5);
    const left = await bucketOf(name);
    expect(left).toHaveLength(1);
    expect(left[0]?.text).not.toContain(`"at":${old.at}`);
  }, 30_000);

  it("is deleted with the name: killing its last version empties its part of the bucket", async () => {
    const name = uniqueName("capkill");
    await deploy(name, "1.0.0", origins.v1);
    await setCapture(name, { percent: 100 });
    await sendGets(name, 5);
    await capturedRequests(name, 5);
    expect((await bucketOf(name)).length).toBeGreaterThan(0);
    expect((await api("DELETE", `/services/${name}/1.0.0`)).status).toBe(200);
    expect(await bucketOf(name)).toHaveLength(0);
    expect((await captures(name)).windows ?? []).toHaveLength(0);
    // Deployed again, the name starts with nothing kept.
    await deploy(name, "1.0.0", origins.v1);
    expect((await captures(name)).total).toEqual({ requests: 0, bytes: 0, dropped: 0 });
  }, 30_000);

  it("is off by default: nothing is captured", async () => {
    const name = uniqueName("capoff");
    await deploy(name, "1.0.0", origins.v1);
    expect((await api("GET", `/services/${name}/policy`)).body).toMatchObject({ capture: null });
    await sendGets(name, 5);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await captures(name)).total.requests).toBe(0);
    expect(await bucketOf(name)).toHaveLength(0);
  }, 30_000);
});
