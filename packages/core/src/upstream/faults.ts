/**
 * How the client tells a passing fault from a lasting one: which statuses and
 * errors are worth a retry, what Retry-After asks for, and which failures mean
 * the body could not be inflated. ky and cockatiel load on the first call.
 */
import { GatehouseError } from '../define/errors.ts';

export const TRANSIENT_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/**
 * The HTTP and resilience libraries load on the first upstream call, not at
 * start-up: a host spawns a server and lists its tools long before it calls one.
 */
export type Libraries = { ky: typeof import('ky'); cockatiel: typeof import('cockatiel') };
let libraries: Libraries | undefined;
let loading: Promise<Libraries> | undefined;
/** The libraries, once the first call has loaded them. */
export const loadedLibraries = (): Libraries | undefined => libraries;

export function loadLibraries(): Promise<Libraries> {
  loading ??= Promise.all([import('ky'), import('cockatiel')]).then(([ky, cockatiel]) => {
    libraries = { ky, cockatiel };
    return libraries;
  });
  return loading;
}
// Errors only exist once a request has run, so the libraries are loaded by then.
export const isHTTPError = (error: unknown): error is import('ky').HTTPError =>
  libraries?.ky.isHTTPError(error) === true;
export const isTimeoutError = (error: unknown) => libraries?.ky.isTimeoutError(error) === true;
export const isNetworkError = (error: unknown) => libraries?.ky.isNetworkError(error) === true;

export function isTransient(error: unknown): boolean {
  if (isHTTPError(error)) return error.response.status >= 500 || error.response.status === 408;
  // Our own deadline aborts with a DOMException named TimeoutError; a caller's cancellation is not a fault.
  if (error instanceof DOMException) return error.name === 'TimeoutError';
  return (
    isTimeoutError(error) ||
    isNetworkError(error) ||
    (error instanceof GatehouseError && error.code === 'UPSTREAM_BAD_RESPONSE')
  );
}

export function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** zlib, brotli and zstd error codes, as fetch reports a body it could not inflate (in the cause chain). */
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
