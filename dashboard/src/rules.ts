// Field rules on the fields table's rows: which rule governs a row, said in words, and the dialog that
// sets or removes one. It edits the policy as `policy --tolerance`, `--unordered`, `--present` and
// `--no-rule` do: `rulesAdd` and `rulesRemove`, so another operator's rules in between are kept.
import type { FieldRule } from "../../worker/src/evidence/field-rules.ts";
import { bodyPathSteps, type PathStep, stepsMatch } from "../../worker/src/evidence/paths.ts";
import { type ActionContext, openDialog } from "./actions.ts";
import { callApi, describeFailure, enc, type PolicyResult } from "./api.ts";
import { h, replaceChildren } from "./dom.ts";

export type { FieldRule };

/** Whether a rule at `rule`'s steps reaches a value at `row`'s: the same place, or (`under`) a place inside it. */
function reaches(row: readonly PathStep[], rule: readonly PathStep[], under: boolean): boolean {
  if (rule.length > row.length || (!under && rule.length !== row.length)) return false;
  return stepsMatch(row.slice(0, rule.length), rule);
}

/**
 * The rule that decides how a field row's values compare: one written for its path (with `*` for any
 * key), or an `unordered` or `present` rule on a place that holds it (`body.items` governs
 * `body.items[].q`). The nearest wins, as in the comparison. Undefined for a row no rule reaches.
 */
export function ruleOf(rules: readonly FieldRule[], path: string): FieldRule | undefined {
  const row = bodyPathSteps(path);
  if (!row) return undefined;
  let found: { rule: FieldRule; depth: number } | undefined;
  for (const rule of rules) {
    const steps = bodyPathSteps(rule.path);
    if (!steps || !reaches(row, steps, rule.match === "unordered" || rule.match === "present")) continue;
    if (!found || steps.length > found.depth) found = { rule, depth: steps.length };
  }
  return found?.rule;
}

/** A rule in a few words, as the row shows it: `number within rel 1e-6`, `order does not matter (by id)`. */
export function describeRule(rule: FieldRule): string {
  switch (rule.match) {
    case "number": {
      const limits = [rule.rel !== undefined && `rel ${rule.rel}`, rule.abs !== undefined && `abs ${rule.abs}`];
      return `number within ${limits.filter(Boolean).join(" or ")}`;
    }
    case "unordered":
      return `order does not matter${rule.key ? ` (by ${rule.key})` : ""}`;
    case "present":
      return "only presence matters";
    case "format":
      return `format ${rule.format}`;
  }
}

/**
 * Where "order does not matter" goes for a row: the array holding the field (`body.items` for
 * `body.items[].id`), matched by `id` when the row is that key; a row with no array above it is its own.
 */
export function unorderedSuggestion(path: string): { path: string; key: string } {
  const at = path.lastIndexOf("[]");
  if (at < 0) return { path, key: "" };
  const rest = path.slice(at + 2);
  return { path: path.slice(0, at), key: rest === ".id" ? "id" : "" };
}

/** Whether a row's path can carry a rule: rules are for body fields, not the status or headers. */
export const takesRule = (path: string) => bodyPathSteps(path) !== undefined;

type Choice = "number" | "unordered" | "present" | "remove";

/** A tolerance as typed: empty is none; anything else goes as a number, or as typed so the API names the field. */
function tolerance(input: HTMLInputElement): number | string | undefined {
  const text = input.value.trim();
  if (text === "") return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : text;
}

const field = (id: string, label: string, value = "", hint = "") =>
  h(
    "p",
    { class: "rule-field" },
    h("label", { for: id }, label),
    h("input", { id, name: id, type: "text", value, autocomplete: "off", spellcheck: "false" }),
    hint ? h("span", { class: "quiet" }, hint) : "",
  );

function inputOf(form: HTMLElement, id: string): HTMLInputElement {
  const input = form.querySelector(`#${id}`);
  if (!(input instanceof HTMLInputElement)) throw new Error(`the rule dialog has no #${id}`);
  return input;
}

