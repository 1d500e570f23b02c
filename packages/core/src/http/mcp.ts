/**
 * /mcp: the checks at the door (Host, Origin, query credentials, declared
 * size), authentication, per-principal admission, the body's shape, then the
 * answer: the seam directly or a kept server for stateless 2025 calls, the
 * session store, or the SDK's per-request handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type AuthInfo,
  bearerAuthChallengeResponse,
  isLegacyRequest,
  validateOriginHeader,
  verifyBearerToken,
} from '@modelcontextprotocol/server';
import { directToolCall } from '../call/direct.ts';
import { inspectInbound } from '../call/inbound.ts';
import type { Principal } from '../call/policy.ts';
import { canonicalJson, jsonShape } from '../define/canonical.ts';
import { withIncomingTrace } from '../telemetry/tracing.ts';
import { AuthError, principalOf } from './auth.ts';
import type { Gateway } from './gateway.ts';
import { reusableRequest } from './reuse.ts';
import { jsonRpcError } from './sessions.ts';
import { narrowRequest } from './toolsets.ts';
import {
  BodyTooLarge,
  CORS_ALLOW_HEADERS,
  JsonReply,
  jsonTooDeep,
  normalizeAddress,
  type RequestState,
  readBody,
  TOKEN_QUERY,
} from './wire.ts';

export async function serveMcp(
  g: Gateway,
  req: IncomingMessage,
  res: ServerResponse,
  state: RequestState,
): Promise<Response | JsonReply> {
  const method = req.method ?? 'GET';
  const fromProxy = g.trusted.has(normalizeAddress(req.socket?.remoteAddress));
  const hostHeader =
    (fromProxy && (req.headers['x-forwarded-host'] as string | undefined)) || req.headers.host;
  const host = g.checkHost(hostHeader);
  const source = sourceOf(g, req);
  if (!host.ok) {
    door(g, state, source, 'FOREIGN_HOST', { host: String(hostHeader).slice(0, 256) });
    return g.refuse(state, 'host', jsonRpcError(403, -32000, 'Forbidden: Host header is not allowed'));
  }
  const originHeader = req.headers.origin;
  const origin = validateOriginHeader(originHeader, g.allowed);
  if (!origin.ok) {
    door(g, state, source, 'FOREIGN_ORIGIN', { origin: String(originHeader).slice(0, 256) });
    return g.refuse(state, 'origin', jsonRpcError(403, -32000, 'Forbidden: Origin is not allowed'));
  }
  if (method === 'OPTIONS')
    return new Response(null, {
      status: 204,
      headers: {
        'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
        'access-control-allow-headers': CORS_ALLOW_HEADERS,
        'access-control-max-age': '600',
      },
    });
  // Parsed only when there is a query to look at (most requests have none).
  const url = (req.url ?? '/').includes('?') ? new URL(req.url ?? '/', 'http://localhost') : undefined;
  for (const key of url?.searchParams.keys() ?? [])
    if (TOKEN_QUERY.test(key)) {
      door(g, state, source, 'QUERY_TOKEN', { parameter: key.slice(0, 64) });
      return g.challenge(
        state,
        'query_token',
        'Credentials in the query string are not accepted; use the Authorization header.',
      );
    }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > g.settings.maxBodyBytes) {
    door(g, state, source, 'BODY_TOO_LARGE', { declared });
    return g.refuse(state, 'too_large', jsonRpcError(413, -32000, 'Request body too large'));
  }

  const auth = await authenticate(g, req, state, source);
  if (auth instanceof Response) return auth;
  const { authInfo } = auth;
  let { principal } = auth;
  const key = `${principal.kind}:${principal.id}`;
  state.principal = principal.id;
  const wait = g.rate.take(key);
  if (wait > 0) {
    door(g, state, source, 'RATE_LIMITED', { retryAfterSeconds: wait }, principal);
    return g.refuse(
      state,
      'rate_limited',
      jsonRpcError(429, -32000, `Rate limit exceeded; retry after ${wait} s`, {
        'retry-after': String(wait),
      }),
    );
  }
  // A GET is a long-lived notification stream of a session (bounded by the session
  // store), not work in progress: it must not use up the caller's concurrency.
  if (!state.stream) {
    const release = g.concurrency.acquire(key);
    if (!release) {
      door(g, state, source, 'BUSY', { limit: g.settings.maxConcurrent }, principal);
      return g.refuse(
        state,
        'concurrency',
        jsonRpcError(429, -32000, 'Too many concurrent requests for this caller', { 'retry-after': '1' }),
      );
    }
    state.release = release;
  }
  // From here on the principal is this connection's: narrowed to its toolsets (X-Gatehouse-Toolsets).
  const narrowed = narrowRequest(g, req, state, principal, authInfo);
  if (narrowed instanceof Response) return narrowed;
  principal = narrowed;

  let body: Buffer | undefined;
  /** The body's JSON, parsed once at the door (undefined when it is not JSON). */
  let message: unknown;
  if (method !== 'GET' && method !== 'HEAD' && method !== 'DELETE') {
    try {
      body = await readBody(req, g.settings.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        g.audit(principal, 'protocol', 'http', 'BODY_TOO_LARGE', {}, state.id);
        return g.refuse(state, 'too_large', jsonRpcError(413, -32000, 'Request body too large'));
      }
      throw error;
    }
    const screened = screenBody(g, req, state, principal, body);
    if (screened instanceof Response) return screened;
    ({ body, message } = screened);
  }
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const reusable =
    g.kept && body && !req.headers['mcp-session-id'] ? reusableRequest(req.headers, message) : undefined;
  if (g.kept && reusable) {
    const found = g.kept.get(principal);
    const server = found instanceof Promise ? await found : found;
    // A call that needs a 403 insufficient_scope challenge is the SDK handler's to answer.
    const challenged =
      g.scopeRefusal === 'challenge' &&
      (await server.mcp.resolveScopeChallenge({ request: reusable, authInfo })) !== undefined;
    if (!challenged)
      return withIncomingTrace(req.headers, async () => {
        // A plain tools/call goes straight to the seam (call/direct.ts); the rest through the kept server's SDK.
        const answer = await (directToolCall(g.runtime, server, reusable, abort.signal) ??
          server.transport.dispatch(reusable, authInfo, abort.signal));
        return answer
          ? new JsonReply(answer)
          : jsonRpcError(503, -32000, 'The request ended before it was answered');
      });
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  // A body the door rewrote (carried arguments) has a length of its own.
  if (body && headers.has('content-length')) headers.set('content-length', String(body.length));
  const target = url ?? new URL(req.url ?? '/', 'http://localhost');
  const request = new Request(`http://${host.hostname}${target.pathname}${target.search}`, {
    method,
    headers,
    signal: abort.signal,
    ...(body ? { body: new Uint8Array(body) } : {}),
  });
  const { sessions } = g;
  if (
    sessions &&
    (await isLegacyRequest(request, undefined, { maxRequestBodySize: g.settings.maxBodyBytes }))
  )
    return withIncomingTrace(req.headers, () => sessions.handle(request, authInfo, principal, key));
  // The caller's `traceparent` header parents the MCP spans this request starts.
  return withIncomingTrace(req.headers, () => g.handler.fetch(request, { authInfo }));
}

