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

function openDialog(title: string, ...content: (Node | string)[]): HTMLDialogElement {
  const dialog = h("dialog", { "aria-labelledby": "dialog-title" }, h("h2", { id: "dialog-title" }, title), ...content);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

const cancelButton = (dialog: HTMLDialogElement) =>
  h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, "Cancel");

function verdictBlock(verdict: ShadowReport | undefined | null): HTMLElement {
  if (!verdict) return h("p", {}, "No evidence for this version yet: the gate will call it inconclusive.");
  return h(
    "div",
    { class: "gate" },
    h("p", {}, "Gate verdict (this window): ", h("span", { class: `badge ${verdict.verdict}` }, verdict.verdict)),
    h(
      "ul",
      {},
      verdict.reasons.map((reason) => h("li", {}, reason)),
    ),
  );
}

export function promoteDialog(context: ActionContext, name: string, version: string, evidence?: ShadowReport): void {
  const message = h("div", { class: "message error", role: "alert" });
  const promote = h("button", { type: "button", class: "danger" }, `Promote ${version}`);
  const dialog = openDialog(
    `Promote ${name} ${version} to main?`,
    verdictBlock(evidence),
    h("p", {}, "The gateway checks the verdict over the last hour again when you promote."),
    message,
    h("div", { class: "buttons" }, promote, ""),
  );
  const buttons = promote.parentElement;
  buttons?.append(cancelButton(dialog));

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
      // A failing verdict, or evidence the gate could not read (it fails closed): both can be forced.
      const refused = error instanceof ApiError && error.status === 409;
      if (refused && (error.code === "gate_failed" || error.code === "evidence_unavailable")) {
        offerForce(error);
      } else {
        replaceChildren(message, describeFailure(error));
      }
    }
  };

  // A failed gate needs a second, explicit confirmation before the forced promotion can be sent.
  const offerForce = (error: ApiError) => {
    const confirm = h("input", { type: "checkbox", id: "force-confirm" });
    const force = h("button", { type: "button", class: "danger", disabled: true }, `Force promote ${version}`);
    confirm.addEventListener("change", () => {
      force.disabled = !confirm.checked;
    });
    force.addEventListener("click", () => {
      force.disabled = true;
      void send(true);
    });
    promote.remove();
    replaceChildren(
      message,
      h("p", {}, `The gate refused (${error.status} ${error.code}): ${error.message}`),
      // evidence_unavailable has no reasons: the message says why.
      h(
        "ul",
        {},
        error.reasons.map((reason) => h("li", {}, reason)),
      ),
      h(
        "p",
        { class: "confirm" },
        confirm,
        h("label", { for: "force-confirm" }, `I have read why and want ${version} to take main's traffic anyway`),
      ),
      h("div", { class: "buttons" }, force),
    );
    confirm.focus();
  };

  promote.addEventListener("click", () => {
    promote.disabled = true;
    void send(false).finally(() => {
      promote.disabled = false;
    });
  });
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
