import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { connectV2, eventually, ok } from '@gatehouse/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pkg from '../package.json' with { type: 'json' };
import { BIN, CANARY, type Harness, startHarness } from './harness.ts';
import { legacyCall, MCP_HEADERS, rpcBody, spawnHttp } from './http-harness.ts';

/** One span as OTLP/JSON carries it, with its resource's attributes beside it. */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status?: { code?: number; message?: string };
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

const SERVER = 2;
const CLIENT = 3;
const STATUS_ERROR = 2;

type KeyValue = { key: string; value: Record<string, unknown> };
const flatten = (list: KeyValue[] = []) =>
  Object.fromEntries(list.map(({ key, value }) => [key, Object.values(value)[0]]));

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

/** A minimal OTLP/HTTP collector: POST /v1/traces with JSON bodies. */
async function startCollector() {
  const spans: OtlpSpan[] = [];
  const posts: Array<{ path: string; type: string }> = [];
  const server = createServer(async (req, res) => {
    const body = await bodyOf(req);
    posts.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '' });
    const payload = JSON.parse(body.toString('utf8')) as {
      resourceSpans: Array<{
        resource: { attributes: KeyValue[] };
        scopeSpans: Array<{
          spans: Array<Omit<OtlpSpan, 'attributes' | 'resource'> & { attributes: KeyValue[] }>;
        }>;
      }>;
    };
    for (const rs of payload.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans)
          spans.push({
            ...span,
            attributes: flatten(span.attributes),
            resource: flatten(rs.resource.attributes),
          });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  const url = await listen(server);
  return {
    url,
    spans,
    posts,
    reset() {
      spans.length = 0;
      posts.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Forwards to the sandbox and records the trace headers each upstream request carried. */
async function startRecordingProxy(target: string) {
  const seen: Array<{ path: string; traceparent?: string }> = [];
  const server = createServer(async (req, res) => {
    const body = await bodyOf(req);
    const traceparent = req.headers.traceparent;
    seen.push({ path: req.url ?? '', ...(typeof traceparent === 'string' ? { traceparent } : {}) });
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers))
      if (typeof value === 'string' && !['host', 'connection', 'content-length'].includes(name))
        headers.set(name, value);
    const upstream = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers,
      ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
    });
    res.writeHead(upstream.status, {
      'content-type': upstream.headers.get('content-type') ?? 'application/json',
    });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  const url = await listen(server);
  return {
    url,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

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

describe('tracing over stdio', () => {
  it('exports a tool span continuing _meta.traceparent, with an upstream child that propagates it', async () => {
    const traceId = hex(16);
    const callerSpan = hex(8);
    const c = await connectV2({ bin: BIN, env: envFor(otlpJson()) });
    try {
      ok(
        await c.client.callTool({
          name: 'get_service_health',
          arguments: { service: 'checkout-api', environment: 'staging' },
          _meta: { traceparent: `00-${traceId}-${callerSpan}-01`, tracestate: 'caller=1' },
        }),
      );
      const missing = await c.client.callTool({
        name: 'get_service_health',
        arguments: { service: 'no-such-service-4c1d' },
      });
      expect(missing.isError).toBe(true);
      const read = await c.client.readResource({ uri: 'service://catalog/checkout-api' });
      expect(read.contents).toHaveLength(1);
    } finally {
      await c.close();
    }
    // Spans are batched and flushed when the server shuts down on stdin close.
    const tools = await eventually(() => {
      const found = collector.spans.filter((s) => s.name === 'tools/call get_service_health');
      return found.length === 2 && collector.spans.length >= 6 ? found : undefined;
    });
    expect(collector.posts.every((p) => p.path === '/v1/traces' && p.type.includes('json'))).toBe(true);

    const tool = tools.find((s) => s.traceId === traceId)!;
    expect(tool).toMatchObject({
      kind: SERVER,
      parentSpanId: callerSpan,
      attributes: {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'get_service_health',
        'gatehouse.outcome': 'ok',
        'gatehouse.decision': 'allowed',
        'gatehouse.upstream.calls': 1,
      },
      resource: { 'service.name': 'platform-ops', 'service.version': pkg.version },
    });
    const upstream = childOf(tool)!;
    expect(upstream).toMatchObject({
      traceId,
      kind: CLIENT,
      name: 'GET /platform/v1/services/{}/health',
      attributes: {
        'http.request.method': 'GET',
        'url.template': '/platform/v1/services/{}/health',
        'http.response.status_code': 200,
        'gatehouse.upstream.attempts': 1,
      },
    });
    // The upstream request carried the upstream span as its parent.
    expect(proxy.seen.find((r) => r.path.startsWith('/platform/v1/services/checkout-api/health'))).toEqual({
      path: expect.any(String),
      traceparent: `00-${traceId}-${upstream.spanId}-01`,
    });

    // A failure is a span with its code, not its message or arguments.
    const failed = tools.find((s) => s.traceId !== traceId)!;
    expect(failed.parentSpanId ?? '').toBe('');
    expect(failed.attributes).toMatchObject({ 'error.type': 'NOT_FOUND', 'gatehouse.outcome': 'error' });
    expect(failed.status).toMatchObject({ code: STATUS_ERROR, message: 'NOT_FOUND' });
    expect(childOf(failed)?.attributes).toMatchObject({
      'http.response.status_code': 404,
      'error.type': 'NOT_FOUND',
    });

    // Resource reads are named by their template, never by the URI the caller filled in.
    const resource = collector.spans.find((s) => s.name === 'resources/read service://catalog/{service}')!;
    expect(resource.attributes['mcp.method.name']).toBe('resources/read');
    expect(childOf(resource)?.name).toBe('GET /platform/v1/services/{}');

    const exported = JSON.stringify(collector.spans);
    for (const secret of ['checkout-api', 'staging', 'no-such-service-4c1d', CANARY, proxy.url])
      expect(exported).not.toContain(secret);
  });

  it('sends nothing when OTEL is not configured, or is turned off', async () => {
    for (const otel of [
      {},
      { ...otlpJson(), OTEL_TRACES_EXPORTER: 'none' },
      { ...otlpJson(), OTEL_SDK_DISABLED: 'true' },
    ]) {
      const c = await connectV2({ bin: BIN, env: envFor(otel) });
      try {
        const health = ok(
          await c.client.callTool({
            name: 'get_service_health',
            arguments: { service: 'checkout-api' },
            _meta: { traceparent: `00-${hex(16)}-${hex(8)}-01` },
          }),
        );
        expect(health.service).toBe('checkout-api');
      } finally {
        await c.close();
      }
    }
    expect(proxy.seen.length).toBe(3);
    expect(proxy.seen.every((r) => r.traceparent === undefined)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(collector.posts).toEqual([]);
  });
});

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
