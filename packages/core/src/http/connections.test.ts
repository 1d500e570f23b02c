/**
 * Slow and hoarding clients before any request is served, against `serveHttp` itself (the fixture
 * server's runtime in this process, `--no-auth` on 127.0.0.1): header-dripping connections are answered
 * 408 and destroyed within the header timeout plus Node's check interval, a body that drips past the
 * request timeout likewise, and one peer address cannot hold more than its share of connections that
 * have not sent a request head, while a real SDK client from another address goes on being served.
 * Every client is a loopback address (127.0.0.0/8); every loop is bounded in count and time.
 */
import { request as httpRequest, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../call/runtime.ts';
import { localOperator } from '../index.ts';
import { configFor } from '../runner.ts';
import { fixture, type Harness, STATUS_CALL, startHarness } from '../testing/fixture/harness.ts';
import { readAudit } from '../testing/index.ts';
import { createHttpServer, SOCKET_DEFAULTS } from './connections.ts';
import { serveHttp } from './serve.ts';
import { loadHttpSettings } from './settings.ts';

const LIMITS = { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, checkIntervalMs: 250 };
/** Event-loop lag allowed on a busy 2-core runner on top of timeout + check interval. */
const SLACK_MS = 500;
const PER_SOURCE = 8;
/** 5 peer addresses × 8 = 40 dripping connections, each source exactly at its cap. */
const SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];
const HEAD = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: slow\r\n\r\n';

let h: Harness;
let runtime: Runtime;
let served: Awaited<ReturnType<typeof serveHttp>>;
let port: number;
let auditFile: string;
/** Server-side accept and close times of every socket, by the client's address:port. */
const seen = new Map<string, { accepted: number; closed?: number }>();

beforeAll(async () => {
  h = await startHarness();
  const env = h.env({
    FIXTURE_LOG_LEVEL: 'warn',
    FIXTURE_HTTP_MAX_PENDING_PER_SOURCE: String(PER_SOURCE),
    FIXTURE_MAX_CONCURRENT: '64',
  });
  auditFile = env.FIXTURE_AUDIT_FILE;
  const config = configFor(fixture, { FIXTURE_IDLE_COMPACT_MS: '0', ...env });
  const settings = loadHttpSettings(fixture.envPrefix, env, { port: '0', noAuth: true });
  runtime = await createRuntime(fixture, config, { logDestination: { write: () => undefined } });
  served = await serveHttp(runtime, { settings, principal: localOperator(config.scopes), limits: LIMITS });
  port = Number(new URL(served.url).port);
  served.server.on('connection', (socket: Socket) => {
    const entry: { accepted: number; closed?: number } = { accepted: performance.now() };
    seen.set(`${socket.remoteAddress}:${socket.remotePort}`, entry);
    socket.once('close', () => {
      entry.closed = performance.now();
    });
  });
}, 30_000);
afterAll(async () => {
  await served?.close();
  await runtime?.close();
  await h?.close();
});

interface Peer {
  socket: Socket;
  received: () => string;
  ended: () => boolean;
  /** When the server's side went away ('end' or 'close', whichever first). */
  gone: Promise<number>;
}

