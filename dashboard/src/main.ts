// The operator's dashboard: sign in, then services, each shadow's evidence and the actions on it.
// It refreshes every few seconds; what is open (the chosen service, window, sample viewer, dialogs
// and the focused control) stays open.
// First: a browser's language that Intl refuses must be fixed before uPlot loads.
import "./locale.ts";

import { formatCount } from "../../worker/src/evidence/count.ts";
import { killDialog, mirrorDialog, promoteDialog } from "./actions.ts";
import {
  ApiError,
  type AuditRecord,
  callApi,
  describeFailure,
  type ExchangeSample,
  enc,
  type PolicyResult,
  type ReplayView,
  type Report,
  type RolloutView,
  type ServiceRecord,
  type Session,
  type ShadowReport,
} from "./api.ts";
import { attentionOf, firstToOpen, namesByAttention, verdictsDuringRollouts, withStepVerdict } from "./attention.ts";
import { drawCharts } from "./charts.ts";
import { h, localTimestamp, replaceChildren } from "./dom.ts";
import { type EvidenceHandlers, shadowCards } from "./evidence.ts";
import { historyPanel } from "./history.ts";
import { foldCards, nameTabs, opensByDefault } from "./layout.ts";
import { replaysPanel } from "./replays.ts";
import { rolloutPanel } from "./rollout.ts";
import { type FieldRule, ruleDialog } from "./rules.ts";
import { sampleView } from "./samples.ts";
import { servicesTable } from "./services.ts";
import { forgetToken, readToken, saveToken } from "./session.ts";
import { signInForm } from "./signin.ts";
import { rolloutStepStarts } from "./steps.ts";

const REFRESH_MS = 5_000;
/** The names not open are re-judged less often: a report per name every 5 s would cost the ledgers more than it shows. */
const OTHER_VERDICTS_MS = 30_000;
const WINDOWS = ["15m", "1h", "24h", "7d"] as const;
type Window = (typeof WINDOWS)[number];

interface Viewer {
  version: string;
  path?: string;
  samples?: ExchangeSample[];
  index: number;
  error?: string;
}

interface State {
  /** Empty when Cloudflare Access signed the browser in. */
  token: string;
  session: Session;
  window: Window;
  selected?: string;
  services: ServiceRecord[];
  /** Running rollouts, by name. */
  rollouts: Map<string, RolloutView>;
  report?: Report;
  reportError?: string;
  /** The open name's field rules (its policy's), shown on the fields table's rows. */
  rules?: FieldRule[];
  /** The open name's replays, newest first, shown beside its rollout. */
  replays?: ReplayView[];
  viewer?: Viewer;
  /** Each name's shadows' verdicts over the window: the table's VERDICT column and what needs attention. */
  verdicts: Map<string, ShadowReport[]>;
  /** When, and over which window, the other names' verdicts were last read. */
  verdictsRead?: { at: number; window: Window };
  /** Shadow cards the operator opened or closed (`name version`), kept across refreshes. */
  folds: Map<string, boolean>;
  history?: AuditRecord[];
  historyError?: string;
}

const root = document.getElementById("app") ?? document.body;
let state: State | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;
let generation = 0;
let dropCharts = () => {};
let lastRendered = "";
/** A failed refresh says so until the next one succeeds. */
let refreshFailed = false;

const regions = {
  notice: h("div", { id: "notice", class: "message", role: "status", "aria-live": "polite" }),
  services: h("section", { id: "services", "aria-label": "Services" }),
  evidence: h("section", { id: "evidence", "aria-label": "Evidence" }),
  charts: h("div", { id: "charts", class: "charts" }),
  viewer: h("section", { id: "viewer", "aria-label": "Sampled exchanges" }),
  history: h("section", { id: "history", "aria-label": "History" }),
};

function showSignIn(notice?: string): void {
  state = undefined;
  generation++;
  if (timer !== undefined) clearTimeout(timer);
  dropCharts();
  replaceChildren(
    root,
    signInForm((token, services, session) => {
      saveToken(token);
      start(token, services, session);
    }, notice),
  );
  document.getElementById("token")?.focus();
}

