// A running rollout of the open name: its steps, the current step's verdict so far, the time left, and Abort.
import type { ActionContext } from "./actions.ts";
import { callApi, describeFailure, enc, type RolloutView } from "./api.ts";
import { h, replaceChildren } from "./dom.ts";

function timeLeft(rollout: RolloutView, now: Date): string {
  const ms = Date.parse(rollout.stepEndsAt) - now.getTime();
  return ms > 0 ? `${Math.ceil(ms / 60_000)} min left in this step` : "step time is up; waiting for a pass";
}

export function rolloutPanel(rollout: RolloutView, now: Date, context: ActionContext): HTMLElement {
  const message = h("div", { class: "message error", role: "alert" });
  const current = rollout.current;
  const sofar = current ? `${current.verdict ?? "no verdict"} so far` : "";
  const steps = rollout.steps.map((percent, i) => {
    const result = rollout.results[i];
    const state = result ? result.verdict : i === rollout.step ? "running" : "waiting";
    // The running step also shows where its verdict stands now, as the cron's next look would judge it.
    const now = state === "running" && current ? (current.verdict ?? "unknown") : undefined;
    return h(
      "li",
      {
        class: `step ${state}${now ? ` now-${now}` : ""}`,
        "data-step": String(i + 1),
        "data-state": state,
        "data-verdict": now,
      },
      `${percent} % · ${state}${now ? `, ${sofar}` : ""}`,
    );
  });
  // Hidden with the read token, like every control that changes something.
  const abort = h(
    "button",
    { type: "button", class: "danger", id: "abort-rollout", "data-write": true },
    "Abort rollout",
  );
  abort.addEventListener("click", async () => {
    if (!confirm(`Abort the rollout of ${rollout.name} ${rollout.version}? Its canary share goes back to 0 %.`)) return;
    abort.disabled = true;
    try {
      await callApi(context.token, "DELETE", `/services/${enc(rollout.name)}/rollout`);
      context.done(`Rollout of ${rollout.name} ${rollout.version} aborted; its canary share is back to 0 %.`);
    } catch (error) {
      replaceChildren(message, describeFailure(error));
      abort.disabled = false;
    }
  });
  const last = rollout.results.at(-1);
  return h(
    "section",
    { class: "rollout-panel", id: "rollout", "aria-label": `Rollout of ${rollout.version}` },
    h("h3", {}, `Rollout of ${rollout.version}: canary ${rollout.percent} %`),
    h("ol", { class: "rollout-steps" }, steps),
    current
      ? h(
          "p",
          { class: "rollout-current" },
          `This step ${sofar}: `,
          current.reasons.join("; ") || "no reason given",
          ".",
        )
      : "",
    h(
      "p",
      { class: "rollout-progress" },
      `Step ${rollout.step + 1} of ${rollout.steps.length}, ${timeLeft(rollout, now)}`,
      last ? `; last verdict ${last.verdict} at ${last.percent} %` : "",
      `. Next: ${rollout.nextAction}.`,
    ),
    message,
    abort,
  );
}