/** What the dialog's choice sends, as the CLI's flags would. */
function changeOf(choice: Choice, path: string, form: HTMLElement, current: FieldRule | undefined) {
  if (choice === "remove") return { rulesRemove: [current?.path ?? path] };
  if (choice === "present") return { rulesAdd: [{ path, match: "present" }] };
  if (choice === "unordered") {
    const key = inputOf(form, "rule-key").value.trim();
    return { rulesAdd: [{ path: inputOf(form, "rule-array").value.trim(), match: "unordered", ...(key && { key }) }] };
  }
  const rel = tolerance(inputOf(form, "rule-rel"));
  const abs = tolerance(inputOf(form, "rule-abs"));
  return {
    rulesAdd: [{ path, match: "number", ...(rel !== undefined && { rel }), ...(abs !== undefined && { abs }) }],
  };
}

function option(choice: Choice, label: string, checked: boolean, ...details: HTMLElement[]): HTMLElement {
  const id = `rule-${choice}`;
  return h(
    "div",
    { class: "rule-option" },
    h(
      "p",
      { class: "confirm" },
      h("input", { type: "radio", name: "rule", id, value: choice, checked }),
      h("label", { for: id }, label),
    ),
    ...details,
  );
}

/**
 * How a field's values compare: a number within a tolerance, an array whose order does not matter, or
 * only the field's presence; or, when a rule governs it, back to exact. A refusal (422 naming the
 * rule's field) is shown in the dialog, which stays open to correct it.
 */
export function ruleDialog(context: ActionContext, name: string, path: string, current: FieldRule | undefined): void {
  const message = h("div", { class: "message error", role: "alert" });
  const array = unorderedSuggestion(path);
  const save = h("button", { type: "submit" }, "Save");
  const form = h(
    "form",
    { class: "rule-form", novalidate: true },
    h("p", {}, "Rules apply to copies compared from now on; differences already counted stay in the window."),
    option(
      "number",
      "treat as a number with tolerance…",
      current?.match === "number" || !current,
      field(
        "rule-rel",
        "relative tolerance (rel)",
        String(current?.match === "number" ? (current.rel ?? "") : ""),
        "such as 1e-6",
      ),
      field(
        "rule-abs",
        "absolute tolerance (abs)",
        String(current?.match === "number" ? (current.abs ?? "") : ""),
        "such as 0.01",
      ),
    ),
    option(
      "unordered",
      "order does not matter",
      current?.match === "unordered",
      field("rule-array", "the array", current?.match === "unordered" ? current.path : array.path),
      field(
        "rule-key",
        "elements matched by (optional)",
        current?.match === "unordered" ? (current.key ?? "") : array.key,
        "such as id; without it, by equality",
      ),
    ),
    option("present", "only presence matters", current?.match === "present"),
    current
      ? option("remove", `compare exactly: remove the rule on ${current.path} (${describeRule(current)})`, false)
      : "",
    message,
    h("div", { class: "buttons" }, save),
  );
  const dialog = openDialog(`How ${path} compares`, form);
  save.parentElement?.append(
    h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, "Cancel"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const choice = form.querySelector<HTMLInputElement>("input[name=rule]:checked")?.value as Choice | undefined;
    if (!choice) {
      replaceChildren(message, "Choose how the field compares.");
      return;
    }
    const change = changeOf(choice, path, form, current);
    save.disabled = true;
    try {
      const policy = await callApi<PolicyResult>(context.token, "PUT", `/services/${enc(name)}/policy`, change);
      dialog.close();
      const rule = ruleOf(policy.rules, path);
      context.done(
        rule
          ? `${path} of ${name}: ${describeRule(rule)}${rule.path === path ? "" : ` (rule on ${rule.path})`}.`
          : `${path} of ${name} is compared exactly again.`,
      );
    } catch (error) {
      replaceChildren(message, describeFailure(error));
      save.disabled = false;
    }
  });
}
