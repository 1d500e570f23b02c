/**
 * Tracing at the call seam over stdio semantics: the fixture server in this process (the SDK's
 * in-memory pair), tracing started and shut down around it as the runner does, spans exported to a
 * loopback OTLP/JSON collector, the upstream behind a proxy that records trace headers. Tracing is
 * process-wide state, so the HTTP case has its own file (tracing-http.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CANARY, fixture } from '../testing/fixture/harness.ts';
import { CLIENT, SERVER, STATUS_ERROR } from '../testing/fixture/otlp.ts';
import { callerTrace, useTracing } from '../testing/fixture/tracing.ts';
import { connectV2, eventually, ok } from '../testing/index.ts';
import { shutdownTracing } from './tracing.ts';

const { collector, proxy, envFor, otlpJson, traced, tracedToCollector } = useTracing();
beforeEach(() => {
  collector.reset();
  proxy.seen.length = 0;
});
afterEach(() => vi.unstubAllEnvs());

describe('tracing over stdio', () => {
  it('exports a tool span continuing _meta.traceparent, with an upstream child that propagates it', async () => {
    const { traceId, callerSpan, traceparent } = callerTrace();
    const env = await tracedToCollector();
    const c = await connectV2({ server: fixture, env });
    try {
      ok(
        await c.client.callTool({
          name: 'get_item_status',
          arguments: { item: 'orders-api', environment: 'staging' },
          _meta: { traceparent, tracestate: 'caller=1' },
        }),
      );
      const missing = await c.client.callTool({
        name: 'get_item_status',
        arguments: { item: 'no-such-item-4c1d' },
      });
      expect(missing.isError).toBe(true);
      const read = await c.client.readResource({ uri: 'fixture://items/orders-api' });
      expect(read.contents).toHaveLength(1);
    } finally {
      await c.close();
      // Spans are batched and flushed when the server shuts down on stdin close.
      await shutdownTracing();
    }
    const tools = await eventually(() => {
      const found = collector.spans.filter((s) => s.name === 'tools/call get_item_status');
      return found.length === 2 && collector.spans.length >= 6 ? found : undefined;
    });
    expect(collector.posts.every((p) => p.path === '/v1/traces' && p.type.includes('json'))).toBe(true);

    const tool = tools.find((s) => s.traceId === traceId)!;
    expect(tool).toMatchObject({
      kind: SERVER,
      parentSpanId: callerSpan,
      attributes: {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'get_item_status',
        'gatehouse.outcome': 'ok',
        'gatehouse.decision': 'allowed',
        'gatehouse.upstream.calls': 1,
      },
      resource: { 'service.name': 'fixture', 'service.version': fixture.version },
    });
    const upstream = collector.childOf(tool)!;
    expect(upstream).toMatchObject({
      traceId,
      kind: CLIENT,
      name: 'GET /fixture/v1/items/{}/status',
      attributes: {
        'http.request.method': 'GET',
        'url.template': '/fixture/v1/items/{}/status',
        'http.response.status_code': 200,
        'gatehouse.upstream.attempts': 1,
      },
    });
    // The upstream request carried the upstream span as its parent.
    expect(proxy.seen.find((r) => r.path.startsWith('/fixture/v1/items/orders-api/status'))).toEqual({
      path: expect.any(String),
      traceparent: `00-${traceId}-${upstream.spanId}-01`,
    });

    // A failure is a span with its code, not its message or arguments.
    const failed = tools.find((s) => s.traceId !== traceId)!;
    expect(failed.parentSpanId ?? '').toBe('');
    expect(failed.attributes).toMatchObject({ 'error.type': 'NOT_FOUND', 'gatehouse.outcome': 'error' });
    expect(failed.status).toMatchObject({ code: STATUS_ERROR, message: 'NOT_FOUND' });
    expect(collector.childOf(failed)?.attributes).toMatchObject({
      'http.response.status_code': 404,
      'error.type': 'NOT_FOUND',
    });

    // Resource reads are named by their template, never by the URI the caller filled in.
    const resource = collector.spans.find((s) => s.name === 'resources/read fixture://items/{item}')!;
    expect(resource.attributes['mcp.method.name']).toBe('resources/read');
    expect(collector.childOf(resource)?.name).toBe('GET /fixture/v1/items/{}');

    const exported = JSON.stringify(collector.spans);
    for (const secret of ['orders-api', 'staging', 'no-such-item-4c1d', CANARY, proxy.url])
      expect(exported).not.toContain(secret);
  });

  it('sends nothing when OTEL is not configured, or is turned off', async () => {
    for (const otel of [
      {},
      { ...otlpJson(), OTEL_TRACES_EXPORTER: 'none' },
      { ...otlpJson(), OTEL_SDK_DISABLED: 'true' },
    ]) {
      const env = envFor(otel);
      await traced(env);
      const c = await connectV2({ server: fixture, env });
      try {
        const status = ok(
          await c.client.callTool({
            name: 'get_item_status',
            arguments: { item: 'orders-api' },
            _meta: { traceparent: callerTrace().traceparent },
          }),
        );
        expect(status.item).toBe('orders-api');
      } finally {
        await c.close();
        await shutdownTracing();
      }
    }
    expect(proxy.seen.length).toBe(3);
    expect(proxy.seen.every((r) => r.traceparent === undefined)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(collector.posts).toEqual([]);
  });
});
