/**
 * Tracing through the HTTP front: the fixture server's `createHttpApp` in this process continues
 * the `traceparent` header of the HTTP request. Its own file because tracing is process-wide state
 * that registers OpenTelemetry globals once (see tracing.test.ts for stdio). That SIGTERM flushes
 * the spans of a real process is end-to-end (servers/platform-ops/test/tracing.e2e.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fixture, type Harness, startHarness } from '../testing/fixture/harness.ts';
import { legacyCall, MCP_HEADERS, rpcBody, startHttp } from '../testing/fixture/http.ts';
import { CLIENT, SERVER, startCollector, startRecordingProxy } from '../testing/fixture/otlp.ts';
import { eventually } from '../testing/index.ts';
import { shutdownTracing, startTracing } from './tracing.ts';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

let h: Harness;
let collector: Awaited<ReturnType<typeof startCollector>>;
let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;

beforeAll(async () => {
  h = await startHarness();
  collector = await startCollector();
  proxy = await startRecordingProxy(h.sandbox.url);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await shutdownTracing();
  await proxy?.close();
  await collector?.close();
  await h?.close();
});

describe('tracing over HTTP', () => {
  it('continues the traceparent header of the HTTP request and flushes on shutdown', async () => {
    const traceId = hex(16);
    const callerSpan = hex(8);
    const env = h.env({
      FIXTURE_API_URL: proxy.url,
      FIXTURE_LOG_LEVEL: 'warn',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    // The OTLP exporter reads its endpoint from the process environment, as in the binary.
    for (const [name, value] of Object.entries(env)) if (name.startsWith('OTEL_')) vi.stubEnv(name, value);
    await startTracing({ name: fixture.name, version: fixture.version, env, log: pino({ level: 'silent' }) });
    const server = await startHttp(fixture, { env, noAuth: true });
    try {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: {
          ...MCP_HEADERS,
          'mcp-protocol-version': '2025-11-25',
          traceparent: `00-${traceId}-${callerSpan}-01`,
        },
        body: legacyCall(1, 'get_item_status', { item: 'orders-api', environment: 'staging' }),
      });
      expect(response.status).toBe(200);
      const body = (await rpcBody(response)) as { result?: { isError?: boolean } };
      expect(body.result?.isError).toBeFalsy();
    } finally {
      // What SIGTERM does: drain, release the runtime, flush the spans.
      await server.close();
      await shutdownTracing();
    }
    const tool = await eventually(() => collector.spans.find((s) => s.name === 'tools/call get_item_status'));
    expect(tool).toMatchObject({ traceId, parentSpanId: callerSpan, kind: SERVER });
    const upstream = collector.childOf(tool)!;
    expect(upstream).toMatchObject({ traceId, kind: CLIENT, name: 'GET /fixture/v1/items/{}/status' });
    expect(proxy.seen.map((r) => r.traceparent)).toEqual([`00-${traceId}-${upstream.spanId}-01`]);
    expect(JSON.stringify(collector.spans)).not.toContain('orders-api');
  });
});