function notify(text: string, kind: "info" | "error" = "info"): void {
  regions.notice.className = `message ${kind}`;
  regions.notice.setAttribute("role", kind === "error" ? "alert" : "status");
  regions.notice.textContent = text;
}

/** Who is signed in, and whether they may change anything; a read-only session hides every write control. */
function sessionLine(session: Session): HTMLElement {
  const who = session.actor.startsWith("access:")
    ? `Signed in as ${session.actor.slice("access:".length)} through Cloudflare Access`
    : session.actor === "read-token"
      ? "Signed in with the read token"
      : "Signed in with the admin token";
  const text = session.canWrite ? who : `Read-only: ${who.toLowerCase()}; it cannot promote, kill or change anything.`;
  return h("p", { id: "session", class: session.canWrite ? "quiet" : "read-only-note" }, text);
}

function start(token: string, services: ServiceRecord[], session: Session): void {
  // The name to open is chosen once the first refresh knows the verdicts: one that needs attention.
  state = { token, session, window: "1h", services, rollouts: new Map(), verdicts: new Map(), folds: new Map() };
  document.body.classList.toggle("read-only", !session.canWrite);
  const windowSelect = h(
    "select",
    {
      id: "window",
      onchange: (event: Event) => {
        const select = event.target;
        if (state && select instanceof HTMLSelectElement) {
          state.window = select.value as Window;
          void refresh();
        }
      },
    },
    WINDOWS.map((value) => h("option", { value, selected: value === "1h" }, value)),
  );
  const header = h(
    "header",
    { class: "top" },
    h("h1", {}, "daeploy-edge"),
    h(
      "div",
      { class: "controls" },
      h("label", { for: "window" }, "Window"),
      windowSelect,
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          id: "sign-out",
          onclick: () => {
            forgetToken();
            showSignIn("Signed out.");
          },
        },
        "Sign out",
      ),
    ),
  );
  replaceChildren(
    root,
    header,
    h(
      "main",
      {},
      sessionLine(session),
      regions.notice,
      regions.services,
      regions.evidence,
      regions.charts,
      regions.viewer,
      regions.history,
    ),
  );
  regions.notice.textContent = "";
  lastRendered = "";
  render();
  void refresh();
}

function schedule(): void {
  if (timer !== undefined) clearTimeout(timer);
  timer = setTimeout(() => void refresh(), REFRESH_MS);
}

/** Reads everything the page shows, then renders; a sign-in in between makes the answer stale. */
async function refresh(): Promise<void> {
  const current = state;
  if (!current) return;
  const mine = ++generation;
  try {
    const [{ services }, { rollouts }] = await Promise.all([
      callApi<{ services: ServiceRecord[] }>(current.token, "GET", "/services"),
      callApi<{ rollouts: RolloutView[] }>(current.token, "GET", "/rollouts"),
    ]);
    if (mine !== generation) return;
    current.services = services;
    current.rollouts = new Map(rollouts.map((rollout) => [rollout.name, rollout]));
    const rolling = new Set(current.rollouts.keys());
    if (current.selected && !services.some((record) => record.name === current.selected)) current.selected = undefined;
    const verdicts = await readVerdicts(current, services);
    if (mine !== generation) return;
    current.verdicts = verdicts;
    current.selected ??= firstToOpen(services, verdicts, rolling);
    if (current.selected) {
      try {
        [current.report, current.rules, current.replays] = await Promise.all([
          callApi<Report>(
            current.token,
            "GET",
            `/services/${enc(current.selected)}/report?window=${current.window}&series=true`,
          ),
          readRules(current, current.selected),
          readReplays(current, current.selected),
        ]);
        current.reportError = undefined;
        current.verdicts.set(current.selected, current.report.shadows);
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) throw error;
        current.report = undefined;
        current.reportError = `Evidence is not available: ${describeFailure(error)}`;
      }
      await loadHistory(current, current.selected);
    } else {
      current.report = undefined;
      current.history = undefined;
    }
    if (mine !== generation) return;
    if (refreshFailed) {
      refreshFailed = false;
      notify("");
    }
    render();
  } catch (error) {
    if (mine !== generation) return;
    if (error instanceof ApiError && error.status === 401) {
      forgetToken();
      showSignIn("The gateway no longer accepts this token (401). Sign in again.");
      return;
    }
    refreshFailed = true;
    notify(`Refresh failed, retrying: ${describeFailure(error)}`, "error");
  }
  schedule();
}

