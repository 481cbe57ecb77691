// The open name's replays, beside its rollout: each captured window replayed to one version, how far it
// has come, and the verdict on its own evidence (judged by the same judge as mirrored copies).
import { formatCount } from "../../worker/src/evidence/count.ts";
import type { ActionContext } from "./actions.ts";
import { callApi, describeFailure, enc, type ReplayView } from "./api.ts";
import { h, localTimestamp, replaceChildren } from "./dom.ts";

/** `120 of 240 sent (50 %) at 20/s, running`: what a replay has done, as its progress bar shows it. */
export function progressLine(replay: Pick<ReplayView, "sent" | "total" | "rate" | "state">): string {
  const share = replay.total > 0 ? ` (${Math.floor((replay.sent / replay.total) * 100)} %)` : "";
  return `${formatCount(replay.sent)} of ${formatCount(replay.total)} sent${share} at ${replay.rate}/s, ${replay.state}`;
}

function stopButton(replay: ReplayView, context: ActionContext, message: HTMLElement): HTMLElement {
  const stop = h(
    "button",
    { type: "button", class: "secondary small", "data-write": true, "data-focus-key": `stop-replay ${replay.id}` },
    "Stop",
  );
  stop.addEventListener("click", async () => {
    stop.disabled = true;
    try {
      await callApi(context.token, "DELETE", `/services/${enc(replay.name)}/replays/${enc(replay.id)}`);
      context.done(`Replay ${replay.id} to ${replay.name} ${replay.version} stopped.`);
    } catch (error) {
      replaceChildren(message, describeFailure(error));
      stop.disabled = false;
    }
  });
  return stop;
}

function replayItem(replay: ReplayView, context: ActionContext): HTMLElement {
  const { outcome, reasons } = replay.verdict;
  const message = h("div", { class: "message error", role: "alert" });
  return h(
    "li",
    { class: "replay", "data-replay": replay.id, "data-state": replay.state, "data-verdict": outcome },
    h(
      "p",
      { class: "replay-head" },
      h("strong", {}, `Replay to ${replay.version}`),
      " ",
      h("span", { class: `badge ${outcome}` }, outcome),
      " ",
      h("span", { class: "quiet" }, `captured ${localTimestamp(replay.from)} to ${localTimestamp(replay.to)}`),
    ),
    h(
      "p",
      { class: "replay-progress" },
      h("progress", { value: replay.sent, max: Math.max(replay.total, 1), "aria-label": `Replay ${replay.id} sent` }),
      " ",
      h("span", { class: "progress-text" }, progressLine(replay)),
      replay.stoppedBecause ? h("span", { class: "quiet" }, ` (${replay.stoppedBecause})`) : "",
      " ",
      replay.state === "running" ? stopButton(replay, context, message) : "",
    ),
    h(
      "ul",
      { class: "reasons" },
      reasons.map((reason) => h("li", {}, reason)),
    ),
    message,
  );
}

/** The name's replays, newest first; nothing when it has none. */
export function replaysPanel(replays: readonly ReplayView[] | undefined, context: ActionContext): HTMLElement | "" {
  if (!replays || replays.length === 0) return "";
  return h(
    "section",
    { class: "replays-panel", id: "replays", "aria-label": "Replays" },
    h("h3", {}, "Replays of captured traffic"),
    h(
      "ol",
      { class: "replays" },
      replays.map((replay) => replayItem(replay, context)),
    ),
  );
}
