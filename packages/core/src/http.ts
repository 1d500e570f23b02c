import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  createMcpHandler,
  hostHeaderValidationResponse,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  originValidationResponse,
} from '@modelcontextprotocol/server';
import type { Principal } from './policy.ts';
import { buildMcpServer, type Runtime } from './server.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Streamable HTTP on /mcp, stateless: one server instance per request, so any
 * replica can answer. Host and Origin are checked against loopback names
 * (DNS rebinding). Token authentication is not implemented yet, so this mode
 * only runs with --no-auth on a loopback address.
 */
export async function serveHttp(
  runtime: Runtime,
  options: {
    host: string;
    port: number;
    noAuth: boolean;
    principal: Principal;
    fail: (message: string) => never;
  },
): Promise<void> {
  if (!LOOPBACK.has(options.host))
    options.fail(
      `--host ${options.host} is not a loopback address; serving beyond loopback needs authentication`,
    );
  if (!options.noAuth)
    options.fail('--transport http currently requires --no-auth (loopback development only)');
  const handler = createMcpHandler(() => buildMcpServer(runtime, options.principal), {
    legacy: 'stateless',
    maxRequestBodySize: 1024 * 1024,
    onerror: (error) => runtime.log.debug({ err: error.message }, 'http request rejected'),
  });
  const guarded = {
    fetch: async (request: Request) => {
      const url = new URL(request.url);
      if (url.pathname === '/healthz') return Response.json({ ok: true });
      if (url.pathname !== '/mcp') return Response.json({ error: 'not_found' }, { status: 404 });
      const rejected =
        hostHeaderValidationResponse(request, localhostAllowedHostnames()) ??
        originValidationResponse(request, localhostAllowedOrigins());
      return rejected ?? handler.fetch(request);
    },
  };
  const server = createServer(toNodeHandler(guarded as never));
  server.requestTimeout = 60_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const { port } = server.address() as AddressInfo;
  const shown = options.host.includes(':') ? `[${options.host}]` : options.host;
  process.stderr.write(`${runtime.definition.bin} listening on http://${shown}:${port}/mcp\n`);
  const stop = () => {
    server.close();
    void handler
      .close()
      .then(() => runtime.close())
      .then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
