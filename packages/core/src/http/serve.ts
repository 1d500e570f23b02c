import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AuthInfo,
  bearerAuthChallengeResponse,
  buildOAuthProtectedResourceMetadata,
  createMcpHandler,
  getOAuthProtectedResourceMetadataUrl,
  isLegacyRequest,
  type McpHttpHandler,
  OAuthError,
  OAuthErrorCode,
  validateHostHeader,
  validateOriginHeader,
  verifyBearerToken,
} from '@modelcontextprotocol/server';
import { CallRecord } from '../audit/record.ts';
import { buildMcpServer } from '../call/build.ts';
import type { Principal } from '../call/policy.ts';
import type { Runtime } from '../call/runtime.ts';
import { recordOutcome } from '../call/tool-call.ts';
import { createAccessLog } from '../telemetry/logger.ts';
import { shutdownTracing, withIncomingTrace } from '../telemetry/tracing.ts';
import { AuthError, Authenticator, principalOf } from './auth.ts';
import { ConcurrencyLimiter, RateLimiter } from './limits.ts';
import { HttpMetrics } from './metrics.ts';
import { KeptServers, reusableRequest } from './reuse.ts';
import { jsonRpcError, SessionStore } from './sessions.ts';
import type { HttpSettings } from './settings.ts';

const LOCAL_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const TOKEN_QUERY = /^(access_token|token|api_key|apikey|key|authorization|bearer)$/i;
const MAX_JSON_DEPTH = 64;
const CORS_ALLOW_HEADERS =
  'authorization, content-type, accept, mcp-protocol-version, mcp-session-id, last-event-id, x-request-id, mcp-method, mcp-name';
const CORS_EXPOSE = 'WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version, X-Request-Id, Retry-After';

interface RequestState {
  id: string;
  route: string;
  principal?: string;
  release?: () => void;
  stream: boolean;
  reason?: string;
}

function hostnameOf(entry: string): string {
  if (!entry.includes('://')) return entry.toLowerCase();
  try {
    return new URL(entry).hostname.toLowerCase();
  } catch {
    return entry.toLowerCase();
  }
}

/** Whether a JSON text nests deeper than `max` (a linear scan; strings are skipped). */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

const normalizeAddress = (address: string | undefined) => (address ?? '').replace(/^::ffff:/, '');

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** A complete JSON answer written as is, without a web Response around it. */
class JsonReply {
  readonly text: string;
  constructor(value: unknown) {
    this.text = JSON.stringify(value);
  }
}

/**
 * Writes a reply. `beforeWrite` runs before every byte leaves (the audit
 * flush), so no answer reaches a client before its record is on disk.
 */
async function send(
  res: ServerResponse,
  response: Response | JsonReply,
  extra: Record<string, string>,
  beforeWrite: () => void,
): Promise<void> {
  beforeWrite();
  if (response instanceof JsonReply) {
    res.writeHead(200, { ...extra, 'content-type': 'application/json' });
    res.end(response.text);
    return;
  }
  const headers: Record<string, string> = { ...extra };
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.once('close', () => void reader.cancel().catch(() => undefined));
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (done || res.destroyed) break;
    beforeWrite();
    if (!res.write(value)) await waitDrain(res);
  }
  res.end();
}

export interface HttpApp {
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  metrics: HttpMetrics;
  authenticator: Authenticator | undefined;
  /** Stop taking requests, let in-flight ones finish (bounded), then release everything. */
  drain(server: Server): Promise<void>;
}

/**
 * The Streamable HTTP front of one server process: probes, metrics, RFC 9728
 * metadata and /mcp behind Host/Origin checks, authentication, per-principal
 * admission, then the SDK's per-request handler (or 2025 sessions).
 */
