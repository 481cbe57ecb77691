import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The one error body every failure of the gateway is answered with. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string; reasons?: string[] };
}

/** What some errors carry besides their message. */
interface ErrorDetails {
  headers?: HeadersInit;
  /** Each rule that decided a refusal, with its numbers (a failed promotion gate). */
  reasons?: string[];
}

/**
 * A failure meant for the client: its status, a stable code, and a message a
 * person can act on. Like Hono's own exceptions it answers for itself, so
 * whatever throws it needs no second path to the client.
 */
export class AppError extends HTTPException {
  override readonly name = "AppError";
  readonly headers?: HeadersInit;
  readonly reasons?: string[];

  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly field?: string,
    details: ErrorDetails = {},
  ) {
    super(status, { message });
    this.headers = details.headers;
    this.reasons = details.reasons;
  }

  toBody(): ErrorBody {
    const { code, message, field, reasons } = this;
    return {
      error: {
        code,
        message,
        ...(field !== undefined && { field }),
        ...(reasons !== undefined && { reasons }),
      },
    };
  }

  override getResponse(): Response {
    return Response.json(this.toBody(), { status: this.status, headers: this.headers });
  }

  /** Errors lose their class across Durable Object RPC, so they travel as plain data. */
  static fromBody(status: ContentfulStatusCode, body: ErrorBody): AppError {
    const { code, message, field, reasons } = body.error;
    return new AppError(status, code, message, field, { reasons });
  }
}

/** What a caught error says, whatever was thrown. */
export const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
