import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/env.ts';
import { loadHttpSettings, startupProblem } from './index.ts';

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

  it('takes trusted proxies as addresses and CIDR ranges, IPv4 and IPv6, and names an invalid entry in one line', () => {
    const { trustedProxies } = loadHttpSettings(
      'X',
      { X_TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8, 192.0.2.7, [2001:db8::1], 172.16.0.0/12' },
      { noAuth: true },
    );
    for (const inside of [
      '10.1.2.3',
      '::ffff:10.200.0.1',
      'fd12:3456::1',
      '192.0.2.7',
      '2001:db8::1',
      '172.31.255.255',
    ])
      expect(trustedProxies.has(inside), inside).toBe(true);
    for (const outside of [
      '11.0.0.1',
      '192.0.2.8',
      'fe80::1',
      '2001:db8::2',
      '172.32.0.1',
      '127.0.0.1',
      '',
      'proxy',
    ])
      expect(trustedProxies.has(outside), outside).toBe(false);
    expect(loadHttpSettings('X', {}, { noAuth: true }).trustedProxies.has('127.0.0.1')).toBe(false);
    for (const bad of [
      '10.0.0.0/33',
      'fd00::/129',
      'ingress.local',
      '10.0.0/8',
      '10.0.0.0/8/1',
      '10.0.0.0/',
      '10.0.0.0/-1',
    ])
      expect(() =>
        loadHttpSettings('X', { X_TRUSTED_PROXIES: `127.0.0.1,${bad}` }, { noAuth: true }),
      ).toThrow(
        new ConfigError(
          `X_TRUSTED_PROXIES: ${JSON.stringify(bad)} is not an IP address or a CIDR range (such as 10.0.0.0/8 or fd00::/8)`,
        ),
      );
  });
});
