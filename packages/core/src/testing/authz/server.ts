/**
 * A real OAuth 2.1 / OpenID Connect authorization server for tests: `oidc-provider` on 127.0.0.1.
 * JWT access tokens per resource indicator, the RFC 8693 token-exchange grant (registered by our code
 * through the provider's grant-type extension point, see exchange.ts), configurable clients, the
 * authorization-code flow with PKCE and the provider's development login pages, and switches that make
 * the token endpoint down, slow or refusing. `oidc-provider` loads only when a test starts one.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import type { ClientMetadata, Configuration, default as Provider } from 'oidc-provider';
import { EXCHANGE_GRANT, registerExchangeGrant } from './exchange.ts';
import { type Claims, mintAccessToken } from './mint.ts';

export interface AuthzClient {
  clientId: string;
  /** A confidential client (client_secret_basic / _post); a public client (PKCE only) when absent. */
  clientSecret?: string;
  redirectUris?: string[];
  /** Grant types besides the token exchange; default authorization_code, refresh_token, client_credentials. */
  grantTypes?: string[];
  /**
   * May exchange tokens (RFC 8693): `from` lists the audiences of subject tokens this client may present
   * (the resource it serves, e.g. an MCP server's public URL), `to` the audiences it may ask for (its upstream).
   */
  exchange?: { from: string[]; to: string[] };
}

export interface AuthorizationServerOptions {
  /** Clients besides the default `gatehouse-test-client` (confidential, code + PKCE, client_credentials). */
  clients?: AuthzClient[];
  /** Scopes the provider knows (besides openid, offline_access); resource servers accept them all. */
  scopes?: string[];
  /** Lifetime of exchanged tokens, in seconds (default 120); never beyond the subject token's own. */
  exchangeTtl?: number;
  /** Groups (and other claims) per account, put into tokens and ID tokens issued for that subject. */
  accounts?: Record<string, { groups?: string[]; claims?: Record<string, unknown> }>;
  /** Listen on this port (default a free one). The development login pages accept any login as the subject. */
  port?: number;
}

export type TokenEndpointState =
  /** Answers normally. */
  | { mode: 'ok' }
  /** Every connection to the token endpoint is reset before an answer (unreachable, as far as a client knows). */
  | { mode: 'down' }
  /** Answers only after `delayMs` (default 30 s): a client's timeout fires first. */
  | { mode: 'slow'; delayMs?: number }
  /** Answers 400 with `error` (default invalid_grant), or with `status` (e.g. 503). */
  | { mode: 'refuse'; error?: string; status?: number };

export interface AuthorizationServer {
  issuer: string;
  jwksUri: string;
  tokenEndpoint: string;
  /** The provider itself, for tests that need more (interactions, events). */
  provider: Provider;
  /** A signed JWT access token for `audience` (a resource indicator), issued for `sub` without a browser. */
  accessToken(options: {
    sub: string;
    scope: string;
    audience: string;
    groups?: string[];
    /** Seconds (default 600). */
    ttl?: number;
    /** The client the token was issued to (default gatehouse-test-client). */
    clientId?: string;
  }): Promise<string>;
  /** Sets how the token endpoint behaves from now on. */
  setTokenEndpoint(state: TokenEndpointState): void;
  /** How many requests reached the token endpoint, and how many exchanges were granted. */
  stats(): { tokenRequests: number; exchanges: number };
  close(): Promise<void>;
}

export const DEFAULT_CLIENT = {
  clientId: 'gatehouse-test-client',
  clientSecret: 'gatehouse-test-client-secret',
};
const DEFAULT_GRANTS = ['authorization_code', 'refresh_token', 'client_credentials'];

