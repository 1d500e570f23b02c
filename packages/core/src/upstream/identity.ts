/**
 * Who the upstream sees. `service` (the default): the server's own credential, as always. `exchange`:
 * the caller's validated access token is exchanged at the authorization server's token endpoint
 * (RFC 8693) for a short-lived token whose audience is the upstream, with the user as subject and this
 * server as actor; it is cached per caller until shortly before it expires. Fails closed: no identity,
 * an unreachable, slow or refusing token endpoint is a typed error and the upstream is not called —
 * never the service credential instead. Tokens are never logged; the audit gets `sub`, `act`, `jti`.
 */
import { createHash } from 'node:crypto';
import { GatehouseError } from '../define/errors.ts';

/** The caller as the upstream layer needs it: kind and id (a core Principal satisfies it). */
export interface Caller {
  readonly id: string;
  readonly kind: string;
}

export interface IdentitySettings {
  mode: 'service' | 'exchange';
  /** The authorization server's token endpoint. */
  tokenUrl?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  /** The audience asked for: the upstream (default its base URL). */
  audience: string;
  timeoutMs: number;
  /** The local operator's access token (stdio), when given. */
  localToken?: string | undefined;
  /** Variable prefix, for messages that say what to set. */
  prefix: string;
  upstreamName: string;
}

/** What the audit may know of the credential used upstream: never the token itself. */
export interface UpstreamIdentityFacts {
  sub: string;
  actor: string;
  jti: string;
}

interface Exchanged {
  token: string;
  facts: UpstreamIdentityFacts;
  /** Epoch ms after which the token is no longer handed out (shortly before it expires). */
  useUntil: number;
}

/** Inbound tokens by principal object, set by the HTTP authenticator: nowhere loggable holds them. */
const inbound = new WeakMap<object, string>();

/** Remembers the verified access token `principal` came with (HTTP), for a later exchange. */
export function bindInboundToken(principal: object, token: string): void {
  inbound.set(principal, token);
}

/** A kept server built for `to` serves a request authenticated as `from` (the same caller): use its token. */
export function carryInboundToken(from: object, to: object): void {
  const token = inbound.get(from);
  if (token !== undefined && from !== to) inbound.set(to, token);
}

const MAX_CACHED = 10_000;
/** Tokens are not used in their last 30 s (or last tenth of a short life). */
const margin = (lifetimeMs: number) => Math.min(30_000, lifetimeMs / 10);

export class UpstreamIdentity {
  readonly settings: IdentitySettings;
  private readonly cache = new Map<string, Exchanged>();
  private readonly pending = new Map<string, Promise<Exchanged>>();
  /** Exchanges made (cache misses), for tests and the bench. */
  exchanges = 0;

  constructor(settings: IdentitySettings) {
    this.settings = settings;
  }

  /** The bearer token for `caller` and what the audit may say about it. */
  async credential(caller: Caller | undefined, signal?: AbortSignal): Promise<Exchanged> {
    const subject = this.subjectToken(caller);
    const key = `${caller?.id}\u0000${createHash('sha256').update(subject).digest('base64url')}`;
    const cached = this.cache.get(key);
    if (cached && cached.useUntil > Date.now()) return cached;
    let running = this.pending.get(key);
    if (!running) {
      running = this.exchange(subject, signal).finally(() => this.pending.delete(key));
      this.pending.set(key, running);
    }
    const fresh = await running;
    if (this.cache.size >= MAX_CACHED) this.evict();
    this.cache.set(key, fresh);
    return fresh;
  }

  private subjectToken(caller: Caller | undefined): string {
    const { prefix } = this.settings;
    const token =
      caller && caller.kind === 'local' ? this.settings.localToken : caller ? inbound.get(caller) : undefined;
    if (token) return token;
    const how =
      caller?.kind === 'local'
        ? `The operator must give the local user's access token in ${prefix}_IDENTITY_TOKEN_FILE`
        : caller?.kind === 'api-key'
          ? 'API keys carry no user identity: call with an OAuth access token'
          : 'Call with an OAuth access token';
    throw new GatehouseError(
      'IDENTITY_REQUIRED',
      `The ${this.settings.upstreamName} is called as the user (${prefix}_UPSTREAM_IDENTITY=exchange), and this caller has no user identity to exchange. ${how}. Nothing was sent upstream.`,
    );
  }

  private evict(): void {
    const now = Date.now();
    for (const [key, entry] of this.cache) if (entry.useUntil <= now) this.cache.delete(key);
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
  }

  private unavailable(why: string, cause?: unknown): GatehouseError {
    const { prefix, upstreamName } = this.settings;
    return new GatehouseError(
      'IDENTITY_UNAVAILABLE',
      `The authorization server's token endpoint ${why}, so the caller's token could not be exchanged and the ${upstreamName} was not called (there is no fallback to the server's own credential). Try again shortly; if it persists the operator must check ${prefix}_EXCHANGE_TOKEN_URL and the authorization server.`,
      { cause },
    );
  }

  private async exchange(subject: string, signal?: AbortSignal): Promise<Exchanged> {
    const { tokenUrl, clientId, clientSecret, audience, timeoutMs, prefix, upstreamName } = this.settings;
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let body: Record<string, unknown>;
    try {
      response = await fetch(tokenUrl ?? '', {
        method: 'POST',
        redirect: 'error',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId ?? '')}:${encodeURIComponent(clientSecret ?? '')}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          subject_token: subject,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          audience,
        }),
      });
      const text = await response.text();
      body = text.length > 64 * 1024 ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch (error) {
      if (signal?.aborted) throw new GatehouseError('CANCELLED', 'The request was cancelled by the client.');
      if (timeout.aborted) throw this.unavailable(`did not answer within ${timeoutMs} ms`, error);
      throw this.unavailable('could not be reached', error);
    }
    if (response.status >= 500) throw this.unavailable(`failed (HTTP ${response.status})`);
    if (!response.ok || typeof body.access_token !== 'string') {
      const error = typeof body.error === 'string' ? body.error.slice(0, 64) : `HTTP ${response.status}`;
      throw new GatehouseError(
        'IDENTITY_REFUSED',
        `The authorization server refused to exchange the caller's token for one to the ${upstreamName} (${error}), so nothing was sent upstream. The caller should sign in again; if it persists the operator must allow client ${clientId} to exchange tokens for ${audience} (${prefix}_EXCHANGE_CLIENT_ID, ${prefix}_EXCHANGE_AUDIENCE).`,
        { details: { error } },
      );
    }
    this.exchanges += 1;
    const token = body.access_token;
    const claims = safeClaims(token);
    const lifetimeMs = Math.max(1, Number(body.expires_in ?? 60)) * 1000;
    const act = claims.act as { sub?: unknown } | undefined;
    return {
      token,
      facts: {
        sub: String(claims.sub ?? ''),
        actor: String(act?.sub ?? clientId ?? ''),
        jti: String(claims.jti ?? ''),
      },
      useUntil: Date.now() + lifetimeMs - margin(lifetimeMs),
    };
  }
}

/** The exchanged token's claims, for the audit only (the upstream verifies it; we do not need to; no jose at start). */
function safeClaims(token: string): Record<string, unknown> {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
