/**
 * What every part of the HTTP front shares for one server process: its
 * settings, checks, limits and the SDK handler. Built once by `createGateway`;
 * the request path (front.ts, mcp.ts) and the app (serve.ts) read from it.
 */
import { randomUUID } from 'node:crypto';
import {
  bearerAuthChallengeResponse,
  buildOAuthProtectedResourceMetadata,
  createMcpHandler,
  getOAuthProtectedResourceMetadataUrl,
  type McpHttpHandler,
  OAuthError,
  OAuthErrorCode,
  validateHostHeader,
} from '@modelcontextprotocol/server';
import { type AuditDecision, CallRecord } from '../audit/record.ts';
import { buildMcpServer, servedTools } from '../call/build.ts';
import type { Principal } from '../call/policy.ts';
import type { Runtime } from '../call/runtime.ts';
import { recordOutcome } from '../call/tool-call.ts';
import type { Logger } from '../telemetry/logger.ts';
import { Authenticator, principalOf } from './auth.ts';
import { ConcurrencyLimiter, RateLimiter } from './limits.ts';
import { HttpMetrics } from './metrics.ts';
import { type Refusal, RefusalTally } from './refusals.ts';
import { KeptServers } from './reuse.ts';
import { SessionStore } from './sessions.ts';
import type { HttpSettings } from './settings.ts';
import { hostnameOf, LOCAL_NAMES, type RequestState } from './wire.ts';

export interface Gateway {
  readonly runtime: Runtime;
  readonly settings: HttpSettings;
  /** What a call outside the caller's scopes gets (see BuildOptions.scopeRefusal). */
  readonly scopeRefusal: 'challenge' | 'deny';
  readonly log: Logger;
  /** Who a request is when authentication is off (`--no-auth`, loopback only). */
  readonly localPrincipal: Principal;
  /** Host names accepted in Host and Origin. */
  readonly allowed: string[];
  /** The SDK's Host check against `allowed`; an accepted header's answer is remembered (a few, bounded). */
  checkHost(header: string | undefined): ReturnType<typeof validateHostHeader>;
  /** Peers whose X-Forwarded-* headers are believed (addresses and CIDR ranges). */
  readonly trusted: { has(address: string): boolean };
  readonly resourceMetadataUrl: string | undefined;
  /** RFC 9728 metadata, when the server is an authenticated resource server. */
  readonly metadata: Record<string, unknown> | undefined;
  readonly authenticator: Authenticator | undefined;
  readonly metrics: HttpMetrics;
  readonly rate: RateLimiter;
  readonly concurrency: ConcurrencyLimiter;
  readonly handler: McpHttpHandler;
  /** Servers kept per principal for stateless 2025 calls (absent with sessions). */
  readonly kept: KeptServers | undefined;
  readonly sessions: SessionStore | undefined;
  /** Flushes the audit before an answer leaves; never throws. */
  readonly flushAudit: () => void;
  /** One record for a request refused at the door (built by the one audit builder). */
  audit(
    principal: Principal | { id: string; kind: string },
    kind: 'tool' | 'protocol',
    name: string,
    errorCode: string,
    args: Record<string, unknown>,
    requestId: string,
    decision?: AuditDecision,
  ): void;
  /**
   * Refusals a flood can repeat at will (before authentication; admission),
   * folded into records per source, code and interval (./refusals.ts).
   */
  readonly refusals: RefusalTally;
  /** Counts a refusal by reason and hands the answer back. */
  refuse(state: RequestState, reason: string, response: Response): Response;
  /** A 401 with the bearer challenge naming the metadata URL. */
  challenge(state: RequestState, reason: string, message: string): Response;
}