function clientMetadata(client: AuthzClient): ClientMetadata {
  const grants = [...(client.grantTypes ?? DEFAULT_GRANTS), ...(client.exchange ? [EXCHANGE_GRANT] : [])];
  return {
    client_id: client.clientId,
    ...(client.clientSecret
      ? { client_secret: client.clientSecret, token_endpoint_auth_method: 'client_secret_basic' }
      : { token_endpoint_auth_method: 'none' }),
    grant_types: grants,
    redirect_uris: client.redirectUris ?? ['http://127.0.0.1/callback'],
    response_types: grants.includes('authorization_code') ? ['code'] : [],
  };
}

async function signingKeys() {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const about = { kid: 'gatehouse-test-rs256', alg: 'RS256', use: 'sig' };
  return {
    private: { keys: [{ ...(await exportJWK(privateKey)), ...about }] },
    public: { keys: [{ ...(await exportJWK(publicKey)), ...about }] },
  };
}

/** Starts the authorization server on 127.0.0.1 (a free port unless `port` is given). */
export async function startAuthorizationServer(
  options: AuthorizationServerOptions = {},
): Promise<AuthorizationServer> {
  const { default: ProviderClass, errors } = await import('oidc-provider');
  const keys = await signingKeys();
  let state: TokenEndpointState = { mode: 'ok' };
  const counters = { tokenRequests: 0, exchanges: 0 };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let tokenPath = '/token';

  const http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== tokenPath || state.mode === 'ok') return handle?.(req, res);
    counters.tokenRequests += 1;
    if (state.mode === 'down') return req.socket.destroy();
    if (state.mode === 'refuse') {
      res.writeHead(state.status ?? 400, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return res.end(
        JSON.stringify({ error: state.error ?? 'invalid_grant', error_description: 'refused by test' }),
      );
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      handle?.(req, res);
    }, state.delayMs ?? 30_000);
    timers.add(timer);
  });
  http.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  const accounts = options.accounts ?? {};
  const extras = new WeakMap<object, Claims>();
  const scopes = ['openid', 'offline_access', 'profile', ...(options.scopes ?? [])];
  const configuration: Configuration = {
    clients: [DEFAULT_CLIENT, ...(options.clients ?? [])].map(clientMetadata),
    jwks: keys.private,
    scopes,
    claims: { openid: ['sub'], profile: ['groups', 'name', 'email'] },
    cookies: { keys: ['gatehouse-test-cookie-key-0123456789'] },
    pkce: { required: () => true },
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, groups: accounts[sub]?.groups ?? [], ...accounts[sub]?.claims }),
    }),
    extraTokenClaims: (_ctx, token) => {
      const sub = (token as { accountId?: string }).accountId;
      const groups = sub ? accounts[sub]?.groups : undefined;
      return { ...(groups ? { groups } : {}), ...extras.get(token) };
    },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => (oneOf ? oneOf[0] : undefined) as string,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: (options.scopes ?? []).join(' '),
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
        }),
      },
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
      ClientCredentials: 600,
      Grant: 3600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
      AuthorizationCode: 60,
      RefreshToken: 3600,
    },
  };
  const provider = new ProviderClass(issuer, configuration);
  registerExchangeGrant(provider, {
    errors,
    jwks: keys.public,
    clients: new Map((options.clients ?? []).map((c) => [c.clientId, c.exchange])),
    ttl: options.exchangeTtl ?? 120,
    extras,
    granted: () => {
      counters.exchanges += 1;
    },
  });
  const callback = provider.callback();
  tokenPath = new URL(provider.urlFor('token')).pathname;
  handle = (req, res) => {
    if (new URL(req.url ?? '/', 'http://x').pathname === tokenPath) counters.tokenRequests += 1;
    void callback(req, res);
  };

  return {
    issuer,
    jwksUri: provider.urlFor('jwks'),
    tokenEndpoint: provider.urlFor('token'),
    provider,
    accessToken: (request) =>
      mintAccessToken(provider, extras, { clientId: DEFAULT_CLIENT.clientId, ...request }),
    setTokenEndpoint: (next) => {
      state = next;
    },
    stats: () => ({ ...counters }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        http.close(() => resolve());
      }),
  };
}
