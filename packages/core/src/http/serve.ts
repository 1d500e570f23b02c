import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateOriginHeader } from '@modelcontextprotocol/server';
import type { OutOfBand } from '../approval/out-of-band.ts';
import { ApprovalPage } from '../approval/page.ts';
import { ApproverSignIn } from '../approval/signin.ts';
import { openOutOfBand } from '../approval/start.ts';
import type { Principal } from '../call/policy.ts';
import type { Runtime } from '../call/runtime.ts';
import { createAccessLog } from '../telemetry/logger.ts';
import { shutdownMetrics } from '../telemetry/metrics.ts';
import { shutdownTracing } from '../telemetry/tracing.ts';
import { AuthError, type Authenticator, principalOf } from './auth.ts';
import { type ConnectionGuard, createHttpServer, type Refusal, type SocketLimits } from './connections.ts';
import { createGateway } from './gateway.ts';
import { serveMcp } from './mcp.ts';
import type { HttpMetrics } from './metrics.ts';
import { jsonRpcError } from './sessions.ts';
import type { HttpSettings } from './settings.ts';
import { CORS_EXPOSE, type JsonReply, normalizeAddress, type RequestState, safeEqual, send } from './wire.ts';

export { jsonTooDeep } from './wire.ts';

/** The trail's error code for each way a connection is let go before a request. */
const CONNECTION_CODES: Record<Exclude<Refusal, 'reset'>, string> = {
  'pending-cap': 'TOO_MANY_PENDING_CONNECTIONS',
  timeout: 'REQUEST_TIMEOUT',
  'header-too-large': 'HEADERS_TOO_LARGE',
  'bad-request': 'BAD_REQUEST',
};

export interface HttpApp {
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  metrics: HttpMetrics;
  authenticator: Authenticator | undefined;
  /** Stop taking requests, let in-flight ones finish (bounded), then release everything. */
  drain(server: Server): Promise<void>;
  /** A connection let go before it delivered a request: audited, folded per source, reason and interval. */
  refuseConnection(source: string, reason: Refusal): void;
}

/**
 * The Streamable HTTP front of one server process: probes, metrics, RFC 9728
 * metadata and /mcp behind Host/Origin checks, authentication, per-principal
 * admission, then the SDK's per-request handler (or 2025 sessions).
 */
export function createHttpApp(
  runtime: Runtime,
  settings: HttpSettings,
  localPrincipal: Principal,
  outOfBand?: OutOfBand,
): HttpApp {
  const g = createGateway(runtime, settings, localPrincipal);
  const page = outOfBand && approvalPage(runtime, g.authenticator, settings, outOfBand);
  const access = createAccessLog({ name: runtime.definition.name, level: runtime.log.level });
  let draining = false;
  const metrics = g.metrics;
  if (!runtime.config.stateKey) warnWithoutStateKey(runtime);
  const jwks = g.authenticator?.jwks;
  /** Why this process should not get traffic yet: a token cannot be checked before the issuer's keys are in. */
  const notReady = () =>
    jwks && !jwks.loaded()
      ? `the signing keys (JWKS) of the issuer ${g.settings.issuer} have not been fetched yet; tokens cannot be verified`
      : undefined;
  let onIdle: (() => void) | undefined;
  /** Where the RFC 9728 metadata is also served (its URL's path), worked out once. */
  const metadataPath = new URL(g.resourceMetadataUrl ?? '/', 'http://x').pathname;

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
    if (path === '/readyz') {
      const waiting = notReady();
      return Response.json(
        {
          ready: waiting === undefined,
          ...(waiting ? { reason: waiting } : {}),
          upstream: runtime.upstream ? { circuit: runtime.upstream.circuitState } : null,
          sessions: g.sessions?.size ?? 0,
        },
        { status: waiting ? 503 : 200 },
      );
    }
    if (path === '/metrics') {
      if (g.settings.metricsToken) {
        const presented = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
        if (!safeEqual(presented, g.settings.metricsToken))
          return new Response('unauthorized\n', { status: 401, headers: { 'www-authenticate': 'Bearer' } });
      }
      return new Response(await g.metrics.registry.metrics(), {
        headers: { 'content-type': g.metrics.registry.contentType },
      });
    }
    if (
      g.metadata &&
      g.settings.publicUrl &&
      (path === '/.well-known/oauth-protected-resource' || path === metadataPath)
    ) {
      if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS')
        return new Response(null, { status: 405, headers: { allow: 'GET, HEAD, OPTIONS' } });
      return Response.json(g.metadata, {
        headers: { 'access-control-allow-origin': '*', 'cache-control': 'public, max-age=300' },
      });
    }
    if (page && path.startsWith('/approvals/')) {
      state.route = 'approvals';
      return page.handle(req, new URL(req.url ?? '/', outOfBand.base));
    }
    if (path === '/mcp') {
      state.stream = req.method === 'GET';
      return serveMcp(g, req, res, state);
    }
    return Response.json({ error: 'not_found' }, { status: 404 });
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const incoming = req.headers['x-request-id'];
    const id =
      typeof incoming === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    const state: RequestState = { id, route: 'other', stream: false };
    metrics.inflightNow += 1;
    runtime.idle.touch();
    // Read now: once the client hangs up the socket is gone, and the close handler must not throw.
    const remote = normalizeAddress(req.socket?.remoteAddress);
    res.once('close', () => {
      runtime.idle.touch();
      metrics.inflightNow -= 1;
      state.release?.();
      const seconds = (performance.now() - started) / 1000;
      metrics.countRequest(state.route, req.method ?? '', res.statusCode, seconds);
      const fromProxy = g.trusted.has(remote);
      const forwarded = fromProxy
        ? String(req.headers['x-forwarded-for'] ?? '')
            .split(',')[0]
            ?.trim()
        : undefined;
      access.request({
        reqId: id,
        method: req.method,
        route: state.route,
        status: res.statusCode,
        ms: Math.round(seconds * 1000),
        ip: forwarded || remote,
        ...(state.principal ? { principal: state.principal } : {}),
        ...(state.reason ? { reason: state.reason } : {}),
      });
      if (metrics.inflightNow === 0) onIdle?.();
    });
    const origin = req.headers.origin;
    const cors: Record<string, string> = { 'x-request-id': id };
    if (origin && validateOriginHeader(origin, g.allowed).ok) {
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
            setImmediate(() => send(res, response, cors, g.flushAudit).then(done, fail)),
          ),
      )
      .catch((error: unknown) => {
        g.log.error({ reqId: id, err: error }, 'http request failed');
        g.flushAudit();
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
    metrics: g.metrics,
    authenticator: g.authenticator,
    refuseConnection(source, reason) {
      // A reset is the client hanging up, not a refusal of ours.
      if (reason === 'reset') return;
      g.metrics.rejected.inc({ reason: `connection_${reason}` });
      g.refusals.count({
        source,
        principal: { id: 'anonymous', kind: 'http' },
        kind: 'protocol',
        name: 'http',
        errorCode: CONNECTION_CODES[reason],
        args: { reason },
        requestId: randomUUID(),
      });
    },
    async drain(server: Server) {
      draining = true;
      server.close();
      server.closeIdleConnections();
      await g.sessions?.closeAll();
      if (metrics.inflightNow > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, g.settings.shutdownTimeoutMs);
          timer.unref();
          onIdle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      await g.handler.close().catch(() => undefined);
      await g.kept?.closeAll();
      await outOfBand?.store.close().catch(() => undefined);
      server.closeAllConnections();
      access.close();
      g.authenticator?.jwks?.stop();
    },
  };
}