/** The name's field rules, or undefined when its policy cannot be read (the rows then offer no state). */
function readRules(current: State, name: string): Promise<FieldRule[] | undefined> {
  return callApi<PolicyResult>(current.token, "GET", `/services/${enc(name)}/policy`).then(
    (policy) => policy.rules,
    (error: unknown) => {
      if (error instanceof ApiError && error.status === 401) throw error;
      return undefined;
    },
  );
}

/** The name's replays, or undefined when they cannot be read (the panel is then left out). */
function readReplays(current: State, name: string): Promise<ReplayView[] | undefined> {
  return callApi<{ replays: ReplayView[] }>(current.token, "GET", `/services/${enc(name)}/replays`).then(
    ({ replays }) => replays,
    (error: unknown) => {
      if (error instanceof ApiError && error.status === 401) throw error;
      return undefined;
    },
  );
}

/**
 * The verdicts of every name but the open one (its report, with series, is read next), over the page's
 * window. A name whose report cannot be read shows no verdict; a 401 ends the session as usual.
 */
async function readVerdicts(current: State, services: readonly ServiceRecord[]): Promise<Map<string, ShadowReport[]>> {
  const read = current.verdictsRead;
  const fresh = read !== undefined && read.window === current.window && Date.now() - read.at < OTHER_VERDICTS_MS;
  const known = (name: string) => fresh && current.verdicts.has(name);
  const names = [...new Set(services.map((record) => record.name))].filter(
    (name) => name !== current.selected && !known(name),
  );
  if (!fresh) current.verdictsRead = { at: Date.now(), window: current.window };
  const answers = await Promise.all(
    names.map((name) =>
      callApi<Report>(current.token, "GET", `/services/${enc(name)}/report?window=${current.window}`).then(
        (report) => [name, report.shadows] as const,
        (error: unknown) => {
          if (error instanceof ApiError && error.status === 401) throw error;
          return [name, undefined] as const;
        },
      ),
    ),
  );
  const verdicts = new Map<string, ShadowReport[]>();
  for (const record of services) {
    const kept = known(record.name) && current.verdicts.get(record.name);
    if (kept) verdicts.set(record.name, kept);
  }
  for (const [name, shadows] of answers) if (shadows) verdicts.set(name, shadows);
  const open = current.selected && current.verdicts.get(current.selected);
  if (current.selected && open) verdicts.set(current.selected, open);
  return verdicts;
}

function select(name: string): void {
  if (!state) return;
  state.selected = name;
  state.viewer = undefined;
  renderViewer();
  void refresh();
}

async function loadHistory(current: State, name: string): Promise<void> {
  try {
    const { audit } = await callApi<{ audit: AuditRecord[] }>(
      current.token,
      "GET",
      `/audit?name=${enc(name)}&limit=20`,
    );
    current.history = audit;
    current.historyError = undefined;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw error;
    current.history = undefined;
    current.historyError = describeFailure(error);
  }
}

const handlers: EvidenceHandlers = {
  promote(version) {
    if (!state?.selected) return;
    const evidence = state.report?.shadows.find((shadow) => shadow.version === version);
    promoteDialog(actionContext(), state.selected, version, evidence);
  },
  kill(record) {
    killDialog(actionContext(), record);
  },
  mirror(record) {
    mirrorDialog(actionContext(), record);
  },
  ignore(path, ignored) {
    void toggleIgnore(path, ignored);
  },
  rule(path, current) {
    if (state?.selected) ruleDialog(actionContext(), state.selected, path, current);
  },
  samples(version, path) {
    if (!state) return;
    state.viewer = { version, path, index: 0 };
    void loadSamples();
  },
};

function actionContext() {
  return {
    token: state?.token ?? "",
    done(message: string) {
      notify(message);
      void refresh();
    },
  };
}

