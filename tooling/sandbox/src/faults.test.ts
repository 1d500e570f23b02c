import { request } from 'node:http';
import { createGunzip } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FaultRule } from './index.ts';
import { GZIP_BOMB_INFLATED_BYTES, sandboxControl, startSandbox } from './index.ts';
import type { RequestRecord, Sandbox } from './server.ts';
import { call, sleep } from './test-utils.ts';

let sb: Sandbox;
let token: string;
const HEALTH = '/platform/v1/services/checkout-api/health?environment=production';

beforeAll(async () => {
  sb = await startSandbox();
  token = sb.tokens['platform-ops'];
});
afterAll(() => sb.close());
afterEach(async () => {
  await call(sb, '/_sandbox/faults', { token: sb.controlToken, method: 'DELETE' });
});

async function setFaults(rules: FaultRule[]): Promise<void> {
  const res = await call(sb, '/_sandbox/faults', { token: sb.controlToken, method: 'PUT', body: { rules } });
  expect(res.status, res.text).toBe(200);
}

async function requests(): Promise<RequestRecord[]> {
  return (await call(sb, '/_sandbox/requests', { token: sb.controlToken })).json.items;
}

describe('control API', () => {
  it('replaces, lists and clears fault rules, rejecting invalid ones', async () => {
    await setFaults([{ path: '/docs/v1', status: 500 }]);
    expect((await call(sb, '/_sandbox/faults', { token: sb.controlToken })).json.rules).toEqual([
      { path: '/docs/v1', status: 500 },
    ]);
    const invalid: unknown[] = [
      { rules: [{ status: 42 }] },
      { rules: [{ body: 'weird' }] },
      { rules: [{ body: 'gzip' }] },
      { rules: [{ rate: 2 }] },
      { rules: [{ drip: { chunkBytes: 0, intervalMs: 1 } }] },
      { rules: [{ unknownField: 1 }] },
      { rules: 'nope' },
    ];
    for (const body of invalid) {
      const res = await call(sb, '/_sandbox/faults', { token: sb.controlToken, method: 'PUT', body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const cleared = await call(sb, '/_sandbox/faults', { token: sb.controlToken, method: 'DELETE' });
    expect(cleared.json).toEqual({ rules: [] });
  });

  it('records non-control requests and clears the log', async () => {
    await call(sb, '/_sandbox/requests', { token: sb.controlToken, method: 'DELETE' });
    await call(sb, `${HEALTH}&x=1`, { token, headers: { 'x-request-id': 'rid-1' } });
    await call(sb, '/support/v1/tickets/T-10001/notes', {
      token: sb.tokens.support,
      body: { body: 'n', author: 'a' },
      headers: { 'idempotency-key': 'idem-log' },
    });
    const items = await requests();
    expect(items).toHaveLength(2);
    expect(items[0]).toEqual({
      seq: expect.any(Number),
      at: expect.any(String),
      method: 'GET',
      path: '/platform/v1/services/checkout-api/health',
      query: { environment: 'production', x: '1' },
      requestId: 'rid-1',
      idempotencyKey: null,
      authorization: 'present',
      tokenDomain: 'platform-ops',
      status: 200,
      aborted: false,
      fault: null,
      durationMs: expect.any(Number),
    });
    expect(items[1]).toMatchObject({
      method: 'POST',
      idempotencyKey: 'idem-log',
      tokenDomain: 'support',
      status: 201,
    });
    expect(items[1]!.seq).toBeGreaterThan(items[0]!.seq);
    const cleared = await call(sb, '/_sandbox/requests', { token: sb.controlToken, method: 'DELETE' });
    expect(cleared.json).toEqual({ cleared: 2 });
    expect(await requests()).toEqual([]);
  });
});

describe('sandboxControl helper', () => {
  it('sets, lists and clears faults and the request log', async () => {
    const control = sandboxControl(sb);
    await control.setFaults([{ path: '/healthz', status: 500, times: 1 }]);
    expect((await call(sb, '/healthz')).status).toBe(500);
    expect((await call(sb, '/healthz')).status).toBe(200);
    const records = await control.requests();
    expect(records.slice(-2).map((r) => [r.status, r.fault])).toEqual([
      [500, 'status:500'],
      [200, null],
    ]);
    await control.clearRequests();
    expect(await control.requests()).toEqual([]);
    await control.clearFaults();
  });
});

describe('fault kinds', () => {
  it('adds latency', async () => {
    await setFaults([{ path: '/platform/v1/services/checkout-api/health', latencyMs: 250 }]);
    const started = performance.now();
    const res = await call(sb, HEALTH, { token });
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
    await call(sb, '/platform/v1/services?unaffected=1', { token });
    const records = await requests();
    expect(records.find((r) => r.query.unaffected === '1')?.fault).toBeNull();
    expect(records.filter((r) => r.fault === 'latency').length).toBeGreaterThan(0);
  });

  it('answers an injected status with Retry-After, for N times only', async () => {
    await setFaults([
      { method: 'GET', path: '/platform/v1/services', status: 503, retryAfter: '2', times: 2 },
    ]);
    for (let i = 0; i < 2; i++) {
      const res = await call(sb, HEALTH, { token });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('2');
      expect(res.json).toEqual({ error: 'unavailable', message: expect.any(String) });
    }
    expect((await call(sb, HEALTH, { token })).status).toBe(200);
    expect((await call(sb, '/_sandbox/faults', { token: sb.controlToken })).json.rules).toEqual([]);
  });

  it('passes an HTTP-date Retry-After through unchanged', async () => {
    const date = new Date(Date.now() + 90_000).toUTCString();
    await setFaults([{ path: '/platform/v1/services', status: 503, retryAfter: date, times: 1 }]);
    const res = await call(sb, HEALTH, { token });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe(date);
    expect(Date.parse(date)).toBeGreaterThan(Date.now());
  });

  it('serves a gzip compression bomb: about 1 MiB on the wire, just over 1 GiB of valid JSON inflated', {
    timeout: 60_000,
  }, async () => {
    await setFaults([{ body: 'gzip-bomb', times: 1 }]);
    const url = new URL(`${sb.url}${HEALTH}`);
    // node:http, not fetch: the compressed bytes exactly as sent, without automatic decoding.
    const { headers, wire } = await new Promise<{ headers: Record<string, unknown>; wire: Buffer }>(
      (resolve, reject) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path: `${url.pathname}${url.search}`,
            headers: { authorization: `Bearer ${token}` },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ headers: { ...res.headers, status: res.statusCode }, wire: Buffer.concat(chunks) }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    expect(headers).toMatchObject({
      status: 200,
      'content-encoding': 'gzip',
      'content-type': expect.stringContaining('application/json'),
      'content-length': String(wire.length),
    });
    expect(wire.length).toBeLessThan(2 * 1024 * 1024);
    expect(GZIP_BOMB_INFLATED_BYTES).toBeGreaterThan(1024 ** 3);
    // Inflate as a stream, keeping only the count and both ends: never the whole GiB in memory.
    let inflated = 0;
    let head = '';
    let tail = '';
    await new Promise<void>((resolve, reject) => {
      const gunzip = createGunzip();
      gunzip.on('data', (c: Buffer) => {
        inflated += c.length;
        if (head.length < 32) head += c.subarray(0, 32).toString('latin1');
        tail = (tail + c.subarray(-32).toString('latin1')).slice(-32);
      });
      gunzip.on('end', resolve);
      gunzip.on('error', reject);
      gunzip.end(wire);
    });
    expect(inflated).toBe(GZIP_BOMB_INFLATED_BYTES);
    expect(head).toMatch(/^\{"padding":"x+/);
    expect(tail).toMatch(/x+"\}$/);
    expect((await requests()).at(-1)).toMatchObject({ fault: 'gzip-bomb', status: 200 });
  });

  it('matches method and path prefix, first matching rule wins, rate 0 never fires', async () => {
    await setFaults([
      { method: 'POST', status: 500 },
      { path: '/docs', rate: 0, status: 502 },
      { path: '/docs/v1/documents', status: 429 },
      { path: '/docs/v1', status: 504 },
    ]);
    expect((await call(sb, '/docs/v1/documents', { token: sb.tokens.docs })).status).toBe(429);
    expect((await call(sb, '/docs/v1/ownership/checkout-api', { token: sb.tokens.docs })).status).toBe(504);
    expect((await call(sb, HEALTH, { token })).status).toBe(200);
  });

  it('applies a fractional rate to roughly that share of requests', async () => {
    await setFaults([{ path: '/healthz', rate: 0.5, status: 503 }]);
    let failures = 0;
    for (let i = 0; i < 200; i++) if ((await call(sb, '/healthz')).status === 503) failures += 1;
    expect(failures).toBeGreaterThan(60);
    expect(failures).toBeLessThan(140);
  });

  it('serves malformed JSON', async () => {
    await setFaults([{ path: '/platform/v1/services/checkout-api/health', body: 'malformed' }]);
    const res = await call(sb, HEALTH, { token });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(() => JSON.parse(res.text)).toThrow();
  });

  it('serves an HTML error page', async () => {
    await setFaults([{ body: 'html', status: 502 }]);
    const res = await call(sb, HEALTH, { token });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.text).toContain('<html>');
  });

  it('serves an oversized but valid JSON body', async () => {
    await setFaults([{ body: 'oversized', times: 1 }]);
    const res = await call(sb, HEALTH, { token });
    expect(res.status).toBe(200);
    expect(res.text.length).toBeGreaterThan(19_000_000);
    expect(Array.isArray(JSON.parse(res.text).items)).toBe(true);
  });

  it('serves valid JSON with the wrong content type', async () => {
    await setFaults([{ body: 'wrong-type' }]);
    const res = await call(sb, HEALTH, { token });
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(res.json.service).toBe('checkout-api');
  });

  it('serves valid JSON of the wrong shape', async () => {
    await setFaults([{ body: 'schema' }]);
    const res = await call(sb, HEALTH, { token });
    expect(res.status).toBe(200);
    expect(res.json.unexpected).toBe(true);
    expect(res.json.service).toBeUndefined();
  });

  it('drips a valid body slowly', async () => {
    await setFaults([{ drip: { chunkBytes: 64, intervalMs: 20 } }]);
    const started = performance.now();
    const res = await call(sb, HEALTH, { token });
    const elapsed = performance.now() - started;
    const chunks = Math.ceil(Buffer.byteLength(res.text) / 64);
    expect(res.json.service).toBe('checkout-api');
    expect(elapsed).toBeGreaterThanOrEqual((chunks - 1) * 20 * 0.8);
    expect((await requests()).at(-1)).toMatchObject({ fault: 'drip', status: 200, aborted: false });
  });

  it('resets the connection', async () => {
    await setFaults([{ reset: true, times: 1 }]);
    await expect(call(sb, HEALTH, { token })).rejects.toThrow();
    await sleep(20);
    expect((await requests()).at(-1)).toMatchObject({ fault: 'reset', status: null, aborted: false });
    expect((await call(sb, HEALTH, { token })).status).toBe(200);
  });

  it('hangs until the client aborts, and records the abort', async () => {
    await setFaults([{ hang: true }]);
    await expect(call(sb, `${HEALTH}&hang=1`, { token, signal: AbortSignal.timeout(200) })).rejects.toThrow();
    await sleep(50);
    const record = (await requests()).find((r) => r.query.hang === '1');
    expect(record).toMatchObject({ fault: 'hang', status: null, aborted: true });
  });

  it('records an abort during latency and does not answer afterwards', async () => {
    await setFaults([{ latencyMs: 2_000 }]);
    await expect(call(sb, `${HEALTH}&slow=1`, { token, signal: AbortSignal.timeout(100) })).rejects.toThrow();
    await sleep(50);
    expect((await requests()).find((r) => r.query.slow === '1')).toMatchObject({
      fault: 'latency',
      status: null,
      aborted: true,
    });
  });

  it('closes promptly even with hanging and slow requests in flight', async () => {
    const local = await startSandbox({
      faults: [
        { path: '/platform', hang: true },
        { path: '/docs', latencyMs: 60_000 },
      ],
    });
    const pending = [
      call(local, HEALTH, { token: local.tokens['platform-ops'] }).catch((e: unknown) => e),
      call(local, '/docs/v1/documents', { token: local.tokens.docs }).catch((e: unknown) => e),
    ];
    await sleep(100);
    const started = performance.now();
    await local.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    const results = await Promise.all(pending);
    expect(results.every((r) => r instanceof Error)).toBe(true);
  });

  it('does not apply faults to the control API', async () => {
    await setFaults([{ status: 500 }]);
    expect((await call(sb, '/_sandbox/requests', { token: sb.controlToken })).status).toBe(200);
  });

  it('does not perform a side effect for replacing faults but does for corrupting ones', async () => {
    const support = sb.tokens.support;
    await setFaults([{ method: 'POST', status: 503, times: 1 }]);
    const body = { body: 'retry me', author: 'agent' };
    const failed = await call(sb, '/support/v1/tickets/T-10030/notes', {
      token: support,
      body,
      headers: { 'idempotency-key': 'fault-note' },
    });
    expect(failed.status).toBe(503);
    const retried = await call(sb, '/support/v1/tickets/T-10030/notes', {
      token: support,
      body,
      headers: { 'idempotency-key': 'fault-note' },
    });
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    await setFaults([{ method: 'POST', body: 'malformed', times: 1 }]);
    const body2 = { body: 'mangled response', author: 'agent' };
    const mangled = await call(sb, '/support/v1/tickets/T-10030/notes', {
      token: support,
      body: body2,
      headers: { 'idempotency-key': 'fault-note-2' },
    });
    expect(mangled.json).toBeUndefined();
    const replay = await call(sb, '/support/v1/tickets/T-10030/notes', {
      token: support,
      body: body2,
      headers: { 'idempotency-key': 'fault-note-2' },
    });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const ticket = await call(sb, '/support/v1/tickets/T-10030', { token: support });
    expect(ticket.json.comments.filter((c: { body: string }) => c.body === 'mangled response')).toHaveLength(
      1,
    );
  });
});
