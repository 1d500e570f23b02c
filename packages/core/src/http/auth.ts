import { hash, timingSafeEqual } from 'node:crypto';
import {
  type AuthInfo,
  OAuthError,
  OAuthErrorCode,
  type OAuthTokenVerifier,
} from '@modelcontextprotocol/server';
import {
  createLocalJWKSet,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import type { Principal } from '../call/policy.ts';
import type { Logger } from '../telemetry/logger.ts';
import { bindInboundToken } from '../upstream/identity.ts';
import type { ApiKeyEntry } from './settings.ts';

/** Asymmetric algorithms only: `none` and HMAC (shared-secret) tokens are never accepted. */
export const ACCEPTED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];
const ACCEPTED_TYP = new Set(['jwt', 'at+jwt', 'application/at+jwt']);
const CLOCK_SKEW_SECONDS = 60;

/** Why a credential was refused, for metrics and logs (never the credential itself). */
export type AuthFailure =
  | 'missing'
  | 'malformed'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_signature'
  | 'unknown_key'
  | 'algorithm'
  | 'issuer'
  | 'audience'
  | 'claims'
  | 'unknown_api_key'
  | 'keys_unavailable';

export class AuthError extends OAuthError {
  readonly reason: AuthFailure;
  constructor(reason: AuthFailure, message: string) {
    super(OAuthErrorCode.InvalidToken, message);
    this.reason = reason;
  }
}

async function fetchJson(url: string, timeoutMs: number): Promise<unknown> {
  const response = await fetch(url, {
    signal: AbortSignal.timeout(timeoutMs),
    headers: { accept: 'application/json' },
    redirect: 'error',
  });
  if (!response.ok) throw new Error(`HTTP ${response.status} from ${url}`);
  const text = await response.text();
  if (text.length > 512 * 1024) throw new Error(`oversized document from ${url}`);
  return JSON.parse(text);
}

