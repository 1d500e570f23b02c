import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthorizationServer, startAuthorizationServer } from './server.ts';
import { signInWithCode } from './sign-in.ts';

const MCP = 'http://127.0.0.1:9/mcp';
const UPSTREAM = 'http://127.0.0.1:9/api';
const SERVER = { clientId: 'support-mcp', clientSecret: 'support-mcp-secret-0123456789' };
let as: AuthorizationServer;

beforeAll(async () => {
  as = await startAuthorizationServer({
    scopes: ['support:read', 'support:write'],
    accounts: { alice: { groups: ['region:eu'] } },
    clients: [{ ...SERVER, grantTypes: [], exchange: { from: [MCP], to: [UPSTREAM] } }],
    exchangeTtl: 60,
  });
});
afterAll(() => as?.close());

const errorOf = async (response: Promise<Response>) =>
  ((await (await response).json()) as { error?: string }).error;
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

function exchange(subjectToken: string, extra: Record<string, string> = {}, signal?: AbortSignal) {
  return fetch(as.tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(SERVER.clientId, SERVER.clientSecret),
    },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: subjectToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: UPSTREAM,
      ...extra,
    }),
    ...(signal ? { signal } : {}),
  });
}

describe('the test authorization server (oidc-provider)', () => {
  it('publishes discovery and issues JWT access tokens for any subject and audience', async () => {
    const doc = (await (await fetch(`${as.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(doc).toMatchObject({ issuer: as.issuer, jwks_uri: as.jwksUri, token_endpoint: as.tokenEndpoint });
    const token = await as.accessToken({
      sub: 'bob',
      scope: 'support:read',
      audience: MCP,
      groups: ['region:us'],
    });
    const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(as.jwksUri)), {
      issuer: as.issuer,
      audience: MCP,
    });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ sub: 'bob', scope: 'support:read', groups: ['region:us'] });
  });

  it('exchanges a user token for a short-lived upstream token with the server as actor (RFC 8693)', async () => {
    const inbound = await as.accessToken({
      sub: 'alice',
      scope: 'support:read support:write',
      audience: MCP,
    });
    const response = await exchange(inbound, { scope: 'support:read' });
    const body = (await response.json()) as Record<string, string | number>;
    expect(response.status).toBe(200);
    expect(body).toMatchObject({
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
    });
    expect(body.expires_in).toBeLessThanOrEqual(60);
    const claims = decodeJwt(String(body.access_token));
    expect(claims).toMatchObject({
      aud: UPSTREAM,
      sub: 'alice',
      act: { sub: 'support-mcp' },
      scope: 'support:read',
    });
    expect(claims.groups).toEqual(['region:eu']);
    expect(claims.jti).toBeTypeOf('string');
    expect(as.stats().exchanges).toBe(1);
  });

  it('refuses tokens for another audience, other targets, scope escalation and forged tokens', async () => {
    const other = await as.accessToken({
      sub: 'alice',
      scope: 'support:read',
      audience: 'http://127.0.0.1:9/else',
    });
    expect(await errorOf(exchange(other))).toBe('invalid_grant');
    const inbound = await as.accessToken({ sub: 'alice', scope: 'support:read', audience: MCP });
    expect(await errorOf(exchange(inbound, { audience: 'http://127.0.0.1:9/else' }))).toBe('invalid_target');
    expect(await errorOf(exchange(inbound, { scope: 'support:write' }))).toBe('invalid_scope');
    expect(await errorOf(exchange(`${inbound.slice(0, -4)}AAAA`))).toBe('invalid_grant');
  });

  it('can be made down, slow or refusing at the token endpoint, and back', async () => {
    const inbound = await as.accessToken({ sub: 'alice', scope: 'support:read', audience: MCP });
    try {
      as.setTokenEndpoint({ mode: 'down' });
      await expect(exchange(inbound)).rejects.toThrow();
      as.setTokenEndpoint({ mode: 'slow', delayMs: 5_000 });
      await expect(exchange(inbound, {}, AbortSignal.timeout(200))).rejects.toThrow();
      as.setTokenEndpoint({ mode: 'refuse', status: 503, error: 'temporarily_unavailable' });
      const refused = exchange(inbound);
      expect((await refused).status).toBe(503);
      expect(await errorOf(refused)).toBe('temporarily_unavailable');
    } finally {
      as.setTokenEndpoint({ mode: 'ok' });
    }
    expect((await exchange(inbound)).status).toBe(200);
  });

  it('signs a user in with the authorization-code flow and PKCE through its login pages', async () => {
    const signedIn = await signInWithCode({
      issuer: as.issuer,
      login: 'alice',
      clientId: 'gatehouse-test-client',
      clientSecret: 'gatehouse-test-client-secret',
      scope: 'openid profile support:read',
      resource: MCP,
    });
    expect(decodeJwt(signedIn.idToken ?? '')).toMatchObject({ sub: 'alice', aud: 'gatehouse-test-client' });
    expect(decodeJwt(signedIn.accessToken)).toMatchObject({ sub: 'alice', aud: MCP, scope: 'support:read' });
  });
});
