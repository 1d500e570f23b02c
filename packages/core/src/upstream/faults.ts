/// <reference path="./undici-parts.d.ts" />
/**
 * How the client tells a passing fault from a lasting one: which statuses and
 * errors are worth a retry, what Retry-After asks for, how long to back off,
 * and which failures mean the body could not be inflated. cockatiel (the
 * breaker) loads on the first call.
 */
import { GatehouseError } from '../define/errors.ts';
import type { UpstreamHead } from './wire.ts';

export const TRANSIENT_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
/** The statuses whose Retry-After is honoured (others back off on their own schedule). */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

/** An answer that is not 2xx (a 3xx included: redirects are never followed). */
export class UpstreamStatusError extends Error {
  readonly response: UpstreamHead;
  constructor(response: UpstreamHead) {
    super(`upstream answered HTTP ${response.status}`);
    this.name = 'UpstreamStatusError';
    this.response = response;
  }
}

/** The request could not connect, or the connection failed before the answer's headers (the socket error is the cause). */
export class UpstreamNetworkError extends Error {
  constructor(cause: unknown) {
    super('upstream unreachable', { cause });
    this.name = 'UpstreamNetworkError';
  }
}

/** The reason one attempt is aborted with when it waits too long for the answer's headers. */
export const attemptTimeout = (): DOMException => new DOMException('attempt timed out', 'TimeoutError');

/**
 * The breaker and HTTP libraries load on the first upstream call, not at
 * start-up: a host spawns a server and lists its tools long before it calls
 * one (undici alone takes longer to import than the rest of a server's start).
 */
export type Libraries = {
  cockatiel: typeof import('cockatiel');
  undici: {
    Agent: typeof import('undici').Agent;
    request: typeof import('undici/lib/api/api-request.js').default;
  };
};
let libraries: Libraries | undefined;
let loading: Promise<Libraries> | undefined;
/** The libraries, once the first call has loaded them. */
export const loadedLibraries = (): Libraries | undefined => libraries;

export function loadLibraries(): Promise<Libraries> {
  // Only undici's pool and `request` (see undici-parts.d.ts), not its index.
  loading ??= Promise.all([
    import('cockatiel'),
    import('undici/lib/dispatcher/agent.js'),
    import('undici/lib/api/api-request.js'),
  ]).then(([cockatiel, agent, request]) => {
    libraries = { cockatiel, undici: { Agent: agent.default, request: request.default } };
    return libraries;
  });
  return loading;
}

export const isHTTPError = (error: unknown): error is UpstreamStatusError =>
  error instanceof UpstreamStatusError;
/** An attempt's own timeout, or the call's deadline (both abort with a TimeoutError). */
export const isTimeoutError = (error: unknown): boolean =>
  error instanceof DOMException && error.name === 'TimeoutError';
export const isNetworkError = (error: unknown): boolean => error instanceof UpstreamNetworkError;

export function isTransient(error: unknown): boolean {
  if (isHTTPError(error)) return error.response.status >= 500 || error.response.status === 408;
  // Timeouts and deadlines abort with a DOMException named TimeoutError; a caller's cancellation is not a fault.
  return (
    isTimeoutError(error) ||
    isNetworkError(error) ||
    (error instanceof GatehouseError && error.code === 'UPSTREAM_BAD_RESPONSE')
  );
}

export function retryAfterMs(response: UpstreamHead): number | undefined {
  const value = response.headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

const BACKOFF_BASE_MS = 300;
const BACKOFF_LIMIT_MS = 2_000;

/**
 * How long to wait before attempt `attempt + 1`: what Retry-After asks for on
 * a 429 or 503, otherwise full-jitter exponential back-off (up to 300 ms, then
 * 600 ms…, at most 2 s).
 */
export function retryDelayMs(attempt: number, response: UpstreamHead | undefined): number {
  if (response && RETRY_AFTER_STATUSES.has(response.status)) {
    const asked = retryAfterMs(response);
    if (asked !== undefined) return asked;
  }
  return Math.random() * Math.min(BACKOFF_LIMIT_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
}

/** zlib, brotli and zstd error codes: a body that could not be inflated (looked for in the cause chain). */
const DECODING_ERROR_CODE = /^(Z_|ERR__ERROR_|ZSTD_error_)/;
export function isDecodingError(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && DECODING_ERROR_CODE.test(code)) return true;
    current = current.cause;
  }
  return false;
}
