import { GATE_EXIT } from "../gating.ts";
import { reportingFailures } from "../reporting.ts";
import assign from "./assign.ts";
import deploy from "./deploy.ts";
import diffs from "./diffs.ts";
import gate from "./gate.ts";
import history from "./history.ts";
import kill from "./kill.ts";
import login from "./login.ts";
import logout from "./logout.ts";
import ls from "./ls.ts";
import mirror from "./mirror.ts";
import policy from "./policy.ts";
import replay from "./replay.ts";
import report from "./report.ts";
import rollout from "./rollout.ts";

// Plain imports: the build bundles the whole CLI into one small file, so a lazy import() would be
// inlined anyway and save nothing. Every command reports its failures in one place.
export const commands = {
  login: reportingFailures("login", login),
  logout: reportingFailures("logout", logout),
  deploy: reportingFailures("deploy", deploy),
  ls: reportingFailures("ls", ls),
  assign: reportingFailures("assign", assign),
  kill: reportingFailures("kill", kill),
  mirror: reportingFailures("mirror", mirror),
  report: reportingFailures("report", report),
  diffs: reportingFailures("diffs", diffs),
  policy: reportingFailures("policy", policy),
  gate: reportingFailures("gate", gate, GATE_EXIT.unreachable),
  history: reportingFailures("history", history),
  rollout: reportingFailures("rollout", rollout),
  replay: reportingFailures("replay", replay, GATE_EXIT.unreachable),
};
