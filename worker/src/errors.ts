import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The one error body every failure of the gateway is answered with. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** A failure meant for the client: its status, a stable code, and a message a person can act on. */
export class AppError extends Error {
  override readonly name = "AppError";
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    const { code, message, field } = this;
    return { error: field === undefined ? { code, message } : { code, message, field } };
  }

  /** Errors lose their class across Durable Object RPC, so they travel as plain data. */
  static fromBody(status: ContentfulStatusCode, body: ErrorBody): AppError {
    return new AppError(status, body.error.code, body.error.message, body.error.field);
  }
}

/** What a caught error says, whatever was thrown. */
export const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export const errorResponse = (error: AppError): Response => Response.json(error.toBody(), { status: error.status });
