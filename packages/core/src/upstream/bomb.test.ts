/**
 * Compression bombs (matrix #29): an upstream answers a small gzip body
 * (`Content-Encoding: gzip`) that inflates far beyond the response size cap.
 * The client inflates lazily, as the body is read (node:zlib in upstream/wire.ts),
 * and the cap counts the inflated bytes, so reading stops at the cap: the bomb
 * is never inflated whole. The upstream is the real
 * sandbox on loopback (the fixture's domain) with its `gzip-bomb` fault.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { GZIP_BOMB_INFLATED_BYTES, type Sandbox, sandboxControl, startSandbox } from '@gatehouse/sandbox';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GatehouseError } from '../index.ts';
import { STATUS_PATH as HEALTH } from '../testing/fixture/harness.ts';
import { fixtureDomain } from '../testing/fixture/sandbox.ts';
import { Upstream } from './index.ts';

const MIB = 1024 * 1024;

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ discover: false, domains: [fixtureDomain] });
});
afterAll(() => sandbox?.close());

function client(baseUrl: string, token: string, maxResponseBytes: number) {
  return new Upstream({
    name: 'test API',
    baseUrl,
    token,
    timeoutMs: 10_000,
    deadlineMs: 20_000,
    retries: 0,
    maxResponseBytes,
    breaker: { consecutiveFailures: 50, halfOpenAfterMs: 1_000 },
    userAgent: 'test/1',
    log: pino({ level: 'silent' }),
  });
}
const call = () => ({
  signal: new AbortController().signal,
  requestId: 'req-bomb',
  query: { environment: 'production' },
});
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );
/** Peak resident set size of this process so far, in bytes (a high-water mark, so no sampling). */
const peakRss = () => process.resourceUsage().maxRSS * 1024;

describe('a gzip compression bomb from the upstream', () => {
  it('stops at the size cap counting inflated bytes, without inflating the rest, and keeps serving', {
    timeout: 60_000,
  }, async () => {
    const control = sandboxControl(sandbox);
    const upstream = client(sandbox.url, sandbox.tokens.fixture, 2 * MIB);
    const before = peakRss();
    for (let round = 0; round < 3; round++) {
      await control.setFaults([{ path: HEALTH, body: 'gzip-bomb', times: 1 }]);
      const error = await failure(upstream.get(HEALTH, z.unknown(), call()));
      expect(error).toBeInstanceOf(GatehouseError);
      expect(error).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', upstreamStatus: 200 });
      // The streaming cap tripped (about 1 MiB on the wire passes the declared-length check)...
      expect((error as GatehouseError).message).toContain(`larger than the ${2 * MIB}-byte limit`);
      expect((error as GatehouseError).message).not.toMatch(/\(\d+ bytes\)/);
      // ...and the same client goes on working.
      await expect(upstream.get(HEALTH, z.object({ item: z.string() }), call())).resolves.toMatchObject({
        item: 'orders-api',
      });
    }
    // Three bombs of over 1 GiB each: had any been inflated whole, the peak would have grown by
    // at least that much. Reading stopped at 2 MiB, so the peak barely moves.
    expect(GZIP_BOMB_INFLATED_BYTES).toBeGreaterThan(1024 * MIB);
    expect(peakRss() - before).toBeLessThan(256 * MIB);
    expect((await control.requests()).filter((r) => r.fault === 'gzip-bomb')).toHaveLength(3);
  });

  it('refuses it on the declared length when even the compressed body is over the cap', async () => {
    const control = sandboxControl(sandbox);
    await control.setFaults([{ path: HEALTH, body: 'gzip-bomb', times: 1 }]);
    const error = await failure(
      client(sandbox.url, sandbox.tokens.fixture, MIB / 2).get(HEALTH, z.unknown(), call()),
    );
    expect(error).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE' });
    // Content-Length counts the bytes on the wire, so this is the compressed size.
    expect((error as GatehouseError).message).toMatch(
      /its response \(\d+ bytes\) is larger than the 524288-byte limit/,
    );
  });
});

describe('a body that claims gzip but is not', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      // Plain JSON under a gzip label, then (for /truncated) a gzip stream cut short.
      res.end(
        req.url === '/truncated'
          ? Buffer.from('1f8b0800000000000003ab56ca4f57b2522a29', 'hex')
          : '{"ok":true}',
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it.each([
    ['/plain', /could not be decoded as gzip/],
    // Cut short: zlib may report the early end, or hand over what it had (which is then not JSON).
    ['/truncated', /could not be decoded as gzip|not valid JSON/],
  ])('answers %s as UPSTREAM_BAD_RESPONSE, not as an unexpected failure', async (path, words) => {
    const error = await failure(client(base, 'token', MIB).get(path, z.unknown(), call()));
    expect(error).toBeInstanceOf(GatehouseError);
    expect(error).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', retryable: false });
    expect((error as GatehouseError).message).toMatch(words);
  });
});

describe('compressed bodies, inflated as they are read', () => {
  let server: Server;
  let base: string;
  const seen: Array<string | undefined> = [];
  const json = Buffer.from(
    JSON.stringify({ ok: true, items: Array.from({ length: 200 }, (_, i) => `item-${i}`) }),
  );
  const bodies: Record<string, [string, Buffer]> = {
    '/gzip': ['gzip', gzipSync(json)],
    '/deflate': ['deflate', deflateSync(json)],
    '/br': ['br', brotliCompressSync(json)],
    '/compress': ['compress', json],
    // Names an object literal would find on its prototype.
    '/constructor': ['constructor', json],
    '/proto': ['__proto__', json],
  };
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers['accept-encoding']);
      const [encoding, body] = bodies[(req.url ?? '').split('?')[0]!] ?? ['identity', json];
      // Chunked (no Content-Length): the streaming path, as an upstream that compresses on the fly.
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it.each(['/gzip', '/deflate', '/br'])(
    'reads %s as the JSON it holds, and asks for the encodings it can read',
    async (path) => {
      const schema = z.object({ ok: z.literal(true), items: z.array(z.string()).length(200) });
      await expect(client(base, 'token', MIB).get(path, schema, call())).resolves.toMatchObject({ ok: true });
      expect(seen.at(-1)).toBe('gzip, deflate, br');
    },
  );

  it.each([
    ['/compress', 'compress'],
    ['/constructor', 'constructor'],
    ['/proto', '__proto__'],
  ])(
    'refuses an encoding it did not ask for (%s) as UPSTREAM_BAD_RESPONSE, naming it',
    async (path, name) => {
      const error = await failure(client(base, 'token', MIB).get(path, z.unknown(), call()));
      expect(error).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', upstreamStatus: 200 });
      expect((error as GatehouseError).message).toContain(`could not be decoded as ${name}`);
    },
  );

  it('counts inflated bytes against the cap, not the bytes on the wire', async () => {
    // ~2 KB inflated from a few hundred bytes on the wire, against a 1 KB cap.
    const error = await failure(client(base, 'token', 1024).get('/br', z.unknown(), call()));
    expect(error).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE' });
    expect((error as GatehouseError).message).toContain('larger than the 1024-byte limit');
  });
});
