/**
 * /mcp: the checks at the door (Host, Origin, query credentials, declared
 * size), authentication, per-principal admission, the body's shape, then the
 * answer: a kept server for stateless 2025 calls, the session store, or the
 * SDK's per-request handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type AuthInfo,
  bearerAuthChallengeResponse,
  isLegacyRequest,
  validateHostHeader,
  validateOriginHeader,
  verifyBearerToken,
} from '@modelcontextprotocol/server';
import type { Principal } from '../call/policy.ts';
import { withIncomingTrace } from '../telemetry/tracing.ts';
import { AuthError, principalOf } from './auth.ts';
import type { Gateway } from './gateway.ts';
import { reusableRequest } from './reuse.ts';
import { jsonRpcError } from './sessions.ts';
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
  const host = validateHostHeader(hostHeader, g.allowed);
  if (!host.ok) {
    g.audit(
      { id: 'anonymous', kind: 'http' },
      'protocol',
      'http',
      'FOREIGN_HOST',
      { host: String(hostHeader).slice(0, 256) },
      state.id,
    );
    return g.refuse(state, 'host', jsonRpcError(403, -32000, 'Forbidden: Host header is not allowed'));
  }
  const originHeader = req.headers.origin;
  const origin = validateOriginHeader(originHeader, g.allowed);
  if (!origin.ok) {
    g.audit(
      { id: 'anonymous', kind: 'http' },
      'protocol',
      'http',
      'FOREIGN_ORIGIN',
      { origin: String(originHeader).slice(0, 256) },
      state.id,
    );
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
  const url = new URL(req.url ?? '/', 'http://localhost');
  for (const key of url.searchParams.keys())
    if (TOKEN_QUERY.test(key))
      return g.challenge(
        state,
        'query_token',
        'Credentials in the query string are not accepted; use the Authorization header.',
      );
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > g.settings.maxBodyBytes)
    return g.refuse(state, 'too_large', jsonRpcError(413, -32000, 'Request body too large'));

  const auth = await authenticate(g, req, state);
  if (auth instanceof Response) return auth;
  const { authInfo, principal } = auth;
  const key = `${principal.kind}:${principal.id}`;
  state.principal = principal.id;
  const wait = g.rate.take(key);
  if (wait > 0)
    return g.refuse(
      state,
      'rate_limited',
      jsonRpcError(429, -32000, `Rate limit exceeded; retry after ${wait} s`, {
        'retry-after': String(wait),
      }),
    );
  // A GET is a long-lived notification stream of a session (bounded by the session
  // store), not work in progress: it must not use up the caller's concurrency.
  if (!state.stream) {
    const release = g.concurrency.acquire(key);
    if (!release)
      return g.refuse(
        state,
        'concurrency',
        jsonRpcError(429, -32000, 'Too many concurrent requests for this caller', { 'retry-after': '1' }),
      );
    state.release = release;
  }

  let body: Buffer | undefined;
  if (method !== 'GET' && method !== 'HEAD' && method !== 'DELETE') {
    try {
      body = await readBody(req, g.settings.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge)
        return g.refuse(state, 'too_large', jsonRpcError(413, -32000, 'Request body too large'));
      throw error;
    }
    // JSON-RPC batches were removed from the protocol in 2025-06-18.
    const first = body.find((byte) => byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09);
    if (first === 0x5b && req.headers['mcp-protocol-version'] !== '2025-03-26')
      return g.refuse(
        state,
        'batch',
        jsonRpcError(400, -32600, 'Invalid Request: JSON-RPC batches are not supported'),
      );
    if (jsonTooDeep(body.toString('utf8')))
      return g.refuse(
        state,
        'too_deep',
        jsonRpcError(400, -32600, 'Invalid Request: JSON nested too deeply'),
      );
  }
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const reusable =
    g.kept && body && !req.headers['mcp-session-id'] ? reusableRequest(req.headers, body) : undefined;
  if (g.kept && reusable) {
    const server = await g.kept.get(principal);
    // A call that needs a 403 insufficient_scope challenge is the SDK handler's to answer.
    const challenged =
      !g.settings.noAuth &&
      (await server.mcp.resolveScopeChallenge({ request: reusable, authInfo })) !== undefined;
    if (!challenged)
      return withIncomingTrace(req.headers, async () => {
        const answer = await server.transport.dispatch(reusable, authInfo, abort.signal);
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
  const request = new Request(`http://${host.hostname}${url.pathname}${url.search}`, {
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
    g.log.info({ reqId: state.id, reason }, 'credential refused');
    return bearerAuthChallengeResponse(error, { resourceMetadataUrl: g.resourceMetadataUrl });
  }
}
