import { describe, expect, it } from 'vitest';
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
});
