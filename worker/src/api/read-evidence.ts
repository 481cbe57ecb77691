import type { Env } from "../env.ts";
import { AppError, reasonOf } from "../errors.ts";
import { callLedger } from "../evidence/ledger-call.ts";

export const EVIDENCE_UNAVAILABLE =
  "The evidence ledger could not be read (`evidence_unavailable`), or the ADMIN_TOKEN secret is not set";

/** Reads of evidence go straight to the name's ledger; one that cannot answer is a 503 saying so. */
export async function readEvidence<T>(env: Env, name: string, call: Parameters<typeof callLedger<T>>[2]): Promise<T> {
  try {
    return await callLedger(env, name, call);
  } catch (error) {
    console.error(JSON.stringify({ event: "ledger_unavailable", name, message: reasonOf(error) }));
    throw new AppError(
      503,
      "evidence_unavailable",
      `The evidence of ${name} could not be read (${reasonOf(error)}); try again shortly`,
    );
  }
}