async function authenticate(
  g: Gateway,
  req: IncomingMessage,
  state: RequestState,
  source: string,
): Promise<{ authInfo: AuthInfo; principal: Principal } | Response> {
  if (!g.authenticator) {
    return {
      principal: g.localPrincipal,
      authInfo: {
        token: '',
        clientId: g.localPrincipal.id,
        scopes: [...g.localPrincipal.scopes],
        extra: { principal: g.localPrincipal, requestId: state.id },
      },
    };
  }
  try {
    const authInfo = await verifyBearerToken(req.headers.authorization, {
      verifier: g.authenticator,
      resourceMetadataUrl: g.resourceMetadataUrl,
      expectedResource: g.settings.publicUrl,
    });
    const principal = principalOf(authInfo);
    if (!principal) throw new AuthError('claims', 'The credential names no principal.');
    authInfo.extra = { ...authInfo.extra, requestId: state.id };
    return { authInfo, principal };
  } catch (error) {
    const reason =
      error instanceof AuthError ? error.reason : req.headers.authorization ? 'malformed' : 'missing';
    g.metrics.authFailures.inc({ reason });
    state.reason = reason;
    door(g, state, source, 'UNAUTHENTICATED', { reason }, undefined, reason);
    g.log.info({ reqId: state.id, reason }, 'credential refused');
    return bearerAuthChallengeResponse(error, { resourceMetadataUrl: g.resourceMetadataUrl });
  }
}

