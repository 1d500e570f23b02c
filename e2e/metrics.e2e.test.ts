/**
 * OpenTelemetry metrics from the audit trail, through the built server over stdio and over HTTP, to a
 * loopback OTLP/HTTP (JSON) collector: the MCP semantic-convention names and attributes, and never an
 * argument value.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectV2, ok, spawnHttp } from '@gatehouse/core/testing';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2eHarness, SERVERS, startHarness } from './src/servers.ts';

const OPS = SERVERS.find((s) => s.name === 'platform-ops')!;

interface Point {
  metric: string;
  attributes: Record<string, unknown>;
  count?: number;
}

type KeyValue = { key: string; value: Record<string, unknown> };
const flatten = (list: KeyValue[] = []) =>
  Object.fromEntries(list.map(({ key, value }) => [key, Object.values(value)[0]]));

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A loopback OTLP/HTTP collector for metrics (JSON): every data point, and every raw body. */
async function startMetricsCollector() {
  const points: Point[] = [];
  const bodies: string[] = [];
  const server = createServer(async (req, res) => {
    const body = await bodyOf(req);
    if (req.url === '/v1/metrics') {
      bodies.push(body);
      const payload = JSON.parse(body) as {
        resourceMetrics: Array<{
          scopeMetrics: Array<{
            metrics: Array<{
              name: string;
              histogram?: { dataPoints: Array<{ attributes: KeyValue[]; count: string | number }> };
              sum?: { dataPoints: Array<{ attributes: KeyValue[]; asInt?: string | number }> };
            }>;
          }>;
        }>;
      };
      for (const rm of payload.resourceMetrics)
        for (const sm of rm.scopeMetrics)
          for (const metric of sm.metrics)
            for (const point of [...(metric.histogram?.dataPoints ?? []), ...(metric.sum?.dataPoints ?? [])])
              points.push({
                metric: metric.name,
                attributes: flatten(point.attributes),
                count: Number('count' in point ? point.count : point.asInt),
              });
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    points,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('OTLP metrics from the audit trail', () => {
  let h: E2eHarness;
  let collector: Awaited<ReturnType<typeof startMetricsCollector>>;
  beforeAll(async () => {
    h = await startHarness(OPS, 'info');
    collector = await startMetricsCollector();
  });
  afterAll(async () => {
    await collector?.close();
    await h?.close();
  });

  const otel = () => ({
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${collector.url}/v1/metrics`,
    OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
    OTEL_METRIC_EXPORT_INTERVAL: '200',
  });
  const call = OPS.call!;
  const argumentValues = Object.values(call.arguments ?? {}).map(String);

  function expectOperation(transport: 'pipe' | 'tcp') {
    // Cumulative: the last export (at shutdown) counts both calls.
    const point = collector.points.findLast(
      (p) => p.metric === 'mcp.server.operation.duration' && p.attributes['network.transport'] === transport,
    );
    expect(point?.attributes).toEqual({
      'mcp.method.name': 'tools/call',
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': call.name,
      'network.transport': transport,
      'gatehouse.outcome': 'ok',
      'gatehouse.decision': 'allowed',
    });
    expect(point?.count).toBe(2);
    expect(
      collector.points.some(
        (p) => p.metric === 'gatehouse.mcp.server.calls' && p.attributes['network.transport'] === transport,
      ),
    ).toBe(true);
    for (const value of argumentValues)
      for (const body of collector.bodies) expect(body).not.toContain(value);
  }

  it('over stdio', async () => {
    const connected = await connectV2({ bin: OPS.bin, env: h.env(otel()) });
    try {
      ok(await connected.client.callTool(call));
      ok(await connected.client.callTool(call));
    } finally {
      await connected.close(); // the server exports what it recorded as it exits
    }
    for (
      let i = 0;
      i < 100 && !collector.points.some((p) => p.attributes['network.transport'] === 'pipe');
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    expectOperation('pipe');
  });

  it('over HTTP', async () => {
    const server = await spawnHttp(OPS.bin, h.env(otel()), ['--host', '127.0.0.1', '--no-auth']);
    const client = new Client({ name: 'metrics-test', version: '1.0.0' });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
      ok(await client.callTool(call));
      ok(await client.callTool(call));
      await client.close();
      for (
        let i = 0;
        i < 100 && !collector.points.some((p) => p.attributes['network.transport'] === 'tcp');
        i++
      )
        await new Promise((r) => setTimeout(r, 50));
    } finally {
      await server.stop();
    }
    expectOperation('tcp');
  });
});
