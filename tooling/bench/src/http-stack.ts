/**
 * Which HTTP stack serves the SDK's handler best: node:http + toNodeHandler
 * vs Hono on @hono/node-server. Same stateless createMcpHandler, one trivial
 * tool; N concurrent keep-alive callers for a fixed time on 127.0.0.1.
 * Run: node tooling/bench/src/http-stack.ts   (bounded: 2 × 3 s)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { Hono } from 'hono';
import { z } from 'zod';

const factory = () => {
  const mcp = new McpServer({ name: 'bench', version: '1.0.0' });
  mcp.registerTool('echo', { inputSchema: z.object({ n: z.number() }) }, async ({ n }) => ({
    content: [{ type: 'text', text: String(n) }],
  }));
  return mcp;
};
const body = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'echo', arguments: { n: 1 } },
});
const headers = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
};

async function load(url: string, seconds = 3, concurrency = 32) {
  const until = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        const r = await fetch(url, { method: 'POST', headers, body });
        await r.text();
        if (r.status !== 200) errors++;
        latencies.push(performance.now() - t);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(1);
  return { rps: Math.round(latencies.length / seconds), p50: q(0.5), p99: q(0.99), errors };
}

const handler = createMcpHandler(factory);
const nodeServer = createServer(toNodeHandler(handler));
await new Promise<void>((r) => nodeServer.listen(0, '127.0.0.1', r));
const nodeUrl = `http://127.0.0.1:${(nodeServer.address() as AddressInfo).port}/mcp`;
await load(nodeUrl, 1);
const nodeResult = await load(nodeUrl);
nodeServer.close();

const app = new Hono().all('/mcp', (c) => handler.fetch(c.req.raw));
const honoServer = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
await new Promise((r) => honoServer.once('listening', r));
const honoUrl = `http://127.0.0.1:${(honoServer.address() as AddressInfo).port}/mcp`;
await load(honoUrl, 1);
const honoResult = await load(honoUrl);
honoServer.close();
await handler.close();

process.stdout.write(
  `${JSON.stringify({ 'node:http+toNodeHandler': nodeResult, 'hono+@hono/node-server': honoResult }, null, 2)}\n`,
);