const ANONYMOUS = { id: 'anonymous', kind: 'http' } as const;
/** How deep a request body may nest at the door (a tool call's arguments excepted). */
const DOOR_DEPTH = 64;

/** Who sent a request: the peer, or the first X-Forwarded-For hop when the peer is a trusted proxy. */
function sourceOf(g: Gateway, req: IncomingMessage): string {
  const remote = normalizeAddress(req.socket?.remoteAddress);
  if (!g.trusted.has(remote)) return remote;
  const forwarded = String(req.headers['x-forwarded-for'] ?? '')
    .split(',')[0]
    ?.trim()
    .slice(0, 64);
  return forwarded || remote;
}

/** A refusal a flood can repeat, counted per source and interval (./refusals.ts); anonymous before authentication. */
function door(
  g: Gateway,
  state: RequestState,
  source: string,
  errorCode: string,
  args: Record<string, unknown>,
  principal?: Principal,
  detail?: string,
): void {
  g.refusals.count({
    source,
    principal: principal ? { id: principal.id, kind: principal.kind } : ANONYMOUS,
    kind: 'protocol',
    name: 'http',
    errorCode,
    ...(detail ? { detail } : {}),
    args,
    requestId: state.id,
  });
}

/**
 * The body's own checks, once the caller is known: no batches, no nesting past
 * the door's depth — except inside a tool call's arguments, which the seam
 * measures and refuses typed — and the requests the SDK would answer alone
 * audited or carried to the seam (call/inbound.ts), as stdio does. Each refusal
 * leaves one record. Returns the body to serve (rewritten when arguments were
 * carried) or the refusal.
 */
function screenBody(
  g: Gateway,
  req: IncomingMessage,
  state: RequestState,
  principal: Principal,
  body: Buffer,
): { body: Buffer; message: unknown } | Response {
  // JSON-RPC batches were removed from the protocol in 2025-06-18.
  const first = body.find((byte) => byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09);
  if (first === 0x5b && req.headers['mcp-protocol-version'] !== '2025-03-26') {
    g.audit(principal, 'protocol', 'http', 'BATCH', {}, state.id, 'invalid');
    return g.refuse(
      state,
      'batch',
      jsonRpcError(400, -32600, 'Invalid Request: JSON-RPC batches are not supported'),
    );
  }
  const text = body.toString('utf8');
  let message: unknown;
  let parsed = true;
  try {
    // Iterative in V8: no depth overflows it.
    message = JSON.parse(text);
  } catch {
    parsed = false;
  }
  if (jsonTooDeep(text, DOOR_DEPTH) && !(parsed && onlyArgumentsTooDeep(message))) {
    g.audit(principal, 'protocol', 'http', 'TOO_DEEP', {}, state.id, 'invalid');
    return g.refuse(state, 'too_deep', jsonRpcError(400, -32600, 'Invalid Request: JSON nested too deeply'));
  }
  if (!parsed) {
    // The SDK answers it (a parse error); the record is written here.
    g.audit(principal, 'protocol', 'jsonrpc', 'PARSE_ERROR', {}, state.id, 'invalid');
    return { body, message: undefined };
  }
  let carried = false;
  for (const one of Array.isArray(message) ? message : [message])
    if (inspectInbound(g.runtime, principal, one, { scopeRefusal: g.scopeRefusal })) carried = true;
  // Written without recursion: what is carried may nest deeply.
  return { body: carried ? Buffer.from(canonicalJson(message), 'utf8') : body, message };
}

/** A tool call whose envelope is shallow: only its arguments nest past the door's depth. */
function onlyArgumentsTooDeep(message: unknown): boolean {
  if (!message || typeof message !== 'object' || Array.isArray(message)) return false;
  const { method, params } = message as { method?: unknown; params?: unknown };
  if (method !== 'tools/call' || !params || typeof params !== 'object' || Array.isArray(params)) return false;
  const envelope = { ...message, params: { ...params, arguments: null } };
  return jsonShape(envelope, { elements: Number.POSITIVE_INFINITY, depth: DOOR_DEPTH }).depth <= DOOR_DEPTH;
}