async function toggleIgnore(path: string, ignored: boolean): Promise<void> {
  const current = state;
  if (!current?.selected) return;
  const name = current.selected;
  try {
    if (!ignored) {
      const policy = await callApi<PolicyResult>(current.token, "GET", `/services/${enc(name)}/policy`);
      if (!policy.ignore.includes(path)) {
        notify(
          `${path} is ignored through a broader rule (${policy.ignore.join(", ")}); change that rule instead.`,
          "error",
        );
        void refresh();
        return;
      }
    }
    // One path added or removed on the gateway: another operator's edit of the list in between is kept.
    await callApi<PolicyResult>(
      current.token,
      "PUT",
      `/services/${enc(name)}/policy`,
      ignored ? { ignoreAdd: [path] } : { ignoreRemove: [path] },
    );
    notify(ignored ? `${path} is now ignored for ${name}.` : `${path} counts again for ${name}.`);
  } catch (error) {
    notify(`Changing the ignore list failed: ${describeFailure(error)}`, "error");
  }
  await refresh();
}

async function loadSamples(): Promise<void> {
  const current = state;
  const viewer = current?.viewer;
  if (!current?.selected || !viewer) return;
  const query = new URLSearchParams({ limit: "10", ...(viewer.path ? { path: viewer.path } : {}) });
  try {
    const { samples } = await callApi<{ samples: ExchangeSample[] }>(
      current.token,
      "GET",
      `/services/${enc(current.selected)}/${enc(viewer.version)}/diffs?${query}`,
    );
    viewer.samples = samples;
    viewer.error = undefined;
  } catch (error) {
    viewer.error = describeFailure(error);
  }
  renderViewer();
  regions.viewer.querySelector("h2")?.scrollIntoView({ block: "start" });
}

function render(): void {
  const current = state;
  if (!current) return;
  // Rebuild only when what is shown changed, and put the focus back where it was.
  const snapshot = JSON.stringify([
    current.services,
    [...current.rollouts.values()],
    current.selected,
    current.window,
    current.report,
    current.reportError,
    current.rules,
    current.replays,
    [...current.verdicts],
    current.history,
    current.historyError,
  ]);
  if (snapshot === lastRendered) return;
  lastRendered = snapshot;
  const focusKey = document.activeElement?.getAttribute("data-focus-key");

  replaceChildren(
    regions.services,
    h("h2", {}, "Services"),
    servicesTable(current.services, current.selected, select, shownVerdicts(current), new Set(current.rollouts.keys())),
  );
  renderEvidence(current);
  if (current.selected) {
    replaceChildren(regions.history, historyPanel(current.selected, current.history, current.historyError));
  } else {
    replaceChildren(regions.history);
  }
  if (focusKey) {
    for (const element of document.querySelectorAll<HTMLElement>("[data-focus-key]")) {
      if (element.getAttribute("data-focus-key") === focusKey) element.focus();
    }
  }
}

/** Each name's shadows' verdicts as the page shows them: a rolling version's is its running step's. */
function shownVerdicts(current: State): Map<string, readonly ShadowReport[]> {
  return verdictsDuringRollouts(current.verdicts, current.rollouts);
}

