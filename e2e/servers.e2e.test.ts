/**
 * Every server found in the workspace, through its built binary: a smoke test per transport (stdio,
 * and Streamable HTTP with `--no-auth` on loopback, both with the v2 SDK client against the sandbox),
 * then the stdio protocol suite every server runs (raw bytes, line caps, stdout purity, canaries on
 * stderr, clean exits: see @gatehouse/bench/protocol). A new server under servers/ is picked up with
 * no edit here; what it needs (a read call, extra variables) comes from its own test/e2e.json.
 */
import { describeStdioProtocol } from '@gatehouse/bench/protocol';
import { connectV2, spawnHttp } from '@gatehouse/core/testing';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2eHarness, type E2eServer, SERVERS, startHarness } from './src/servers.ts';

it('finds the servers in the workspace', () => {
  expect(SERVERS.length).toBeGreaterThan(0);
});

function expectReadCall(server: E2eServer, result: { isError?: unknown; content?: unknown }) {
  expect(
    result.isError,
    `${server.name} ${server.call!.name}: ${JSON.stringify(result.content).slice(0, 500)}`,
  ).toBeFalsy();
}

for (const server of SERVERS) {
  describe(server.name, () => {
    describe('smoke, one per transport', () => {
      let h: E2eHarness;
      beforeAll(async () => {
        h = await startHarness(server, 'warn');
      });
      afterAll(() => h?.close());

      it('has a read call for its smoke tests (test/e2e.json `call`, or a read tool without arguments)', () => {
        expect(server.call, `add servers/${server.name}/test/e2e.json with a "call"`).toBeDefined();
      });

      it('stdio: a v2 client lists the tools and calls a read tool', async () => {
        const c = await connectV2({ bin: server.bin, env: h.env() });
        try {
          const { tools } = await c.client.listTools();
          expect(tools.map((t) => t.name)).toContain(server.call!.name);
          expectReadCall(server, await c.client.callTool(server.call!));
          expect(c.stderr()).not.toContain(server.canary);
        } finally {
          await c.close();
        }
      });

      it('http (--no-auth, loopback): a v2 client over Streamable HTTP lists the tools and calls a read tool', async () => {
        const http = await spawnHttp(server.bin, h.env(), ['--no-auth']);
        const client = new Client(
          { name: 'gatehouse-e2e-smoke', version: '1.0.0' },
          { versionNegotiation: { mode: { pin: '2026-07-28' } } },
        );
        try {
          expect((await fetch(`${http.origin}/healthz`)).status).toBe(200);
          await client.connect(new StreamableHTTPClientTransport(new URL(http.url)));
          const { tools } = await client.listTools();
          expect(tools.map((t) => t.name)).toContain(server.call!.name);
          expectReadCall(server, await client.callTool(server.call!));
        } finally {
          await client.close();
          expect(await http.stop()).toBe(0);
        }
        expect(http.stderr()).not.toContain(server.canary);
      });
    });

    if (server.call && server.slow)
      describeStdioProtocol({
        bin: server.bin,
        prefix: server.prefix,
        canary: server.canary,
        harness: () => startHarness(server),
        call: server.call,
        slow: server.slow,
      });
  });
}
