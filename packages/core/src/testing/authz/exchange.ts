/**
 * The RFC 8693 token-exchange grant, registered through oidc-provider's `registerGrantType`: a client
 * that serves a resource (an MCP server) presents a user's access token for that resource and gets a
 * short-lived token for its upstream, with the user as `sub` and itself as actor (`act.sub`).
 */
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import type { default as Provider, errors as ProviderErrors } from 'oidc-provider';
import { type Claims, mintAccessToken } from './mint.ts';

export const EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface ExchangeOptions {
  errors: typeof ProviderErrors;
  /** The provider's public signing keys (subject tokens are ones it issued). */
  jwks: JSONWebKeySet;
  /** Per client id: the audiences it may exchange from and to. */
  clients: Map<string, { from: string[]; to: string[] } | undefined>;
  /** Upper bound of an exchanged token's lifetime, seconds. */
  ttl: number;
  extras: WeakMap<object, Claims>;
  granted(): void;
}

interface ExchangeParams {
  subject_token?: string;
  subject_token_type?: string;
  audience?: string;
  resource?: string | string[];
  scope?: string;
  requested_token_type?: string;
}

function scopesOf(payload: JWTPayload): string[] {
  return typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
}

export function registerExchangeGrant(provider: Provider, options: ExchangeOptions): void {
  const { errors } = options;
  const keys = createLocalJWKSet(options.jwks);
  provider.registerGrantType<ExchangeParams>(
    EXCHANGE_GRANT,
    async (ctx) => {
      const { client, params } = ctx.oidc;
      const allowed = options.clients.get(client.clientId);
      if (!allowed) throw new errors.UnauthorizedClient('this client may not exchange tokens');
      if (params.subject_token_type !== ACCESS_TOKEN_TYPE)
        throw new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
      if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE)
        throw new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
      if (!params.subject_token) throw new errors.InvalidRequest('missing subject_token');
      const resource = Array.isArray(params.resource) ? params.resource[0] : params.resource;
      const audience = params.audience ?? resource;
      if (!audience || !allowed.to.includes(audience))
        throw new errors.InvalidTarget('this client may not ask for a token for that audience');
      let subject: JWTPayload;
      try {
        ({ payload: subject } = await jwtVerify(params.subject_token, keys, {
          issuer: provider.issuer,
          audience: allowed.from,
          requiredClaims: ['sub', 'exp'],
        }));
      } catch {
        throw new errors.InvalidGrant('subject_token is invalid, expired or not meant for this client');
      }
      const available = scopesOf(subject);
      const requested = params.scope ? params.scope.split(' ').filter(Boolean) : available;
      const missing = requested.filter((s) => !available.includes(s));
      if (missing.length)
        throw new errors.InvalidScope('subject_token lacks the requested scope', missing.join(' '));
      const ttl = Math.max(1, Math.min(options.ttl, (subject.exp ?? 0) - Math.floor(Date.now() / 1000)));
      const scope = requested.join(' ');
      const accessToken = await mintAccessToken(provider, options.extras, {
        clientId: client.clientId,
        sub: String(subject.sub),
        scope,
        audience,
        ttl,
        ...(Array.isArray(subject.groups) ? { groups: subject.groups as string[] } : {}),
        extra: { act: { sub: client.clientId, ...(subject.act ? { act: subject.act } : {}) } },
        gty: EXCHANGE_GRANT,
      });
      options.granted();
      ctx.body = {
        access_token: accessToken,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        expires_in: ttl,
        scope,
      };
    },
    ['subject_token', 'subject_token_type', 'audience', 'resource', 'scope', 'requested_token_type'],
  );
}
