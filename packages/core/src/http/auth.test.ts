import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { OAuth2Server } from 'oauth2-mock-server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, Authenticator } from './index.ts';

const AUD = new URL('https://ops.gatehouse.test/mcp');
const log = pino({ level: 'silent' });

describe('JWT verification against a real authorization server', () => {
  let issuer: OAuth2Server;
  let auth: Authenticator;
  const token = (claims: Record<string, unknown> = {}) =>
    issuer.issuer.buildToken({
      scopesOrTransform: (_h, p) =>
        Object.assign(p, { aud: AUD.href, sub: 'alice', scp: ['x:read', 'x:write'] }, claims),
    });

  beforeAll(async () => {
    issuer = new OAuth2Server();
    await issuer.issuer.keys.generate('ES256');
    await issuer.start(0, '127.0.0.1');
    auth = new Authenticator({ issuer: issuer.issuer.url, audience: AUD, apiKeys: [], log });
  });
  afterAll(async () => {
    auth.jwks?.stop();
    if (issuer.listening) await issuer.stop();
  });

  it('accepts a valid token (OIDC discovery fallback) and maps scp scopes into the principal', async () => {
    const info = await auth.verifyAccessToken(await token());
    expect(info.scopes).toEqual(['x:read', 'x:write']);
    expect(info.extra?.principal).toMatchObject({ id: 'alice', kind: 'oauth' });
  });

  it('refetches keys for an unknown kid at a bounded rate', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const rogue = await new SignJWT({ sub: 'm', aud: AUD.href, iss: issuer.issuer.url })
      .setProtectedHeader({ alg: 'ES256', kid: 'rogue' })
      .setExpirationTime('5m')
      .sign(privateKey);
    const before = auth.jwks!.fetches;
    for (let i = 0; i < 5; i++)
      await expect(auth.verifyAccessToken(rogue)).rejects.toSatisfy(
        (e: unknown) => e instanceof AuthError && e.reason === 'unknown_key',
      );
    expect(auth.jwks!.fetches - before).toBeLessThanOrEqual(1);
  });

  it('keeps verifying with cached keys while the issuer is down', async () => {
    const valid = await token();
    await issuer.stop();
    await auth.jwks!.refresh().catch(() => undefined);
    const info = await auth.verifyAccessToken(valid);
    expect(info.extra?.principal).toMatchObject({ id: 'alice' });
  });
});