/** RFC 8414 first (path-aware well-known), then OpenID Connect discovery; the document must name the same issuer. */
export async function discoverAuthorizationServer(
  issuer: string,
  timeoutMs = 5_000,
): Promise<{ issuer: string; jwks_uri: string } & Record<string, unknown>> {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const candidates = [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
  let lastError: unknown;
  for (const candidate of candidates) {
    try {
      const doc = (await fetchJson(candidate, timeoutMs)) as Record<string, unknown>;
      if (doc.issuer !== issuer && doc.issuer !== issuer.replace(/\/$/, ''))
        throw new Error(`issuer mismatch in ${candidate}`);
      if (typeof doc.jwks_uri !== 'string') throw new Error(`no jwks_uri in ${candidate}`);
      return doc as { issuer: string; jwks_uri: string };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError instanceof Error ? lastError : new Error('authorization server discovery failed');
}

/**
 * The issuer's signing keys: discovered once, cached, refreshed in the
 * background; an unknown `kid` triggers a refetch at most once per cooldown;
 * when the issuer is unreachable the last good key set keeps serving.
 */
export class JwksCache {
  private local: JWTVerifyGetKey | undefined;
  private jwksUri: string | undefined;
  private lastFetch = 0;
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  fetches = 0;
  private readonly options: {
    issuer: string;
    log: Logger;
    refreshMs?: number;
    cooldownMs?: number;
    timeoutMs?: number;
  };

  constructor(options: JwksCache['options']) {
    this.options = options;
  }

  /** Starts background refresh; failures are logged, never fatal. */
  start(): void {
    void this.refresh().catch(() => undefined);
    this.timer = setInterval(
      () => void this.refresh().catch(() => undefined),
      this.options.refreshMs ?? 10 * 60_000,
    );
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  refresh(): Promise<void> {
    this.inflight ??= (async () => {
      this.lastFetch = Date.now();
      try {
        const timeout = this.options.timeoutMs ?? 5_000;
        this.jwksUri ??= (await discoverAuthorizationServer(this.options.issuer, timeout)).jwks_uri;
        const jwks = (await fetchJson(this.jwksUri, timeout)) as JSONWebKeySet;
        if (!Array.isArray(jwks?.keys)) throw new Error('JWKS without keys');
        this.local = createLocalJWKSet(jwks);
        this.fetches += 1;
      } catch (error) {
        this.options.log.warn(
          { err: (error as Error).message, issuer: this.options.issuer },
          'cannot refresh the issuer signing keys; keeping the cached set',
        );
        throw error;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  /**
   * Whether the keys were fetched at least once (readiness). While they were not, each look asks the
   * issuer again in the background, at most once per 5 s, without waiting for the answer.
   */
  loaded(): boolean {
    if (this.local) return true;
    if (!this.inflight && Date.now() - this.lastFetch >= 5_000) void this.refresh().catch(() => undefined);
    return false;
  }

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (!this.local) {
      if (this.inflight) await this.inflight.catch(() => undefined);
      else if (Date.now() - this.lastFetch >= 5_000) await this.refresh().catch(() => undefined);
      if (!this.local) throw new AuthError('keys_unavailable', 'The issuer signing keys are not available.');
    }
    try {
      return await this.local(header, token);
    } catch (error) {
      const cooling = Date.now() - this.lastFetch < (this.options.cooldownMs ?? 30_000);
      if (!(error instanceof joseErrors.JWKSNoMatchingKey) || cooling) throw error;
      await this.refresh().catch(() => undefined);
      return this.local(header, token);
    }
  };
}

/** What the keys file keeps of an API key: its SHA-256 (the key itself is never stored). */
export const apiKeyDigest = (key: string): Buffer => hash('sha256', key, 'buffer');

function scopesOf(payload: JWTPayload): string[] {
  const scope = payload.scope ?? payload.scp;
  if (typeof scope === 'string') return scope.split(' ').filter(Boolean);
  if (Array.isArray(scope)) return scope.filter((s): s is string => typeof s === 'string');
  return [];
}

function classify(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof joseErrors.JWTExpired)
    return new AuthError('expired', 'The access token has expired.');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'iss')
      return new AuthError('issuer', 'The access token was issued by another issuer.');
    if (error.claim === 'aud')
      return new AuthError('audience', 'The access token is not meant for this server.');
    if (error.claim === 'nbf') return new AuthError('not_yet_valid', 'The access token is not valid yet.');
    return new AuthError('claims', `The access token's ${error.claim} claim is invalid.`);
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return new AuthError('bad_signature', 'The access token signature is invalid.');
  if (error instanceof joseErrors.JWKSNoMatchingKey)
    return new AuthError('unknown_key', 'The access token was signed with an unknown key.');
  if (error instanceof joseErrors.JOSEAlgNotAllowed)
    return new AuthError('algorithm', 'The access token uses an algorithm this server does not accept.');
  return new AuthError('malformed', 'The access token is malformed.');
}

/**
 * Verifies bearer credentials for the SDK's verifyBearerToken: a JWT access
 * token from the configured issuer for this server's audience, or a static
 * API key (compared by SHA-256 in constant time). The result carries the core
 * Principal in `extra.principal`.
 */
export class Authenticator implements OAuthTokenVerifier {
  readonly jwks: JwksCache | undefined;
  private readonly options: {
    issuer: string | undefined;
    audience: URL;
    apiKeys: ApiKeyEntry[];
    log: Logger;
  };

  /** One principal per API key, built once: requests share it (and its kept server's cache key). */
  private readonly keyPrincipals: Map<ApiKeyEntry, Principal>;

  constructor(options: Authenticator['options']) {
    this.options = options;
    this.keyPrincipals = new Map(
      options.apiKeys.map((entry) => [
        entry,
        { id: entry.name, kind: 'api-key', scopes: new Set(entry.scopes) } satisfies Principal,
      ]),
    );
    this.jwks = options.issuer ? new JwksCache({ issuer: options.issuer, log: options.log }) : undefined;
  }

  async verifyAccessToken(token: string): Promise<AuthInfo> {
    if (token.length > 16 * 1024) throw new AuthError('malformed', 'The access token is too long.');
    const looksJwt = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token);
    if (looksJwt && this.jwks) return this.verifyJwt(token, this.jwks);
    return this.verifyApiKey(token);
  }

  private verifyApiKey(token: string): AuthInfo {
    const digest = apiKeyDigest(token);
    let found: ApiKeyEntry | undefined;
    // Compare against every entry so the time taken does not reveal which one matched.
    for (const entry of this.options.apiKeys) if (timingSafeEqual(entry.sha256, digest)) found ??= entry;
    if (!found)
      throw new AuthError('unknown_api_key', 'The credential is not a valid access token or API key.');
    const principal = this.keyPrincipals.get(found);
    return {
      token,
      clientId: found.name,
      scopes: found.scopes,
      // API keys do not expire by themselves; the SDK requires an expiry, so each request gets an hour.
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
      resource: this.options.audience,
      extra: { principal },
    };
  }

  private async verifyJwt(token: string, jwks: JwksCache): Promise<AuthInfo> {
    const audience = this.options.audience.href;
    let payload: JWTPayload;
    try {
      const verified = await jwtVerify(token, jwks.getKey, {
        issuer: this.options.issuer,
        audience: [audience, audience.replace(/\/$/, '')],
        algorithms: ACCEPTED_ALGORITHMS,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp', 'sub'],
      });
      const typ = verified.protectedHeader.typ;
      if (typ !== undefined && !ACCEPTED_TYP.has(typ.toLowerCase()))
        throw new AuthError('claims', 'The token is not an access token.');
      payload = verified.payload;
    } catch (error) {
      throw classify(error);
    }
    const scopes = scopesOf(payload);
    const clientId =
      typeof payload.client_id === 'string'
        ? payload.client_id
        : typeof payload.azp === 'string'
          ? payload.azp
          : undefined;
    const principal: Principal = {
      id: String(payload.sub).slice(0, 256),
      kind: 'oauth',
      scopes: new Set(scopes),
      ...(clientId ? { clientId: clientId.slice(0, 256) } : {}),
      ...(Array.isArray(payload.groups)
        ? { groups: new Set(payload.groups.filter((g): g is string => typeof g === 'string').slice(0, 256)) }
        : {}),
    };
    // Kept apart from the principal (nothing that logs it can reach it), for an upstream token exchange.
    bindInboundToken(principal, token);
    return {
      token,
      clientId: clientId ?? principal.id,
      scopes,
      expiresAt: payload.exp,
      resource: this.options.audience,
      extra: { principal },
    };
  }
}

export function principalOf(authInfo: AuthInfo | undefined): Principal | undefined {
  return authInfo?.extra?.principal as Principal | undefined;
}