/** A raw connection from `localAddress` that never closes its own side (a hostile client). */
function open(localAddress: string): Promise<Peer> {
  return new Promise((resolve, reject) => {
    let received = '';
    let ended = false;
    const socket = connect({ host: '127.0.0.1', port, localAddress, allowHalfOpen: true });
    const gone = new Promise<number>((done) => {
      socket.once('end', () => done(performance.now()));
      socket.once('close', () => done(performance.now()));
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.on('end', () => {
      ended = true;
    });
    socket.once('connect', () => resolve({ socket, received: () => received, ended: () => ended, gone }));
    socket.once('error', (error) => {
      if (!socket.remotePort) reject(error);
    });
  });
}

const serverSide = (peer: Peer) => seen.get(`${peer.socket.localAddress}:${peer.socket.localPort}`);

async function until(check: () => boolean, limitMs: number, stepMs = 25): Promise<boolean> {
  const deadline = performance.now() + limitMs;
  while (performance.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}

function healthz(localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path: '/healthz', localAddress, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.setTimeout(3_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe('socket limits', () => {
  it('defaults: 10 s for a head, 60 s for a request, checked every second, 32 unserved per source', () => {
    expect(SOCKET_DEFAULTS).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 5_000,
      checkIntervalMs: 1_000,
      maxHeaderBytes: 16 * 1024,
      maxPendingPerSource: 32,
    });
    expect(loadHttpSettings('X', {}, { noAuth: true }).maxPendingPerSource).toBe(32);
    const { server, guard } = createHttpServer();
    const node = server as Server & { connectionsCheckingInterval: number; maxHeaderSize: number };
    expect([node.headersTimeout, node.requestTimeout, node.keepAliveTimeout]).toEqual([
      10_000, 60_000, 5_000,
    ]);
    expect(node.connectionsCheckingInterval).toBe(1_000);
    expect(node.maxHeaderSize).toBe(16 * 1024);
    expect(guard.limits.maxPendingPerSource).toBe(32);
    server.close();
    // serveHttp applies the setting and the overrides.
    expect(served.guard.limits).toMatchObject({ ...LIMITS, maxPendingPerSource: PER_SOURCE });
    expect(served.server.headersTimeout).toBe(LIMITS.headersTimeoutMs);
  });

  it('lets 40 header-dripping connections go at the header timeout plus the check interval, serving a client meanwhile', {
    timeout: 20_000,
  }, async () => {
    const bystander = new Client({ name: 'bystander', version: '1.0.0' });
    await bystander.connect(new StreamableHTTPClientTransport(new URL(served.url)));
    const peers = await Promise.all(
      SOURCES.flatMap((source) => Array.from({ length: PER_SOURCE }, () => open(source))),
    );
    expect(peers).toHaveLength(40);
    // One header byte now, then one a second (at most 10), whatever the server does.
    let sent = 0;
    const drip = () => {
      for (const p of peers) if (p.socket.writable && !p.socket.destroyed) p.socket.write(HEAD[sent] ?? 'x');
      sent += 1;
    };
    drip();
    const dripping = setInterval(() => (sent < 10 ? drip() : clearInterval(dripping)), 1_000);
    try {
      expect(await until(() => peers.every((p) => serverSide(p) !== undefined), 2_000)).toBe(true);
      for (const source of SOURCES) expect(served.guard.pending(source)).toBe(PER_SOURCE);

      // Connection #9 from a source at its cap is destroyed on accept: no answer, closed at once.
      const extra = await open(SOURCES[0]!);
      const opened = performance.now();
      expect((await extra.gone) - opened).toBeLessThan(300);
      expect(extra.received()).toBe('');
      // ...while another address is served, and the capped ones keep their count.
      expect(await healthz('127.0.0.7')).toBe(200);
      expect(served.guard.pending(SOURCES[0])).toBe(PER_SOURCE);

      // A real client on another address is served while the drippers hang on (bounded: 40 calls, 4 s).
      let calls = 0;
      const deadline = performance.now() + 4_000;
      while (
        calls < 40 &&
        performance.now() < deadline &&
        peers.some((p) => serverSide(p)?.closed === undefined)
      ) {
        const result = await bystander.callTool(STATUS_CALL);
        expect(result.isError).toBeFalsy();
        calls += 1;
      }
      expect(calls).toBeGreaterThanOrEqual(2);

      const bound = LIMITS.headersTimeoutMs + LIMITS.checkIntervalMs;
      expect(await until(() => peers.every((p) => serverSide(p)?.closed !== undefined), bound + 2_000)).toBe(
        true,
      );
      const lifetimes = peers.map((p) => {
        const side = serverSide(p)!;
        return side.closed! - side.accepted;
      });
      expect(Math.min(...lifetimes)).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs - 50);
      expect(Math.max(...lifetimes)).toBeLessThanOrEqual(bound + SLACK_MS);
      // Each was answered 408 first, and saw the server's side close (not a half-closed socket).
      for (const p of peers) {
        expect(p.received()).toMatch(/^HTTP\/1\.1 408 /);
        expect(await until(() => p.ended(), 1_000)).toBe(true);
      }
      for (const source of SOURCES) expect(served.guard.pending(source)).toBe(0);
      // With its connections gone the address is served again.
      expect(await healthz(SOURCES[0]!)).toBe(200);
      expect(served.guard.takeRefusals()).toEqual(
        expect.arrayContaining([
          { source: SOURCES[0], reason: 'pending-cap', count: 1 },
          { source: SOURCES[1], reason: 'timeout', count: PER_SOURCE },
        ]),
      );
    } finally {
      clearInterval(dripping);
      for (const p of peers) p.socket.destroy();
      await bystander.close();
    }
  });

  it('lets a silent connection go at the header timeout and a dripping body at the request timeout', {
    timeout: 15_000,
  }, async () => {
    const silent = await open('127.0.0.8');
    const body = await open('127.0.0.9');
    body.socket.write(
      'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        'Accept: application/json, text/event-stream\r\nContent-Length: 200\r\n\r\n{',
    );
    let ticks = 0;
    const dripping = setInterval(() => {
      if (body.socket.writable && ticks++ < 10) body.socket.write(' ');
    }, 500);
    try {
      await Promise.all([silent.gone, body.gone]);
      expect(await until(() => [silent, body].every((p) => serverSide(p)?.closed !== undefined), 1_000)).toBe(
        true,
      );
      const s = serverSide(silent)!;
      const b = serverSide(body)!;
      expect(s.closed! - s.accepted).toBeLessThanOrEqual(
        LIMITS.headersTimeoutMs + LIMITS.checkIntervalMs + SLACK_MS,
      );
      expect(b.closed! - b.accepted).toBeGreaterThanOrEqual(LIMITS.requestTimeoutMs - 50);
      expect(b.closed! - b.accepted).toBeLessThanOrEqual(
        LIMITS.requestTimeoutMs + LIMITS.checkIntervalMs + SLACK_MS,
      );
      expect(silent.received()).toMatch(/^HTTP\/1\.1 408 /);
      expect(body.received()).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(dripping);
      silent.socket.destroy();
      body.socket.destroy();
    }
  });

  it('leaves every connection it let go in the trail, folded per source, reason and interval', async () => {
    // Shutdown writes what the intervals still hold (and the trail flushes what it groups).
    await served.close();
    runtime.audit.flush();
    const refused = readAudit(auditFile).filter((r) => r.kind === 'protocol' && r.name === 'http');
    const counted = (code: string, source: string) =>
      refused
        .filter((r) => r.errorCode === code && r.source === source)
        .reduce((n, r) => n + Number(r.count ?? 1), 0);
    // The 40 drippers: every source's eight timed out; the ninth of the first source hit the cap.
    for (const source of SOURCES)
      expect(counted('REQUEST_TIMEOUT', source), source).toBeGreaterThanOrEqual(PER_SOURCE);
    expect(counted('TOO_MANY_PENDING_CONNECTIONS', SOURCES[0]!)).toBeGreaterThanOrEqual(1);
    // Folded: far fewer records than refusals, each anonymous and denied.
    expect(refused.length).toBeLessThan(20);
    for (const r of refused)
      expect(r).toMatchObject({ decision: 'denied', outcome: 'error', principal: { id: 'anonymous' } });
  });
});
