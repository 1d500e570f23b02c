/**
 * Baseline: the bare MCP SDK v2 over stdio with the same two tools as the
 * Gatehouse bench server (core-server.ts), nothing else — no policy, no audit.
 * With `--http` it serves the SDK's own `createMcpHandler` on 127.0.0.1 instead.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';

const apiUrl = process.env.BENCH_API_URL;
const apiToken = process.env.BENCH_API_TOKEN ?? '';

function build(): McpServer {
  const mcp = new McpServer({ name: 'bare-v2', version: '1.0.0' });
  mcp.registerTool(
    'echo',
    {
      title: 'Echo',
      description: 'Returns the text it was given and its length.',
      inputSchema: z.object({ text: z.string().max(200) }),
      outputSchema: z.object({ text: z.string(), length: z.number().int() }),
    },
    async ({ text }) => {
      const out = { text, length: text.length };
      return { content: [{ type: 'text', text: JSON.stringify(out) }], structuredContent: out };
    },
  );
  mcp.registerTool(
    'upstream_health',
    {
      title: 'Upstream health',
      description: 'Health of one service, fetched from the upstream API.',
      inputSchema: z.object({ service: z.string().max(64) }),
      outputSchema: z.object({ service: z.string(), status: z.string() }).loose(),
    },
    async ({ service }, ctx) => {
      const response = await fetch(
        `${apiUrl}/platform/v1/services/${encodeURIComponent(service)}/health?environment=production`,
        { headers: { authorization: `Bearer ${apiToken}` }, signal: ctx.mcpReq.signal },
      );
      const out = (await response.json()) as { service: string; status: string };
      return { content: [{ type: 'text', text: JSON.stringify(out) }], structuredContent: out };
    },
  );
  return mcp;
}

if (process.argv.includes('--http')) {
  const handler = createMcpHandler(build, { legacy: 'stateless' });
  const server = createServer(toNodeHandler(handler));
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stderr.write(`listening on http://127.0.0.1:${port}/mcp\n`);
  });
} else {
  serveStdio(build);
}
