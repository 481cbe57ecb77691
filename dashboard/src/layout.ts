// The page's layout for many names and many shadows: one tab per name (the ones that need the
// operator first), and each shadow's card folded under a one-line summary, so any name's or
// shadow's cards are a click away instead of a scroll past the others.
import { formatCount } from "../../worker/src/evidence/count.ts";
import type { ShadowReport } from "./api.ts";
import type { Attention } from "./attention.ts";
import { h } from "./dom.ts";

interface NameTab {
  name: string;
  attention: Attention | undefined;
}

/** A tab per name, in the order given; choosing one shows that name's evidence in place of the other's. */
export function nameTabs(tabs: readonly NameTab[], selected: string, onSelect: (name: string) => void): HTMLElement {
  return h(
    "nav",
    { class: "name-tabs", role: "tablist", "aria-label": "Services" },
    tabs.map(({ name, attention }) =>
      h(
        "button",
        {
          type: "button",
          role: "tab",
          class: ["tab", attention ?? ""].join(" ").trim(),
          "aria-selected": String(name === selected),
          "aria-controls": "evidence",
          "data-tab": name,
          "data-focus-key": `tab ${name}`,
          onclick: () => onSelect(name),
        },
        name,
        attention ? h("span", { class: "tab-mark", "aria-label": `needs attention: ${attention}` }, " ⚠") : "",
      ),
    ),
  );
}

/** Whether a shadow's card starts open: those that need the operator, or the only one. */
export const opensByDefault = (shadow: ShadowReport | undefined, shadows: number) =>
  shadows <= 1 || shadow?.verdict === "fail";

/**
 * Each card under a summary of its version and verdict. `isOpen` says what the operator left open
 * (refreshes rebuild the cards), and `onToggle` hears when they open or close one.
 */
export function foldCards(
  cards: readonly HTMLElement[],
  shadows: readonly ShadowReport[],
  isOpen: (version: string, shadow: ShadowReport | undefined) => boolean,
  onToggle: (version: string, open: boolean) => void,
): HTMLElement[] {
  return cards.map((card) => {
    const version = card.getAttribute("data-shadow") ?? "";
    const shadow = shadows.find((entry) => entry.version === version);
    const summary = h(
      "summary",
      { "data-focus-key": `fold ${version}` },
      h("strong", {}, version),
      " ",
      shadow
        ? h("span", { class: `badge ${shadow.verdict}` }, shadow.verdict)
        : h("span", { class: "quiet" }, "no traffic yet"),
      shadow ? h("span", { class: "quiet" }, ` ${formatCount(shadow.requests.compared)} compared`) : "",
    );
    const fold = h(
      "details",
      { class: "shadow-fold", "data-fold": version, open: isOpen(version, shadow) },
      summary,
      card,
    );
    fold.addEventListener("toggle", () => onToggle(version, fold.open));
    return fold;
  });
}
