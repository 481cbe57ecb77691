import type { ErrorBody } from "../../worker/src/errors.ts";

/** A failure the user can act on: its message is the one line the CLI prints, and the exit code is 1. */
class CliError extends Error {
  override readonly name: string = "CliError";
  /** Stable, for scripts reading `--json` output; API refusals carry the API's own code instead. */
  readonly code: string = "cli_error";
}

/** The error object of the API's `{ "error": { … } }` body. */
type ApiErrorObject = ErrorBody["error"];

/** The gateway answered, but refused: printed as Daeploy does, `Command failed: <status> - <reason>: <message>`. */
export class ApiRefusal extends CliError {
  override readonly name = "ApiRefusal";
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly detail: string,
    /** What the API said, when it said it as JSON. */
    readonly apiError?: ApiErrorObject,
  ) {
    super(`Command failed: ${status} - ${reason}: ${detail}`);
  }
}

/** No answer at all from the host: wrong URL, gateway not running, DNS, timeout. */
export class HostUnreachable extends CliError {
  override readonly name = "HostUnreachable";
  override readonly code = "host_unreachable";
  constructor(host: string, why: string) {
    super(
      `Cannot reach the gateway at ${host} (${why}); check that it is running (\`npm run dev\` locally) ` +
        "and that the host is right (--host, DAEPLOY_HOST or `daeploy-edge login`)",
    );
  }
}

/** Something answered, but not as a daeploy-edge gateway would. */
export class NotAGateway extends CliError {
  override readonly name = "NotAGateway";
  override readonly code = "not_a_gateway";
  constructor(host: string, what: string) {
    super(`The host ${host} does not look like a daeploy-edge gateway (${what}); check the host URL`);
  }
}

/** Missing host or token, a bad host URL, a bad saved login file. */
export class ConnectionSetupError extends CliError {
  override readonly name = "ConnectionSetupError";
  override readonly code = "connection_setup";
}

/** Arguments that make no sense together, or name nothing. */
export class UsageError extends CliError {
  override readonly name = "UsageError";
  override readonly code = "usage";
}

/** A version whose evidence fails the promotion gate, refused before asking; the same code as the API's 409. */
export class GateRefusal extends CliError {
  override readonly name = "GateRefusal";
  override readonly code = "gate_failed";
  constructor(
    message: string,
    /** Each rule that failed, with its numbers. */
    readonly reasons: string[],
  ) {
    super(message);
  }
}

/** The one line shown for any failure; never a stack trace (set DEBUG=1 to get one on stderr). */
export function describeFailure(error: unknown): string {
  if (error instanceof CliError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  return `Unexpected error: ${message}`;
}

/**
 * What `--json` prints on stdout for a failure: the API's own error object for a refusal, else one
 * made here with a stable code, so a script always finds `error.code` and `error.message`.
 */
export function failureAsJson(error: unknown): { error: ApiErrorObject & { status?: number } } {
  if (error instanceof ApiRefusal) {
    return { error: error.apiError ?? { code: `http_${error.status}`, message: error.detail } };
  }
  if (error instanceof GateRefusal)
    return { error: { code: error.code, message: error.message, reasons: error.reasons } };
  if (error instanceof CliError) return { error: { code: error.code, message: error.message } };
  return { error: { code: "unexpected", message: describeFailure(error) } };
}