function renderEvidence(current: State): void {
  dropCharts();
  dropCharts = () => {};
  const name = current.selected;
  if (!name) {
    replaceChildren(regions.evidence);
    replaceChildren(regions.charts);
    return;
  }
  const records = current.services.filter((record) => record.name === name);
  const rolling = new Set(current.rollouts.keys());
  const shown = shownVerdicts(current);
  const tabs = nameTabs(
    namesByAttention(current.services, shown, rolling).map((each) => ({
      name: each,
      attention: attentionOf(each, current.services, shown, rolling),
    })),
    name,
    select,
  );
  const rollout = current.rollouts.get(name);
  const progress = rollout ? rolloutPanel(rollout, new Date(), actionContext()) : "";
  const heading = h(
    "h2",
    {},
    `Evidence for ${name}`,
    h("span", { class: "quiet" }, ` over the last ${current.window}`),
  );
  if (current.reportError || !current.report) {
    replaceChildren(
      regions.evidence,
      tabs,
      heading,
      h("p", { class: "message error" }, current.reportError ?? "Loading…"),
    );
    replaceChildren(regions.charts);
    return;
  }
  const shadows = current.report.shadows;
  const cards = foldCards(
    shadowCards(
      { ...current.report, shadows: withStepVerdict(current.report.shadows, current.rollouts.get(name)) },
      records,
      current.window,
      handlers,
      current.rules,
    ),
    shadows,
    (version, shadow) => current.folds.get(`${name} ${version}`) ?? opensByDefault(shadow, records.length - 1),
    (version, open) => current.folds.set(`${name} ${version}`, open),
  );
  replaceChildren(
    regions.evidence,
    tabs,
    heading,
    baselineNote(current.report),
    progress,
    replaysPanel(current.replays, actionContext()),
    cards.length > 0
      ? cards
      : h(
          "p",
          { class: "empty" },
          `${name} has no shadows. Deploy another version of it to mirror traffic and compare: `,
          h("code", {}, `npx daeploy-edge deploy ${name} <version> <origin>`),
        ),
  );
  replaceChildren(regions.charts, h("h2", {}, "Over the window"));
  const host = h("div", { class: "chart-list" });
  regions.charts.append(host);
  dropCharts = drawCharts(host, current.report, rollout ? rolloutStepStarts(rollout) : []);
}

/** Which main the shadows are judged against, and since when: evidence against two mains is never mixed. */
function baselineNote(report: Report): HTMLElement {
  const { baseline, mainTraffic } = report;
  const since = baseline.since === null ? " (no evidence yet)" : ` since ${localTimestamp(baseline.since)}`;
  const served = `${formatCount(mainTraffic.requests)} requests to main in this window`;
  return h(
    "p",
    { class: "quiet baseline", id: "baseline", "data-main": baseline.main, "data-since": baseline.since ?? "" },
    `Shadows compared against main ${baseline.main}${since}; ${served}.`,
  );
}

function renderViewer(): void {
  const viewer = state?.viewer;
  if (!viewer) {
    replaceChildren(regions.viewer);
    return;
  }
  const close = h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: () => {
        if (state) state.viewer = undefined;
        renderViewer();
      },
    },
    "Close samples",
  );
  const title = h(
    "h2",
    { tabindex: "-1" },
    `Samples of ${viewer.version}`,
    viewer.path ? ` where ${viewer.path} differs` : "",
  );
  if (viewer.error) {
    replaceChildren(regions.viewer, title, h("p", { class: "message error" }, viewer.error), close);
    return;
  }
  const samples = viewer.samples;
  if (!samples) {
    replaceChildren(regions.viewer, title, h("p", {}, "Loading…"), close);
    return;
  }
  if (samples.length === 0) {
    replaceChildren(regions.viewer, title, h("p", { class: "empty" }, "No sampled exchanges for this yet."), close);
    return;
  }
  const index = Math.min(viewer.index, samples.length - 1);
  const sample = samples[index];
  const step = (delta: number) => () => {
    viewer.index = (index + delta + samples.length) % samples.length;
    renderViewer();
  };
  replaceChildren(
    regions.viewer,
    title,
    h(
      "div",
      { class: "buttons" },
      h("button", { type: "button", class: "secondary", onclick: step(-1), "aria-label": "Previous sample" }, "◀"),
      h("span", {}, `${index + 1} of ${samples.length}`),
      h("button", { type: "button", class: "secondary", onclick: step(1), "aria-label": "Next sample" }, "▶"),
      close,
    ),
    sample ? sampleView(sample, viewer.version) : "",
  );
}

/** Signs in with a saved token, or with none when Cloudflare Access let the browser through; else the form. */
async function resume(): Promise<void> {
  const saved = readToken();
  try {
    const session = await callApi<Session>(saved ?? "", "GET", "/session");
    const { services } = await callApi<{ services: ServiceRecord[] }>(saved ?? "", "GET", "/services");
    start(saved ?? "", services, session);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      forgetToken();
      showSignIn(saved ? describeFailure(error) : undefined);
      return;
    }
    showSignIn(describeFailure(error));
  }
}

void resume();
