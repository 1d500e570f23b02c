import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { OAuth2Server } from 'oauth2-mock-server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, Authenticator } from '../src/http/auth.ts';
import { ConcurrencyLimiter, RateLimiter } from '../src/http/limits.ts';
import { jsonTooDeep } from '../src/http/serve.ts';
import { loadHttpSettings, startupProblem } from '../src/http/settings.ts';

const AUD = new URL('https://ops.gatehouse.test/mcp');
const log = pino({ level: 'silent' });

describe('HTTP settings', () => {
  it('binds loopback by default and refuses unauthenticated non-loopback binds in one line', () => {
    const base = loadHttpSettings('X', {}, { noAuth: true });
    expect(base.host).toBe('127.0.0.1');
    expect(startupProblem(base)).toBeUndefined();
    expect(startupProblem(loadHttpSettings('X', {}, { noAuth: true, host: '0.0.0.0' }))).toMatch(
      /^--no-auth needs a loopback bind/,
    );
    expect(startupProblem(loadHttpSettings('X', {}, { noAuth: false }))).toMatch(/needs authentication/);
    expect(
      startupProblem(loadHttpSettings('X', { X_OAUTH_ISSUER: 'https://as.example' }, { noAuth: false })),
    ).toMatch(/X_PUBLIC_URL is required/);
    const env = {
      X_HTTP_HOST: '::1',
      X_HTTP_PORT: '8080',
      X_ALLOWED_ORIGINS: 'https://app.example, b.example',
    };
    expect(loadHttpSettings('X', env, { noAuth: true })).toMatchObject({
      host: '::1',
      port: 8080,
      allowedOrigins: ['https://app.example', 'b.example'],
    });
    expect(loadHttpSettings('X', env, { noAuth: true, port: '0' }).port).toBe(0);
  });
});

describe('admission', () => {
  it('refills the per-principal bucket and reports Retry-After in seconds', () => {
    const rate = new RateLimiter(2);
    expect([rate.take('a', 0), rate.take('a', 0)]).toEqual([0, 0]);
    expect(rate.take('a', 0)).toBe(30);
    expect(rate.take('b', 0)).toBe(0);
    expect(rate.take('a', 30_000)).toBe(0);
  });

  it('caps concurrency per principal and releases once', () => {
    const limit = new ConcurrencyLimiter(1);
    const release = limit.acquire('a');
    expect(release).toBeTypeOf('function');
    expect(limit.acquire('a')).toBeUndefined();
    expect(limit.acquire('b')).toBeTypeOf('function');
    release?.();
    release?.();
    expect(limit.acquire('a')).toBeTypeOf('function');
    expect(limit.acquire('a')).toBeUndefined();
  });

  it('measures JSON depth linearly, ignoring brackets inside strings', () => {
    expect(jsonTooDeep('{"a":[1,2,{"b":"[[[[[["}]}', 3)).toBe(false);
    expect(jsonTooDeep('[[[[1]]]]', 3)).toBe(true);
    expect(jsonTooDeep(`{"s":"\\"[[[["}`, 1)).toBe(false);
  });
});

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
