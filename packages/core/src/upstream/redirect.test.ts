import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GatehouseError } from '../index.ts';
import { Upstream } from './index.ts';

/** Two real loopback servers: the upstream answers every request with a redirect to the other. */
let upstream: Server;
let elsewhere: Server;
let elsewhereHits = 0;
let status = 307;
const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
let elsewhereUrl: string;
let upstreamUrl: string;

beforeAll(async () => {
  elsewhere = createServer((_req, res) => {
    elsewhereHits += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  elsewhereUrl = await listen(elsewhere);
  upstream = createServer((req, res) => {
    req.resume();
    res.writeHead(status, { location: `${elsewhereUrl}/steal?token=secret` }).end();
  });
  upstreamUrl = await listen(upstream);
});
afterAll(async () => {
  await new Promise((r) => upstream.close(r));
  await new Promise((r) => elsewhere.close(r));
});

const client = () =>
  new Upstream({
    name: 'test API',
    baseUrl: upstreamUrl,
    token: 'sbx_secret_token',
    timeoutMs: 1000,
    deadlineMs: 3000,
    retries: 2,
    maxResponseBytes: 1024 * 1024,
    breaker: { consecutiveFailures: 5, halfOpenAfterMs: 1000 },
    userAgent: 'test',
    log: pino({ level: 'silent' }),
  });

describe('redirects from the upstream', () => {
  it.each([301, 302, 303, 307, 308])(
    'a %i to another port is refused, typed and named, and nothing reaches that port',
    async (code) => {
      status = code;
      elsewhereHits = 0;
      const call = client().post('/v1/actions', { amountCents: 100 }, z.object({ ok: z.boolean() }), {
        signal: new AbortController().signal,
        requestId: 'r1',
        idempotencyKey: 'approval-1',
      });
      const error = (await call.catch((e: unknown) => e)) as GatehouseError;
      expect(error).toBeInstanceOf(GatehouseError);
      expect(error.code).toBe('UPSTREAM_REJECTED');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(`redirect (HTTP ${code} to ${elsewhereUrl}/steal)`);
      expect(error.message).not.toContain('secret');
      expect(error.details).toEqual({ redirect: `${elsewhereUrl}/steal` });
      expect(elsewhereHits).toBe(0);
    },
  );

  it('refuses a redirected read the same way, without retrying it', async () => {
    status = 302;
    elsewhereHits = 0;
    const error = (await client()
      .get('/v1/items', z.object({ ok: z.boolean() }), {
        signal: new AbortController().signal,
        requestId: 'r2',
      })
      .catch((e: unknown) => e)) as GatehouseError;
    expect(error.code).toBe('UPSTREAM_REJECTED');
    expect(error.upstreamStatus).toBe(302);
    expect(elsewhereHits).toBe(0);
  });
});
