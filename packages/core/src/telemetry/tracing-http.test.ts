/**
 * Tracing through the HTTP front: the fixture server's `createHttpApp` in this process continues
 * the `traceparent` header of the HTTP request. Its own file because tracing is process-wide state
 * that registers OpenTelemetry globals once (see tracing.test.ts for stdio). That SIGTERM flushes
 * the spans of a real process is end-to-end (servers/platform-ops/test/tracing.e2e.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { fixture } from '../testing/fixture/harness.ts';
import { legacyCall, MCP_HEADERS, rpcBody, startHttp } from '../testing/fixture/http.ts';
import { CLIENT, SERVER } from '../testing/fixture/otlp.ts';
import { callerTrace, useTracing } from '../testing/fixture/tracing.ts';
import { eventually } from '../testing/index.ts';
import { shutdownTracing } from './tracing.ts';

const { collector, proxy, tracedToCollector } = useTracing();

describe('tracing over HTTP', () => {
  it('continues the traceparent header of the HTTP request and flushes on shutdown', async () => {
    const { traceId, callerSpan, traceparent } = callerTrace();
    const env = await tracedToCollector();
    const server = await startHttp(fixture, { env, noAuth: true });
    try {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: {
          ...MCP_HEADERS,
          'mcp-protocol-version': '2025-11-25',
          traceparent,
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
