import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The one error body every failure of the gateway is answered with. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/**
 * A failure meant for the client: its status, a stable code, and a message a
 * person can act on. Like Hono's own exceptions it answers for itself, so
 * whatever throws it needs no second path to the client.
 */
export class AppError extends HTTPException {
  override readonly name = "AppError";
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers?: HeadersInit,
  ) {
    super(status, { message });
  }

  toBody(): ErrorBody {
    const { code, message, field } = this;
    return { error: field === undefined ? { code, message } : { code, message, field } };
  }

  override getResponse(): Response {
    return Response.json(this.toBody(), { status: this.status, headers: this.headers });
  }

  /** Errors lose their class across Durable Object RPC, so they travel as plain data. */
  static fromBody(status: ContentfulStatusCode, body: ErrorBody): AppError {
    return new AppError(status, body.error.code, body.error.message, body.error.field);
  }
}

/** What a caught error says, whatever was thrown. */
export const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
