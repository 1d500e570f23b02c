/**
 * 2025 sessions on the HTTP front (FIXTURE_HTTP_SESSIONS=true), in this process: a session is bound
 * to the principal that opened it.
 */
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { KEYS, postWithKey } from '../testing/fixture/auth.ts';
import { fixture } from '../testing/fixture/harness.ts';
import { startHttp } from '../testing/fixture/http.ts';
import { useKeyedHarness } from '../testing/fixture/per-file.ts';
import { readAudit } from '../testing/index.ts';

const { env: keyedEnv } = useKeyedHarness();

const post = postWithKey;

describe('2025 sessions (FIXTURE_HTTP_SESSIONS=true)', () => {
  it('binds a session to its principal: 404 for unknown ids and for another principal, 400 without one', async () => {
    const env = keyedEnv({ FIXTURE_HTTP_SESSIONS: 'true' });
    const server = await startHttp(fixture, { env });
    const transport = new V1Transport(new URL(server.url), {
      requestInit: { headers: { authorization: `Bearer ${KEYS.alice}` } },
    });
    const client = new V1Client({ name: 'v1-session', version: '1.0.0' });
    try {
      await client.connect(transport);
      const sessionId = transport.sessionId;
      expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
      const result = await client.callTool({
        name: 'get_item_status',
        arguments: { item: 'orders-api', environment: 'staging' },
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
      expect(readAudit(env.FIXTURE_AUDIT_FILE).map((r) => r.errorCode)).toContain(
        'SESSION_PRINCIPAL_MISMATCH',
      );
    } finally {
      await client.close().catch(() => undefined);
      await server.close();
    }
  });
});
