import type { EvidenceReport, ShadowReport } from "../evidence/verdict.ts";
import type { GateResult } from "./schemas.ts";

/**
 * What the gate answers: 200 only on pass, so a pipeline or a Flagger webhook reads the status alone;
 * or, when asked (`answer=body`), always 200, for Argo Rollouts' web metrics, which count any other
 * status as an error rather than reading the body.
 */
export interface GateAnswer {
  status: 200 | 412;
  body: GateResult;
}

/**
 * One version's verdict out of its name's report. A version that is main has
 * no evidence against itself: that is never a pass, and the reason says so.
 */
export function gateAnswer(
  report: EvidenceReport,
  version: string,
  windowLabel: string,
  answer: "status" | "body" = "status",
): GateAnswer {
  const shadow = report.shadows.find((s) => s.version === version);
  const judged: ShadowReport | undefined =
    shadow && version !== report.main
      ? shadow
      : shadow && {
          ...shadow,
          verdict: "inconclusive",
          reasons: [`${version} is the main of ${report.name}; the gate judges a shadow against its main`],
        };
  if (!judged) throw new Error(`the ledger reported no entry for ${report.name} ${version}`);
  const body: GateResult = { name: report.name, main: report.main, window: report.window, ...judged };
  if (judged.verdict === "pass") return { status: 200, body };
  if (answer === "body") return { status: 200, body };
  const message = `${report.name} ${version} is ${judged.verdict} over the last ${windowLabel}: ${judged.reasons[0] ?? "no reason given"}`;
  return { status: 412, body: { ...body, error: { code: "gate_not_passed", message } } };
}
