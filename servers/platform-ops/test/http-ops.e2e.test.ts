/**
 * Shutdown of the built binary over HTTP: SIGTERM drains in-flight requests and the process exits 0.
 * The drain itself, rate limits and sessions are tested in-process in @gatehouse/core
 * (packages/core/src/http/admission.test.ts, sessions.test.ts).
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { legacyCall, MCP_HEADERS, readAudit, rpcBody, spawnHttp } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type Harness, HEALTH_PATH, startHarness } from './harness.ts';
import { PUBLIC_URL } from './http-harness.ts';

const KEY = 'key-alice-7f3a9c1e5b2d4086';
let h: Harness;
let keysFile: string;

beforeAll(async () => {
  h = await startHarness();
  keysFile = join(h.dir, 'keys.json');
  writeFileSync(
    keysFile,
    JSON.stringify([
      {
        name: 'alice',
        sha256: createHash('sha256').update(KEY).digest('hex'),
        scopes: ['platform-ops:read'],
      },
    ]),
  );
});
afterAll(() => h?.close());

describe('admission and shutdown', () => {
  it('drains on SIGTERM: the in-flight call completes, the audit is flushed, exit 0', async () => {
    const env = h.env({ PLATFORM_OPS_PUBLIC_URL: PUBLIC_URL, PLATFORM_OPS_API_KEYS_FILE: keysFile });
    const server = await spawnHttp(BIN, env);
    await h.control.setFaults([{ path: HEALTH_PATH, latencyMs: 800, times: 1 }]);
    try {
      const inflight = fetch(server.url, {
        method: 'POST',
        headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2025-11-25', authorization: `Bearer ${KEY}` },
        body: legacyCall(7, 'get_service_health', { service: 'checkout-api', environment: 'staging' }),
      });
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
