/**
 * Tracing as only the built binary shows it: SIGTERM flushes the spans of an HTTP server before the
 * process exits 0, and the bundle loads OpenTelemetry on demand only. Tracing at the seam (stdio and
 * HTTP, span names, attributes, propagation) is tested in-process in @gatehouse/core
 * (packages/core/src/telemetry/tracing*.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  CLIENT,
  eventually,
  legacyCall,
  MCP_HEADERS,
  type OtlpSpan,
  rpcBody,
  SERVER,
  spawnHttp,
  startCollector,
  startRecordingProxy,
} from '@gatehouse/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIN, type Harness, startHarness } from './harness.ts';

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
  await proxy?.close();
  await collector?.close();
  await h?.close();
});
beforeEach(() => {
  collector.reset();
  proxy.seen.length = 0;
});

/** Server environment pointing the upstream at the recording proxy, with or without OTEL. */
const envFor = (otel: Record<string, string>) =>
  h.env({ PLATFORM_OPS_API_URL: proxy.url, PLATFORM_OPS_LOG_LEVEL: 'warn', ...otel });

const otlpJson = () => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
});

const childOf = (parent: OtlpSpan) => collector.spans.find((s) => s.parentSpanId === parent.spanId);

describe('tracing over HTTP', () => {
  it('continues the traceparent header of the HTTP request and flushes on SIGTERM', async () => {
    const traceId = hex(16);
    const callerSpan = hex(8);
    const server = await spawnHttp(BIN, envFor(otlpJson()), ['--no-auth']);
    try {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: {
          ...MCP_HEADERS,
          'mcp-protocol-version': '2025-11-25',
          traceparent: `00-${traceId}-${callerSpan}-01`,
        },
        body: legacyCall(1, 'get_service_health', { service: 'checkout-api', environment: 'staging' }),
      });
      expect(response.status).toBe(200);
      const body = (await rpcBody(response)) as { result?: { isError?: boolean } };
      expect(body.result?.isError).toBeFalsy();
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }
    const tool = await eventually(() =>
      collector.spans.find((s) => s.name === 'tools/call get_service_health'),
    );
    expect(tool).toMatchObject({ traceId, parentSpanId: callerSpan, kind: SERVER });
    const upstream = childOf(tool)!;
    expect(upstream).toMatchObject({ traceId, kind: CLIENT, name: 'GET /platform/v1/services/{}/health' });
    expect(proxy.seen.map((r) => r.traceparent)).toEqual([`00-${traceId}-${upstream.spanId}-01`]);
    expect(JSON.stringify(collector.spans)).not.toContain('checkout-api');
  });
});

describe('cold start', () => {
  it('the built binary imports OpenTelemetry only on demand, never at start-up', () => {
    const dist = dirname(BIN);
    const code = readdirSync(dist)
      .filter((file) => file.endsWith('.js'))
      .map((file) => readFileSync(join(dist, file), 'utf8'))
      .join('\n');
    expect(code).toContain('import("@opentelemetry/sdk-trace")');
    expect(code).not.toMatch(/from\s*["']@opentelemetry\//);
    expect(code).not.toMatch(/^import\s*["']@opentelemetry\//m);
  });
});