export function createHttpApp(runtime: Runtime, settings: HttpSettings, localPrincipal: Principal): HttpApp {
  const log = runtime.log.child({ component: 'http' });
  const access = createAccessLog({ name: runtime.definition.name, level: runtime.log.level });
  const accessLog = access.log.child({ component: 'http' });
  const allowed = [
    ...LOCAL_NAMES,
    ...settings.allowedOrigins.map(hostnameOf),
    ...(settings.publicUrl ? [settings.publicUrl.hostname.toLowerCase()] : []),
  ];
  const trusted = new Set(settings.trustedProxies.map(normalizeAddress));
  const publicUrl = settings.publicUrl;
  const resourceMetadataUrl = publicUrl ? getOAuthProtectedResourceMetadataUrl(publicUrl) : undefined;
  const authenticator =
    settings.noAuth || !publicUrl
      ? undefined
      : new Authenticator({
          issuer: settings.issuer,
          audience: publicUrl,
          apiKeys: settings.apiKeys,
          log,
        });
  authenticator?.jwks?.start();
  const metadata =
    publicUrl && !settings.noAuth
      ? {
          ...buildOAuthProtectedResourceMetadata({
            oauthMetadata: {
              issuer: settings.issuer ?? publicUrl.origin,
              authorization_endpoint: `${settings.issuer ?? publicUrl.origin}/authorize`,
              token_endpoint: `${settings.issuer ?? publicUrl.origin}/token`,
              response_types_supported: ['code'],
            },
            resourceServerUrl: publicUrl,
            scopesSupported: Object.keys(runtime.definition.scopes),
            resourceName: runtime.definition.title,
            dangerouslyAllowInsecureIssuerUrl: true,
          }),
          ...(settings.issuer ? {} : { authorization_servers: [] }),
          bearer_methods_supported: ['header'],
        }
      : undefined;
  const rate = new RateLimiter(settings.ratePerMinute);
  const concurrency = new ConcurrencyLimiter(settings.maxConcurrent);
  let sessions: SessionStore | undefined;
  const metrics = new HttpMetrics(runtime, () => sessions?.size ?? 0);
  runtime.audit.observe((record) => metrics.observeAudit(record));

  /** HTTP refusals (limits, scope challenges) leave one record each, built like every other. */
  const audit = (
    principal: Principal | { id: string; kind: string },
    kind: 'tool' | 'protocol',
    name: string,
    errorCode: string,
    args: Record<string, unknown>,
    requestId: string,
  ) =>
    recordOutcome(
      runtime,
      new CallRecord({
        principal,
        kind,
        name,
        args,
        requestId,
        decision: 'denied',
        outcome: 'error',
        errorCode,
      }),
    );

  /** `requestId` names the request whose scope challenges are audited; a kept server only asks (the SDK's path answers and audits). */
  const build = (principal: Principal, requestId?: string) =>
    buildMcpServer(runtime, principal, {
      scopeChallenges: !settings.noAuth,
      onScopeChallenge: (tool, scopes, args) => {
        if (requestId === undefined) return;
        audit(
          principal,
          'tool',
          tool,
          'INSUFFICIENT_SCOPE',
          { requiredScopes: scopes, args: args ?? {} },
          requestId,
        );
      },
    });
  const handler: McpHttpHandler = createMcpHandler(
    (ctx) => {
      const principal = principalOf(ctx.authInfo) ?? localPrincipal;
      return build(principal, String(ctx.authInfo?.extra?.requestId ?? randomUUID()));
    },
    {
      legacy: settings.sessions ? 'reject' : 'stateless',
      maxRequestBodySize: settings.maxBodyBytes,
      onerror: (error) => log.debug({ err: error.message }, 'mcp request rejected'),
    },
  );
  // Stateless 2025-era calls are answered by a server kept per principal, not one built per request.
  const kept = settings.sessions ? undefined : new KeptServers((principal) => build(principal));
  if (settings.sessions)
    sessions = new SessionStore({
      ttlMs: settings.sessionTtlMs,
      max: 1000,
      build: (principal) => build(principal, randomUUID()),
      log,
      onMismatch: (principal) =>
        audit(principal, 'protocol', 'session', 'SESSION_PRINCIPAL_MISMATCH', {}, randomUUID()),
    });

  const flushAudit = runtime.audit.flushBeforeAnswers((error) =>
    log.error({ err: error }, 'audit write failed'),
  );

  let draining = false;
  let inflight = 0;
  let onIdle: (() => void) | undefined;

  const refuse = (state: RequestState, reason: string, response: Response) => {
    state.reason = reason;
    metrics.rejected.inc({ reason });
    return response;
  };

  const challenge = (state: RequestState, reason: string, message: string) => {
    metrics.authFailures.inc({ reason });
    state.reason = reason;
    return bearerAuthChallengeResponse(new OAuthError(OAuthErrorCode.InvalidToken, message), {
      resourceMetadataUrl,
    });
  };

  async function authenticate(
    req: IncomingMessage,
    state: RequestState,
  ): Promise<{ authInfo: AuthInfo; principal: Principal } | Response> {
    if (!authenticator) {
      return {
        principal: localPrincipal,
        authInfo: {
          token: '',
          clientId: localPrincipal.id,
          scopes: [...localPrincipal.scopes],
          extra: { principal: localPrincipal, requestId: state.id },
        },
      };
    }
    try {
      const authInfo = await verifyBearerToken(req.headers.authorization, {
        verifier: authenticator,
        resourceMetadataUrl,
        expectedResource: publicUrl,
      });
      const principal = principalOf(authInfo);
      if (!principal) throw new AuthError('claims', 'The credential names no principal.');
      authInfo.extra = { ...authInfo.extra, requestId: state.id };
      return { authInfo, principal };
    } catch (error) {
      const reason =
        error instanceof AuthError ? error.reason : req.headers.authorization ? 'malformed' : 'missing';
      metrics.authFailures.inc({ reason });
      state.reason = reason;
      log.info({ reqId: state.id, reason }, 'credential refused');
      return bearerAuthChallengeResponse(error, { resourceMetadataUrl });
    }
  }

  async function serveMcp(
    req: IncomingMessage,
    res: ServerResponse,
    state: RequestState,
  ): Promise<Response | JsonReply> {
    const method = req.method ?? 'GET';
    const fromProxy = trusted.has(normalizeAddress(req.socket?.remoteAddress));
    const hostHeader =
      (fromProxy && (req.headers['x-forwarded-host'] as string | undefined)) || req.headers.host;
    const host = validateHostHeader(hostHeader, allowed);
    if (!host.ok) {
      audit(
        { id: 'anonymous', kind: 'http' },
        'protocol',
        'http',
        'FOREIGN_HOST',
        { host: String(hostHeader).slice(0, 256) },
        state.id,
      );
      return refuse(state, 'host', jsonRpcError(403, -32000, 'Forbidden: Host header is not allowed'));
    }
    const originHeader = req.headers.origin;
    const origin = validateOriginHeader(originHeader, allowed);
    if (!origin.ok) {
      audit(
        { id: 'anonymous', kind: 'http' },
        'protocol',
        'http',
        'FOREIGN_ORIGIN',
        { origin: String(originHeader).slice(0, 256) },
        state.id,
      );
      return refuse(state, 'origin', jsonRpcError(403, -32000, 'Forbidden: Origin is not allowed'));
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
        return challenge(
          state,
          'query_token',
          'Credentials in the query string are not accepted; use the Authorization header.',
        );
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > settings.maxBodyBytes)
      return refuse(state, 'too_large', jsonRpcError(413, -32000, 'Request body too large'));

    const auth = await authenticate(req, state);
    if (auth instanceof Response) return auth;
    const { authInfo, principal } = auth;
    const key = `${principal.kind}:${principal.id}`;
    state.principal = principal.id;
    const wait = rate.take(key);
    if (wait > 0)
      return refuse(
        state,
        'rate_limited',
        jsonRpcError(429, -32000, `Rate limit exceeded; retry after ${wait} s`, {
          'retry-after': String(wait),
        }),
      );
    // A GET is a long-lived notification stream of a session (bounded by the session
    // store), not work in progress: it must not use up the caller's concurrency.
    if (!state.stream) {
      const release = concurrency.acquire(key);
      if (!release)
        return refuse(
          state,
          'concurrency',
          jsonRpcError(429, -32000, 'Too many concurrent requests for this caller', { 'retry-after': '1' }),
        );
      state.release = release;
    }

    let body: Buffer | undefined;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'DELETE') {
      try {
        body = await readBody(req, settings.maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLarge)
          return refuse(state, 'too_large', jsonRpcError(413, -32000, 'Request body too large'));
        throw error;
      }
      // JSON-RPC batches were removed from the protocol in 2025-06-18.
      const first = body.find((byte) => byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09);
      if (first === 0x5b && req.headers['mcp-protocol-version'] !== '2025-03-26')
        return refuse(
          state,
          'batch',
          jsonRpcError(400, -32600, 'Invalid Request: JSON-RPC batches are not supported'),
        );
      if (jsonTooDeep(body.toString('utf8')))
        return refuse(
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
      kept && body && !req.headers['mcp-session-id'] ? reusableRequest(req.headers, body) : undefined;
    if (kept && reusable) {
      const server = await kept.get(principal);
      // A call that needs a 403 insufficient_scope challenge is the SDK handler's to answer.
      const challenged =
        !settings.noAuth &&
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
    if (
      sessions &&
      (await isLegacyRequest(request, undefined, { maxRequestBodySize: settings.maxBodyBytes }))
    )
      return withIncomingTrace(req.headers, () => sessions.handle(request, authInfo, principal, key));
    // The caller's `traceparent` header parents the MCP spans this request starts.
    return withIncomingTrace(req.headers, () => handler.fetch(request, { authInfo }));
  }

  async function route(
    req: IncomingMessage,
    res: ServerResponse,
    state: RequestState,
  ): Promise<Response | JsonReply> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    state.route =
      path === '/mcp' ? 'mcp' : path.startsWith('/.well-known/') ? 'well-known' : path.slice(1, 40);
    if (draining)
      return jsonRpcError(503, -32000, 'Server is shutting down', {
        connection: 'close',
        'retry-after': '1',
      });
    if (path === '/healthz') return Response.json({ ok: true });
    if (path === '/readyz')
      return Response.json({
        ready: true,
        upstream: runtime.upstream ? { circuit: runtime.upstream.circuitState } : null,
        sessions: sessions?.size ?? 0,
      });
    if (path === '/metrics') {
      if (settings.metricsToken) {
        const presented = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
        if (!safeEqual(presented, settings.metricsToken))
          return new Response('unauthorized\n', { status: 401, headers: { 'www-authenticate': 'Bearer' } });
      }
      return new Response(await metrics.registry.metrics(), {
        headers: { 'content-type': metrics.registry.contentType },
      });
    }
    if (
      metadata &&
      publicUrl &&
      (path === '/.well-known/oauth-protected-resource' ||
        path === new URL(resourceMetadataUrl ?? '/', 'http://x').pathname)
    ) {
      if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS')
        return new Response(null, { status: 405, headers: { allow: 'GET, HEAD, OPTIONS' } });
      return Response.json(metadata, {
        headers: { 'access-control-allow-origin': '*', 'cache-control': 'public, max-age=300' },
      });
    }
    if (path === '/mcp') {
      state.stream = req.method === 'GET';
      return serveMcp(req, res, state);
    }
    return Response.json({ error: 'not_found' }, { status: 404 });
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const incoming = req.headers['x-request-id'];
    const id =
      typeof incoming === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    const state: RequestState = { id, route: 'other', stream: false };
    inflight += 1;
    metrics.inflight.inc();
    runtime.idle.touch();
    // Read now: once the client hangs up the socket is gone, and the close handler must not throw.
    const remote = normalizeAddress(req.socket?.remoteAddress);
    res.once('close', () => {
      runtime.idle.touch();
      inflight -= 1;
      metrics.inflight.dec();
      state.release?.();
      const seconds = (performance.now() - started) / 1000;
      metrics.requests.inc({ route: state.route, method: req.method ?? '', status: String(res.statusCode) });
      metrics.requestSeconds.observe({ route: state.route }, seconds);
      const fromProxy = trusted.has(remote);
      const forwarded = fromProxy
        ? String(req.headers['x-forwarded-for'] ?? '')
            .split(',')[0]
            ?.trim()
        : undefined;
      accessLog.info(
        {
          reqId: id,
          method: req.method,
          route: state.route,
          status: res.statusCode,
          ms: Math.round(seconds * 1000),
          ip: forwarded || remote,
          ...(state.principal ? { principal: state.principal } : {}),
          ...(state.reason ? { reason: state.reason } : {}),
        },
        'http request',
      );
      if (inflight === 0) onIdle?.();
    });
    const origin = req.headers.origin;
    const cors: Record<string, string> = { 'x-request-id': id };
    if (origin && validateOriginHeader(origin, allowed).ok) {
      cors['access-control-allow-origin'] = origin;
      cors['access-control-expose-headers'] = CORS_EXPOSE;
      cors.vary = 'Origin';
    }
    void route(req, res, state)
      // In the check phase of this turn of the event loop, after every request that became ready
      // in the same poll has been answered: their audit records then share one write.
      .then(
        (response) =>
          new Promise<void>((done, fail) =>
            setImmediate(() => send(res, response, cors, flushAudit).then(done, fail)),
          ),
      )
      .catch((error: unknown) => {
        log.error({ reqId: id, err: error }, 'http request failed');
        flushAudit();
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json', ...cors });
          res.end(
            JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }),
          );
        } else res.destroy();
      });
  };

  return {
    listener,
    metrics,
    authenticator,
    async drain(server: Server) {
      draining = true;
      server.close();
      server.closeIdleConnections();
      await sessions?.closeAll();
      if (inflight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, settings.shutdownTimeoutMs);
          timer.unref();
          onIdle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      await handler.close().catch(() => undefined);
      await kept?.closeAll();
      server.closeAllConnections();
      access.close();
      authenticator?.jwks?.stop();
    },
  };
}

/**
 * `--transport http`: Streamable HTTP on /mcp, stateless by default, with the
 * probes and metrics on the same port. Refuses to start unauthenticated
 * beyond loopback.
 */
export async function serveHttp(
  runtime: Runtime,
  options: { settings: HttpSettings; principal: Principal },
): Promise<{ server: Server; url: string; app: HttpApp }> {
  const app = createHttpApp(runtime, options.settings, options.principal);
  const server = createServer(
    { maxHeaderSize: 16 * 1024, requestTimeout: 60_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
    app.listener,
  );
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.settings.port, options.settings.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.settings.host;
  const shown = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${port}/mcp`;
  process.stderr.write(`${runtime.definition.bin} listening on ${url}\n`);
  runtime.log.info(
    {
      transport: 'http',
      url,
      auth: options.settings.noAuth ? 'none' : 'bearer',
      sessions: options.settings.sessions,
    },
    'serving',
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    runtime.log.info({ signal }, 'shutting down: draining in-flight requests');
    void app
      .drain(server)
      .then(() => runtime.close())
      .then(() => shutdownTracing())
      .catch((error: unknown) => runtime.log.error({ err: error }, 'shutdown failed'))
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return { server, url, app };
}
