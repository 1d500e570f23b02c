import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAudit } from '@gatehouse/core/testing';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type Harness, startHarness } from './harness.ts';
import { legacyCall, MCP_HEADERS, PUBLIC_URL, rpcBody, spawnHttp } from './http-harness.ts';

const KEYS = { alice: 'key-alice-7f3a9c1e5b2d4086', bob: 'key-bob-0b1c2d3e4f5a6b7c' };
const V = { 'mcp-protocol-version': '2025-11-25' };
let h: Harness;
let keysFile: string;

beforeAll(async () => {
  h = await startHarness();
  keysFile = join(h.dir, 'keys.json');
  writeFileSync(
    keysFile,
    JSON.stringify(
      Object.entries(KEYS).map(([name, key]) => ({
        name,
        sha256: createHash('sha256').update(key).digest('hex'),
        scopes: ['platform-ops:read'],
      })),
    ),
  );
});
afterAll(() => h?.close());

const authEnv = (extra: Record<string, string> = {}) =>
  h.env({ PLATFORM_OPS_PUBLIC_URL: PUBLIC_URL, PLATFORM_OPS_API_KEYS_FILE: keysFile, ...extra });

const post = (url: string, key: string, body: string, extra: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...V, authorization: `Bearer ${key}`, ...extra },
    body,
  });

describe('admission and shutdown', () => {
  it('rate-limits one principal with 429 and Retry-After while another is unaffected', async () => {
    const server = await spawnHttp(BIN, authEnv({ PLATFORM_OPS_RATE_LIMIT_PER_MINUTE: '3' }));
    try {
      const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await post(server.url, KEYS.alice, ping)).status);
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      const limited = await post(server.url, KEYS.alice, ping);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await post(server.url, KEYS.bob, ping)).status).toBe(200);
      const metrics = await (await fetch(new URL('/metrics', server.url))).text();
      expect(metrics).toMatch(/gatehouse_http_rejected_total\{[^}]*reason="rate_limited"[^}]*\} [1-9]/);
    } finally {
      await server.stop();
    }
  });

  it('drains on SIGTERM: the in-flight call completes, the audit is flushed, exit 0', async () => {
    const env = authEnv();
    const server = await spawnHttp(BIN, env);
    await h.control.setFaults([
      { path: '/platform/v1/services/checkout-api/health', latencyMs: 800, times: 1 },
    ]);
    try {
      const inflight = post(
        server.url,
        KEYS.alice,
        legacyCall(7, 'get_service_health', { service: 'checkout-api', environment: 'staging' }),
      );
      await new Promise((r) => setTimeout(r, 300));
      const exited = server.stop('SIGTERM');
      const response = await inflight;
      expect(response.status).toBe(200);
      const message = await rpcBody(response);
      expect((message.result as { isError?: boolean }).isError).toBeFalsy();
      expect(await exited).toBe(0);
      expect(
        readAudit(env.PLATFORM_OPS_AUDIT_FILE).some(
          (r) => r.name === 'get_service_health' && r.outcome === 'ok',
        ),
      ).toBe(true);
      await expect(fetch(new URL('/healthz', server.url))).rejects.toThrow();
    } finally {
      await h.control.clearFaults();
      await server.stop('SIGKILL');
    }
  });
});

describe('2025 sessions (PLATFORM_OPS_HTTP_SESSIONS=true)', () => {
  it('binds a session to its principal: 404 for unknown ids and for another principal, 400 without one', async () => {
    const env = authEnv({ PLATFORM_OPS_HTTP_SESSIONS: 'true' });
    const server = await spawnHttp(BIN, env);
    const transport = new V1Transport(new URL(server.url), {
      requestInit: { headers: { authorization: `Bearer ${KEYS.alice}` } },
    });
    const client = new V1Client({ name: 'v1-session', version: '1.0.0' });
    try {
      await client.connect(transport);
      const sessionId = transport.sessionId;
      expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
      const result = await client.callTool({
        name: 'get_service_health',
        arguments: { service: 'checkout-api', environment: 'staging' },
      });
      expect(result.isError).toBeFalsy();
      const ping = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' });
      const stolen = await post(server.url, KEYS.bob, ping, { 'mcp-session-id': sessionId! });
      expect(stolen.status).toBe(404);
      const unknown = await post(server.url, KEYS.alice, ping, { 'mcp-session-id': crypto.randomUUID() });
      expect(unknown.status).toBe(404);
      const missing = await post(server.url, KEYS.alice, ping);
      expect(missing.status).toBe(400);
      const own = await post(server.url, KEYS.alice, ping, { 'mcp-session-id': sessionId! });
      expect(own.status).toBe(200);
      expect(readAudit(env.PLATFORM_OPS_AUDIT_FILE).map((r) => r.errorCode)).toContain(
        'SESSION_PRINCIPAL_MISMATCH',
      );
    } finally {
      await client.close().catch(() => undefined);
      await server.stop();
    }
  });
});
