import { z } from 'zod';

/**
 * Stable, machine-readable error codes. They are part of every server's public
 * interface: a model (or a host) branches on the code, people read the message.
 */
export const ErrorCode = z.enum([
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'DENIED',
  'OUTSIDE_TOOLSETS',
  'APPROVAL_REQUIRED',
  'APPROVAL_DECLINED',
  'APPROVAL_PENDING',
  'APPROVAL_EXPIRED',
  'LIMIT_EXCEEDED',
  'CONFLICT',
  'RATE_LIMITED',
  'BUSY',
  'CANCELLED',
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_REJECTED',
  'UPSTREAM_UNAUTHORIZED',
  'UPSTREAM_BAD_RESPONSE',
  'CIRCUIT_OPEN',
  'AUDIT_UNAVAILABLE',
  'IDENTITY_REQUIRED',
  'IDENTITY_UNAVAILABLE',
  'IDENTITY_REFUSED',
  'INTERNAL',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** Codes a caller may sensibly retry later without changing anything. */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set([
  'APPROVAL_PENDING',
  'RATE_LIMITED',
  'BUSY',
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_UNAVAILABLE',
  'CIRCUIT_OPEN',
  'IDENTITY_UNAVAILABLE',
]);

export interface GatehouseErrorOptions {
  /** HTTP status the upstream answered, when the error came from one. */
  upstreamStatus?: number;
  /** Seconds after which a retry may succeed (rate limits, open circuits). */
  retryAfterSeconds?: number;
  /** Extra, non-secret facts for the model (e.g. the field that failed). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** The one error type every Gatehouse layer throws; the registration seam turns it into a tool error. */
export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly upstreamStatus: number | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: GatehouseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatehouseError';
    this.code = code;
    this.upstreamStatus = options.upstreamStatus;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.details = options.details;
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }

  /** The wire form carried in a tool error's `_meta` and in audit events. */
  toJSON(): {
    code: ErrorCode;
    message: string;
    retryable: boolean;
    retryAfterSeconds?: number;
    details?: Record<string, unknown>;
  } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: this.retryAfterSeconds }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export const isGatehouseError = (error: unknown): error is GatehouseError => error instanceof GatehouseError;

/** Shorthands that read well at the call site: `throw notFound('service', name)`. */
export const notFound = (kind: string, id: string, hint?: string) =>
  new GatehouseError('NOT_FOUND', `No ${kind} named ${JSON.stringify(id)} exists.${hint ? ` ${hint}` : ''}`, {
    details: { kind, id },
  });

export const invalidArgument = (message: string, details?: Record<string, unknown>) =>
  new GatehouseError('INVALID_ARGUMENT', message, details === undefined ? {} : { details });

export const denied = (message: string, details?: Record<string, unknown>) =>
  new GatehouseError('DENIED', message, details === undefined ? {} : { details });

export const limitExceeded = (message: string, details?: Record<string, unknown>) =>
  new GatehouseError('LIMIT_EXCEEDED', message, details === undefined ? {} : { details });