export function createGateway(runtime: Runtime, settings: HttpSettings, localPrincipal: Principal): Gateway {
  const log = runtime.log.child({ component: 'http' });
  const publicUrl = settings.publicUrl;
  const resourceMetadataUrl = publicUrl ? getOAuthProtectedResourceMetadataUrl(publicUrl) : undefined;
  const authenticator =
    settings.noAuth || !publicUrl
      ? undefined
      : new Authenticator({ issuer: settings.issuer, audience: publicUrl, apiKeys: settings.apiKeys, log });
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
  let sessions: SessionStore | undefined;
  const metrics = new HttpMetrics(runtime, () => sessions?.size ?? 0);
  runtime.audit.observe((record) => metrics.observeAudit(record));

  const audit: Gateway['audit'] = (principal, kind, name, errorCode, args, requestId, decision) =>
    recordOutcome(
      runtime,
      new CallRecord({
        principal,
        kind,
        name,
        args,
        requestId,
        decision: decision ?? 'denied',
        outcome: 'error',
        errorCode,
      }),
    );
  const refusals = new RefusalTally((refusal: Refusal, count: number) =>
    recordOutcome(
      runtime,
      new CallRecord({
        principal: refusal.principal,
        kind: refusal.kind,
        name: refusal.name,
        args: refusal.args,
        requestId: refusal.requestId,
        decision: 'denied',
        outcome: 'error',
        errorCode: refusal.errorCode,
        count,
        source: refusal.source,
      }),
    ),
  );

  /**
   * A call outside the caller's scopes: 403 insufficient_scope (step-up) when there is an
   * authorization server to step up with; otherwise a DENIED tool error naming the scope.
   */
  const scopeRefusal = !settings.noAuth && settings.issuer ? 'challenge' : 'deny';
  /** `requestId` names the request whose scope challenges are audited; a kept server only asks (the SDK's path answers and audits). */
  const build = (principal: Principal, requestId?: string) =>
    buildMcpServer(runtime, principal, {
      scopeRefusal,
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
  const sdkHandler = createMcpHandler(
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
  // Draining closes the handler before the runtime: the counts still open go to the trail then.
  const handler: McpHttpHandler = {
    ...sdkHandler,
    close: async () => {
      refusals.close();
      await sdkHandler.close();
    },
  };
  if (settings.sessions)
    sessions = new SessionStore({
      ttlMs: settings.sessionTtlMs,
      max: 1000,
      build: (principal) => build(principal, randomUUID()),
      log,
      onMismatch: (principal) =>
        audit(principal, 'protocol', 'session', 'SESSION_PRINCIPAL_MISMATCH', {}, randomUUID()),
      onToolsetsChanged: (principal) =>
        audit(principal, 'protocol', 'session', 'TOOLSETS_CHANGED', {}, randomUUID(), 'invalid'),
    });

  const allowed = [
    ...LOCAL_NAMES,
    ...settings.allowedOrigins.map(hostnameOf),
    ...(publicUrl ? [publicUrl.hostname.toLowerCase()] : []),
  ];
  /** Host headers already accepted: the same few arrive on every request, each parsed as a URL by the check. */
  const hosts = new Map<string, ReturnType<typeof validateHostHeader>>();
  return {
    runtime,
    settings,
    scopeRefusal,
    log,
    localPrincipal,
    allowed,
    checkHost(header) {
      const known = header === undefined ? undefined : hosts.get(header);
      if (known) return known;
      const checked = validateHostHeader(header, allowed);
      if (checked.ok && header !== undefined && hosts.size < 64) hosts.set(header, checked);
      return checked;
    },
    trusted: settings.trustedProxies,
    resourceMetadataUrl,
    metadata,
    authenticator,
    metrics,
    rate: new RateLimiter(settings.ratePerMinute),
    concurrency: new ConcurrencyLimiter(settings.maxConcurrent),
    handler,
    // Stateless 2025-era calls are answered by a server kept per principal, not one built per request.
    kept: settings.sessions
      ? undefined
      : new KeptServers((principal) => ({
          mcp: build(principal),
          tools: servedTools(runtime, principal, { scopeRefusal }).all,
        })),
    sessions,
    flushAudit: runtime.audit.flushBeforeAnswers((error) => log.error({ err: error }, 'audit write failed')),
    audit,
    refusals,
    refuse(state, reason, response) {
      state.reason = reason;
      metrics.rejected.inc({ reason });
      return response;
    },
    challenge(state, reason, message) {
      metrics.authFailures.inc({ reason });
      state.reason = reason;
      return bearerAuthChallengeResponse(new OAuthError(OAuthErrorCode.InvalidToken, message), {
        resourceMetadataUrl,
      });
    },
  };
}
