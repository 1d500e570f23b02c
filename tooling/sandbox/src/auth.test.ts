import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from './index.ts';
import type { Sandbox } from './server.ts';
import { call } from './test-utils.ts';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());

const PROBES = {
  'platform-ops': '/platform/v1/services',
  docs: '/docs/v1/documents',
  support: '/support/v1/tickets',
} as const;

describe('auth', () => {
  it('generates distinct prefixed tokens by default', () => {
    expect(sb.tokens['platform-ops']).toMatch(/^sbx_ops_/);
    expect(sb.tokens.docs).toMatch(/^sbx_docs_/);
    expect(sb.tokens.support).toMatch(/^sbx_sup_/);
    expect(sb.controlToken).not.toBe(sb.tokens.docs);
    expect(sb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  for (const [domain, path] of Object.entries(PROBES) as [keyof typeof PROBES, string][]) {
    describe(domain, () => {
      it('accepts its own token', async () => {
        const res = await call(sb, path, { token: sb.tokens[domain] });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      });

      it('answers 401 without a token or with garbage', async () => {
        for (const headers of [
          {} as Record<string, string>,
          { authorization: 'Bearer nope' },
          { authorization: 'Basic Zm9vOmJhcg==' },
          { authorization: 'Bearer' },
        ]) {
          const res = await call(sb, path, { headers });
          expect(res.status).toBe(401);
          expect(res.json.error).toBe('unauthorized');
          expect(typeof res.json.message).toBe('string');
        }
      });

      it("answers 403 for another domain's token and the control token", async () => {
        const others = [
          ...(Object.keys(PROBES) as (keyof typeof PROBES)[])
            .filter((d) => d !== domain)
            .map((d) => sb.tokens[d]),
          sb.controlToken,
        ];
        for (const token of others) {
          const res = await call(sb, path, { token });
          expect(res.status).toBe(403);
          expect(res.json).toEqual({ error: 'forbidden', message: 'token is not valid for this API' });
          expect(res.text).not.toContain(token);
        }
      });
    });
  }

  it('protects the control API with the control token', async () => {
    expect((await call(sb, '/_sandbox/requests')).status).toBe(401);
    expect((await call(sb, '/_sandbox/requests', { token: sb.tokens.support })).status).toBe(403);
    expect((await call(sb, '/_sandbox/requests', { token: sb.controlToken })).status).toBe(200);
  });

  it('serves /healthz without auth and 404 JSON for unknown routes', async () => {
    expect((await call(sb, '/healthz')).json).toEqual({ ok: true });
    const unknown = await call(sb, '/nope/v9');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toBe('not_found');
    const unknownInDomain = await call(sb, '/docs/v1/nothing-here', { token: sb.tokens.docs });
    expect(unknownInDomain.status).toBe(404);
    expect(unknownInDomain.json.error).toBe('not_found');
    const wrongMethod = await call(sb, '/docs/v1/documents', { token: sb.tokens.docs, method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
  });

  it('echoes X-Request-Id, including on errors', async () => {
    const ok = await call(sb, '/healthz', { headers: { 'x-request-id': 'req-123' } });
    expect(ok.headers.get('x-request-id')).toBe('req-123');
    const denied = await call(sb, '/support/v1/tickets', { headers: { 'x-request-id': 'req-456' } });
    expect(denied.headers.get('x-request-id')).toBe('req-456');
    expect((await call(sb, '/healthz')).headers.get('x-request-id')).toBeNull();
  });

  it('never records token values in the request log', async () => {
    await call(sb, '/support/v1/tickets', {
      token: sb.tokens.support,
      headers: { 'x-request-id': 'log-probe' },
    });
    await call(sb, '/support/v1/tickets', { token: 'garbage-token-value' });
    const log = await call(sb, '/_sandbox/requests', { token: sb.controlToken });
    const text = log.text;
    for (const t of [...Object.values(sb.tokens), sb.controlToken, 'garbage-token-value'])
      expect(text).not.toContain(t);
    const probe = log.json.items.find((r: { requestId: string }) => r.requestId === 'log-probe');
    expect(probe).toMatchObject({
      authorization: 'present',
      tokenDomain: 'support',
      status: 200,
      aborted: false,
      method: 'GET',
      path: '/support/v1/tickets',
    });
    const garbage = log.json.items.filter((r: { tokenDomain: string }) => r.tokenDomain === 'unknown');
    expect(garbage.length).toBeGreaterThan(0);
    expect(
      log.json.items.some(
        (r: { authorization: string; tokenDomain: unknown }) =>
          r.authorization === 'absent' && r.tokenDomain === null,
      ),
    ).toBe(true);
  });

  it('accepts fixed tokens and rejects duplicates or non-loopback hosts', async () => {
    const fixed = await startSandbox({ tokens: { docs: 'docs-fixed' }, controlToken: 'ctl-fixed' });
    try {
      expect(fixed.tokens.docs).toBe('docs-fixed');
      expect((await call(fixed, '/docs/v1/documents', { token: 'docs-fixed' })).status).toBe(200);
    } finally {
      await fixed.close();
    }
    await expect(startSandbox({ tokens: { docs: 'same', support: 'same' } })).rejects.toThrow(/distinct/);
    await expect(startSandbox({ host: '0.0.0.0' as '127.0.0.1' })).rejects.toThrow(/127\.0\.0\.1/);
  });
});
