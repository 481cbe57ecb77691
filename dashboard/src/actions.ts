// Promote, kill and mirror settings: each opens a modal dialog, which the refresh never touches.
import {
  ApiError,
  type AssignResult,
  callApi,
  describeFailure,
  enc,
  type ServiceRecord,
  type ShadowReport,
} from "./api.ts";
import { h, replaceChildren } from "./dom.ts";

export interface ActionContext {
  token: string;
  /** Called after a change went through, with a line for the notice area. */
  done(message: string): void;
}

export function openDialog(title: string, ...content: (Node | string)[]): HTMLDialogElement {
  const dialog = h("dialog", { "aria-labelledby": "dialog-title" }, h("h2", { id: "dialog-title" }, title), ...content);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

const cancelButton = (dialog: HTMLDialogElement) =>
  h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, "Cancel");

function verdictBlock(verdict: Pick<ShadowReport, "verdict" | "reasons"> | undefined): HTMLElement {
  if (!verdict)
    return h("p", { class: "gate" }, "No evidence for this version yet: the gate will call it inconclusive.");
  return h(
    "div",
    { class: "gate" },
    h("p", {}, "Gate verdict (this window): ", h("span", { class: `badge ${verdict.verdict}` }, verdict.verdict)),
    h(
      "ul",
      { class: "reasons" },
      verdict.reasons.map((reason) => h("li", {}, reason)),
    ),
  );
}

/** The one word for promoting over a failing gate, the same as the API's `force` and the CLI's `--force`. */
const FORCE_LABEL = "Force the promotion";

/**
 * Promote a shadow. Over a `fail` verdict there is no plain Promote: the only action is to force the
 * promotion, after ticking a confirmation. The gate's reasons are shown once, in the verdict block; a
 * refusal the dialog did not expect (the evidence changed since the page was drawn) replaces that
 * block with the gateway's reasons instead of adding a second list.
 */
export function promoteDialog(context: ActionContext, name: string, version: string, evidence?: ShadowReport): void {
  const message = h("div", { class: "message error", role: "alert" });
  const gate = verdictBlock(evidence);
  const buttons = h("div", { class: "buttons" });
  const dialog = openDialog(
    evidence?.verdict === "fail" ? `Force ${name} ${version} to main?` : `Promote ${name} ${version} to main?`,
    gate,
    h("p", {}, "The gateway checks the verdict over the last hour again when you promote."),
    message,
    buttons,
  );

  const send = async (force: boolean) => {
    try {
      const outcome = await callApi<AssignResult>(context.token, "PUT", `/services/${enc(name)}/main`, {
        version,
        ...(force ? { force: true } : {}),
      });
      dialog.close();
      const warning = outcome.warning ? ` ${outcome.warning}` : "";
      context.done(
        outcome.changed ? `${name} ${version} is now main.${warning}` : `${name} ${version} already was main.`,
      );
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && error.code === "gate_failed") {
        gate.replaceWith(verdictBlock({ verdict: "fail", reasons: error.reasons }));
        offerForce();
      } else if (error instanceof ApiError && error.status === 409 && error.code === "evidence_unavailable") {
        // The gate fails closed when it cannot read the evidence; forcing is the way through, unchecked.
        offerForce(`${error.message}.`);
      } else {
        replaceChildren(message, describeFailure(error));
      }
    }
  };

  // Forcing needs a second, explicit step: the confirmation must be ticked before the button works.
  const offerForce = (
    why = `${version} fails the promotion gate (reasons above). You can force the promotion anyway.`,
  ) => {
    const confirm = h("input", { type: "checkbox", id: "force-confirm" });
    const force = h("button", { type: "button", class: "danger", disabled: true }, `${FORCE_LABEL} of ${version}`);
    confirm.addEventListener("change", () => {
      force.disabled = !confirm.checked;
    });
    force.addEventListener("click", () => {
      force.disabled = true;
      void send(true).finally(() => {
        force.disabled = !confirm.checked;
      });
    });
    replaceChildren(message, h("p", {}, why));
    message.className = "message error force";
    replaceChildren(
      buttons,
      h(
        "p",
        { class: "confirm" },
        confirm,
        h("label", { for: "force-confirm" }, `I have read why and want ${version} to take main's traffic anyway`),
      ),
      force,
      cancelButton(dialog),
    );
    confirm.focus();
  };

  if (evidence?.verdict === "fail") {
    offerForce();
    return;
  }
  const promote = h("button", { type: "button", class: "danger" }, `Promote ${version}`);
  promote.addEventListener("click", () => {
    promote.disabled = true;
    void send(false).finally(() => {
      promote.disabled = false;
    });
  });
  buttons.append(promote, cancelButton(dialog));
}

export function killDialog(context: ActionContext, record: ServiceRecord): void {
  const message = h("div", { class: "message error", role: "alert" });
  const kill = h("button", { type: "button", class: "danger" }, `Kill ${record.version}`);
  const dialog = openDialog(
    `Kill ${record.name} ${record.version}?`,
    h(
      "p",
      {},
      `The gateway forgets this ${record.main ? "main" : "shadow"} version and stops sending it traffic. Its origin keeps running.`,
    ),
    message,
    h("div", { class: "buttons" }, kill),
  );
  kill.parentElement?.append(cancelButton(dialog));
  kill.addEventListener("click", async () => {
    kill.disabled = true;
    try {
      await callApi(context.token, "DELETE", `/services/${enc(record.name)}/${enc(record.version)}`);
      dialog.close();
      context.done(`Service ${record.name} ${record.version} killed.`);
    } catch (error) {
      replaceChildren(message, describeFailure(error));
      kill.disabled = false;
    }
  });
}

export function mirrorDialog(context: ActionContext, record: ServiceRecord): void {
  const message = h("div", { class: "message error", role: "alert" });
  const percentInput = h("input", {
    id: "mirror-percent",
    type: "number",
    min: 0,
    max: 100,
    step: 0.01,
    value: record.mirrorPercent,
    required: true,
  });
  const methodsInput = h("input", {
    id: "mirror-methods",
    type: "text",
    value: record.mirrorMethods?.join(",") ?? "",
    placeholder: "all methods",
  });
  const save = h("button", { type: "submit" }, "Save");
  const form = h(
    "form",
    { class: "mirror-form" },
    h("label", { for: "mirror-percent" }, "Share of requests copied to this shadow (%)"),
    percentInput,
    h("label", { for: "mirror-methods" }, "Methods copied (comma-separated, empty for all)"),
    methodsInput,
    message,
    h("div", { class: "buttons" }, save),
  );
  const dialog = openDialog(`Traffic for ${record.name} ${record.version}`, form);
  save.parentElement?.append(cancelButton(dialog));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const methods = methodsInput.value
      .split(",")
      .map((method) => method.trim().toUpperCase())
      .filter((method) => method !== "");
    save.disabled = true;
    try {
      await callApi(context.token, "PATCH", `/services/${enc(record.name)}/${enc(record.version)}`, {
        mirrorPercent: percentInput.valueAsNumber,
        mirrorMethods: methods.length > 0 ? methods : null,
      });
      dialog.close();
      context.done(`${record.name} ${record.version} now receives ${percentInput.valueAsNumber}% of requests.`);
    } catch (error) {
      replaceChildren(message, describeFailure(error));
      save.disabled = false;
    }
  });
}