/** The approval page, its sign-in verifying the approver's token as any caller's is; the call path told to use it. */
function approvalPage(
  runtime: Runtime,
  authenticator: Authenticator | undefined,
  settings: HttpSettings,
  outOfBand: OutOfBand,
): ApprovalPage | undefined {
  const { issuer, publicUrl } = settings;
  const clientId = settings.approval.clientId;
  if (!authenticator || !issuer || !publicUrl || !clientId) return undefined;
  const signIn = new ApproverSignIn({
    issuer,
    clientId,
    clientSecret: settings.approval.clientSecret,
    resource: publicUrl.href,
    base: () => outOfBand.base,
    scope: `openid ${runtime.definition.name}:approve ${runtime.definition.name}:pii`,
    keys: outOfBand.keys,
    verify: async (token) => {
      const principal = principalOf(await authenticator.verifyAccessToken(token));
      if (principal?.kind !== 'oauth') throw new AuthError('claims', 'not an access token');
      return principal;
    },
  });
  runtime.approval.useOutOfBand(outOfBand);
  return new ApprovalPage(runtime, outOfBand, signIn);
}

/** Approvals and 2026 multi-round requests are sealed with the state key: one per process unless shared. */
function warnWithoutStateKey(runtime: Runtime): void {
  const variable = `${runtime.definition.envPrefix}_STATE_KEY`;
  runtime.log.warn(
    { variable },
    `${variable} is not set: approvals and 2026 multi-round requests are sealed with a key of this process only, so they fail on another replica and after a restart; set ${variable} to the same secret on every replica (${runtime.definition.bin} keys new state-key)`,
  );
}

/**
 * `--transport http`: Streamable HTTP on /mcp, stateless by default, with the
 * probes and metrics on the same port. Refuses to start unauthenticated
 * beyond loopback. The socket limits (./connections.ts) apply before any request
 * reaches the app; `limits` overrides their defaults (tests).
 */
export async function serveHttp(
  runtime: Runtime,
  options: { settings: HttpSettings; principal: Principal; limits?: Partial<SocketLimits> },
): Promise<{
  server: Server;
  url: string;
  app: HttpApp;
  guard: ConnectionGuard;
  /** Drain as SIGTERM would, without exiting; the runtime stays open. */
  close(): Promise<void>;
}> {
  const outOfBand = await openOutOfBand(runtime, options.settings);
  const app = createHttpApp(runtime, options.settings, options.principal, outOfBand);
  const { server, guard } = createHttpServer(
    { maxPendingPerSource: options.settings.maxPendingPerSource, ...options.limits },
    app.listener,
    (source, reason) => app.refuseConnection(source, reason),
  );
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
      .then(() => shutdownMetrics())
      .catch((error: unknown) => runtime.log.error({ err: error }, 'shutdown failed'))
      .finally(() => process.exit(0));
  };
  const onInt = () => stop('SIGINT');
  const onTerm = () => stop('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  let closing: Promise<void> | undefined;
  const close = () => {
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
    closing ??= app.drain(server);
    return closing;
  };
  return { server, url, app, guard, close };
}
