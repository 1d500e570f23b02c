import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GatehouseError } from '../index.ts';
import { apiPath, Upstream } from './index.ts';

/** A real loopback server whose behaviour each test sets. */
let server: Server;
let base: string;
let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
const seen: Array<{
  method: string;
  url: string;
  auth: string | undefined;
  key: string | undefined;
  requestId: string | undefined;
}> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({
      method: req.method!,
      url: req.url!,
      auth: req.headers.authorization,
      key: req.headers['idempotency-key'] as string | undefined,
      requestId: req.headers['x-request-id'] as string | undefined,
    });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function client(overrides: Partial<ConstructorParameters<typeof Upstream>[0]> = {}) {
  return new Upstream({
    name: 'test API',
    baseUrl: base,
    token: 'server-own-token',
    timeoutMs: 300,
    deadlineMs: 2_000,
    retries: 2,
    maxResponseBytes: 1024,
    breaker: { consecutiveFailures: 50, halfOpenAfterMs: 1_000 },
    userAgent: 'test/1',
    log: pino({ level: 'silent' }),
    ...overrides,
  });
}
const call = () => ({ signal: new AbortController().signal, requestId: 'req-1' });
const json = (status: number, body: unknown) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const code = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: GatehouseError) => e.code,
  );

describe('apiPath', () => {
  it('encodes every segment and refuses dot segments', () => {
    expect(apiPath`/v1/items/${'a/b?c#d'}/x`).toBe('/v1/items/a%2Fb%3Fc%23d/x');
    expect(() => apiPath`/v1/items/${'..'}`).toThrow(GatehouseError);
    expect(() => apiPath`/v1/items/${''}`).toThrow(GatehouseError);
  });
});

describe('Upstream', () => {
  it('sends its own credential and the request id, and validates the body', async () => {
    seen.length = 0;
    handler = json(200, { ok: true });
    await expect(client().get('/thing', z.object({ ok: z.boolean() }), call())).resolves.toEqual({
      ok: true,
    });
    expect(seen[0]).toMatchObject({ auth: 'Bearer server-own-token', requestId: 'req-1' });
    expect(await code(client().get('/thing', z.object({ other: z.string() }), call()))).toBe(
      'UPSTREAM_BAD_RESPONSE',
    );
  });

  it('never retries a POST without an idempotency key, and retries one with a key', async () => {
    handler = json(503, { error: 'busy' });
    seen.length = 0;
    expect(await code(client().post('/effect', {}, z.object({}), call()))).toBe('UPSTREAM_UNAVAILABLE');
    expect(seen).toHaveLength(1);
    seen.length = 0;
    expect(await code(client().post('/effect', {}, z.object({}), { ...call(), idempotencyKey: 'k1' }))).toBe(
      'UPSTREAM_UNAVAILABLE',
    );
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.key))).toEqual(new Set(['k1']));
  });

  it('enforces the size cap by declared length and while streaming', async () => {
    handler = json(200, { big: 'x'.repeat(5000) });
    expect(await code(client().get('/big', z.any(), call()))).toBe('UPSTREAM_BAD_RESPONSE');
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"a":"');
      res.write('y'.repeat(4000));
      res.end('"}');
    };
    expect(await code(client().get('/chunked', z.any(), call()))).toBe('UPSTREAM_BAD_RESPONSE');
  });

  it('maps statuses to typed errors', async () => {
    for (const [status, expected] of [
      [404, 'NOT_FOUND'],
      [401, 'UPSTREAM_UNAUTHORIZED'],
      [409, 'CONFLICT'],
      [422, 'UPSTREAM_REJECTED'],
      [429, 'RATE_LIMITED'],
    ] as const) {
      handler = json(status, { error: 'x' });
      expect(await code(client({ retries: 0 }).get('/s', z.any(), call()))).toBe(expected);
    }
  });

  it('stops at once when the caller cancels', async () => {
    handler = () => undefined; // never answers
    const controller = new AbortController();
    const pending = client({ timeoutMs: 5_000, deadlineMs: 10_000 }).get('/hang', z.any(), {
      signal: controller.signal,
      requestId: 'r',
    });
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    expect(await code(pending)).toBe('CANCELLED');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('keeps one circuit per upstream', async () => {
    handler = json(500, {});
    const failing = client({ retries: 0, breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 } });
    const healthy = client({ retries: 0 });
    await code(failing.get('/x', z.any(), call()));
    await code(failing.get('/x', z.any(), call()));
    expect(failing.circuitState).toBe('open');
    expect(await code(failing.get('/x', z.any(), call()))).toBe('CIRCUIT_OPEN');
    handler = json(200, {});
    expect(await code(healthy.get('/x', z.any(), call()))).toBe('ok');
  });
});
