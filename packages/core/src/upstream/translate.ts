/** How a failed upstream request reads to the caller: one typed error per kind of failure. */
import { GatehouseError } from '../define/errors.ts';
import type { UpstreamSettings } from './client.ts';
import { isHTTPError, isNetworkError, isTimeoutError, loadedLibraries, retryAfterMs } from './faults.ts';
import type { UpstreamHead } from './wire.ts';

/** A 3xx is refused, naming where it pointed (origin and path only: a query may hold secrets). */
function redirected(
  settings: UpstreamSettings,
  response: UpstreamHead,
  common: { upstreamStatus: number },
): GatehouseError {
  let target = '';
  try {
    const location = new URL(response.headers.get('location') ?? '', settings.baseUrl);
    target = `${location.origin}${location.pathname}`;
  } catch {
    target = '';
  }
  return new GatehouseError(
    'UPSTREAM_REJECTED',
    `The ${settings.name} answered with a redirect (HTTP ${common.upstreamStatus}${target ? ` to ${target}` : ''}). Redirects are never followed, so nothing was sent there; the operator must set the API URL to the final address.`,
    { ...common, details: { redirect: target || null } },
  );
}

/** Any failure of an upstream request as the typed error the caller sees. */
export function translateFailure(
  settings: UpstreamSettings,
  error: unknown,
  at: { callerSignal: AbortSignal; deadlinePassed: boolean; status: number | undefined },
): GatehouseError {
  const name = settings.name;
  if (error instanceof GatehouseError) return error;
  if (at.callerSignal.aborted)
    return new GatehouseError('CANCELLED', 'The request was cancelled by the client.', { cause: error });
  const libraries = loadedLibraries();
  if (libraries && error instanceof libraries.cockatiel.BrokenCircuitError) {
    return new GatehouseError(
      'CIRCUIT_OPEN',
      `The ${name} is failing repeatedly, so calls to it are paused. Try again in about ${Math.ceil(settings.breaker.halfOpenAfterMs / 1000)} s.`,
      {
        retryAfterSeconds: Math.ceil(settings.breaker.halfOpenAfterMs / 1000),
      },
    );
  }
  if (isTimeoutError(error) || at.deadlinePassed) {
    return new GatehouseError(
      'UPSTREAM_TIMEOUT',
      `The ${name} did not answer within ${settings.deadlineMs} ms. It may be overloaded; try again shortly.`,
      { cause: error },
    );
  }
  if (isHTTPError(error)) {
    const status = error.response.status;
    const retryAfter = retryAfterMs(error.response);
    const retryAfterSeconds = retryAfter === undefined ? undefined : Math.ceil(retryAfter / 1000);
    const common = {
      upstreamStatus: status,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    };
    if (status >= 300 && status < 400) return redirected(settings, error.response, common);
    if (status === 404)
      return new GatehouseError(
        'NOT_FOUND',
        `The ${name} has nothing at that address: check the identifier.`,
        common,
      );
    if (status === 403 && settings.identity)
      return new GatehouseError(
        'DENIED',
        `The ${name} refused this request for the signed-in user (HTTP 403): its own rules do not let them do it. Do not retry; ask someone who may.`,
        common,
      );
    if (status === 401 || status === 403) {
      return new GatehouseError(
        'UPSTREAM_UNAUTHORIZED',
        `The ${name} rejected this server's credential (HTTP ${status}). The operator must fix the server's API token; retrying will not help.`,
        common,
      );
    }
    if (status === 409)
      return new GatehouseError(
        'CONFLICT',
        `The ${name} reported a conflict with the current state (HTTP 409).`,
        common,
      );
    if (status === 429)
      return new GatehouseError(
        'RATE_LIMITED',
        `The ${name} is rate limiting this server. Try again${retryAfterSeconds ? ` in ${retryAfterSeconds} s` : ' later'}.`,
        common,
      );
    if (status === 400 || status === 422)
      return new GatehouseError(
        'UPSTREAM_REJECTED',
        `The ${name} rejected the request as invalid (HTTP ${status}).`,
        common,
      );
    if (status >= 500 || status === 408)
      return new GatehouseError(
        'UPSTREAM_UNAVAILABLE',
        `The ${name} failed (HTTP ${status}). Try again shortly.`,
        common,
      );
    return new GatehouseError(
      'UPSTREAM_REJECTED',
      `The ${name} refused the request (HTTP ${status}).`,
      common,
    );
  }
  if (isNetworkError(error)) {
    return new GatehouseError(
      'UPSTREAM_UNAVAILABLE',
      `The ${name} could not be reached. It may be down; try again shortly.`,
      { cause: error },
    );
  }
  settings.log.error({ upstream: name, err: error }, 'unexpected upstream failure');
  return new GatehouseError('UPSTREAM_UNAVAILABLE', `The ${name} request failed unexpectedly.`, {
    cause: error,
  });
}
