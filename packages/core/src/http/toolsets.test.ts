/**
 * X-Gatehouse-Toolsets over Streamable HTTP (the fixture's front in this process, API keys with the
 * read scope): the header narrows listing and calling per request on the stateless paths (2026, and
 * the kept servers of 2025), within the operator's FIXTURE_TOOLSETS; a session keeps the toolsets of
 * its initialize; an unknown name is a typed 400. Real v2 and v1 clients.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { KEYS, postWithKey } from '../testing/fixture/auth.ts';
import { fixture } from '../testing/fixture/harness.ts';
import { startHttp } from '../testing/fixture/http.ts';
import { useKeyedHarness } from '../testing/fixture/per-file.ts';
import { errorOf, readAudit } from '../testing/index.ts';

const { env: keyedEnv } = useKeyedHarness();

const headersFor = (toolsets?: string) => ({
  authorization: `Bearer ${KEYS.alice}`,
  ...(toolsets === undefined ? {} : { 'x-gatehouse-toolsets': toolsets }),
});

async function v2(url: string, toolsets?: string) {
  const client = new Client(
    { name: 'toolsets-v2', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: headersFor(toolsets) } }),
  );
  return client;
}

async function v1(url: string, toolsets?: string) {
  const transport = new V1Transport(new URL(url), { requestInit: { headers: headersFor(toolsets) } });
  const client = new V1Client({ name: 'toolsets-v1', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

const names = (tools: Array<{ name: string }>) => tools.map((t) => t.name).sort();
const LIST = JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' });

describe('X-Gatehouse-Toolsets (stateless)', () => {
  it('narrows listing and calling per request for the 2026 client; the list is private; calls outside are refused typed and audited', async () => {
    const env = keyedEnv();
    const server = await startHttp(fixture, { env });
    const narrowed = await v2(server.url, 'status');
    const whole = await v2(server.url);
    try {
      const list = (await narrowed.listTools()) as { tools: Array<{ name: string }>; cacheScope?: string };
      expect(names(list.tools)).toEqual(['get_item_status']);
      expect(list.cacheScope).toBe('private');
      expect(names((await whole.listTools()).tools)).toEqual(['get_item_status', 'list_items']);
      const refused = await narrowed.callTool({ name: 'list_items', arguments: {} });
      expect(errorOf(refused)).toMatchObject({ code: 'OUTSIDE_TOOLSETS', details: { toolset: 'catalog' } });
      expect((await whole.callTool({ name: 'list_items', arguments: {} })).isError).toBeFalsy();
      const records = readAudit(env.FIXTURE_AUDIT_FILE).filter((r) => r.name === 'list_items');
      expect(records).toHaveLength(2);
      expect(records[0]).toMatchObject({
        decision: 'denied',
        errorCode: 'OUTSIDE_TOOLSETS',
        toolsets: ['status'],
      });
      expect(records[1]).toMatchObject({ outcome: 'ok', principal: { id: 'alice' } });
      expect(records[1]).not.toHaveProperty('toolsets');
    } finally {
      await narrowed.close();
      await whole.close();
      await server.close();
    }
  });

  it('narrows the kept servers of 2025 stateless requests per toolsets, for the same principal', async () => {
    const server = await startHttp(fixture, { env: keyedEnv() });
    const catalog = await v1(server.url, 'catalog');
    const both = await v1(server.url, 'catalog, status');
    try {
      expect(names((await catalog.client.listTools()).tools)).toEqual(['list_items']);
      expect(names((await both.client.listTools()).tools)).toEqual(['get_item_status', 'list_items']);
      const refused = await catalog.client.callTool({
        name: 'get_item_status',
        arguments: { item: 'orders-api' },
      });
      expect(errorOf(refused)?.code).toBe('OUTSIDE_TOOLSETS');
    } finally {
      await catalog.client.close();
      await both.client.close();
      await server.close();
    }
  });

  it("never widens past the operator's FIXTURE_TOOLSETS", async () => {
    const server = await startHttp(fixture, { env: keyedEnv({ FIXTURE_TOOLSETS: 'status' }) });
    const asksMore = await v2(server.url, 'catalog,status');
    const asksOther = await v2(server.url, 'catalog');
    const asksNothing = await v2(server.url);
    try {
      expect(names((await asksMore.listTools()).tools)).toEqual(['get_item_status']);
      expect((await asksOther.listTools()).tools).toEqual([]);
      expect(names((await asksNothing.listTools()).tools)).toEqual(['get_item_status']);
      const refused = await asksMore.callTool({ name: 'list_items', arguments: {} });
      expect(errorOf(refused)?.code).toBe('OUTSIDE_TOOLSETS');
    } finally {
      await Promise.all([asksMore.close(), asksOther.close(), asksNothing.close()]);
      await server.close();
    }
  });

  it.each([
    ['an unknown name', 'status,catalgo', 'names an unknown toolset "catalgo" (did you mean "catalog"?)'],
    ['no name at all', ' , ', 'names no toolset'],
  ])('refuses %s with a typed 400 JSON-RPC error, audited', async (_, value, message) => {
    const env = keyedEnv();
    const server = await startHttp(fixture, { env });
    try {
      const response = await postWithKey(server.url, KEYS.alice, LIST, { 'x-gatehouse-toolsets': value });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { code: number; message: string; data: unknown } };
      expect(body.error.code).toBe(-32602);
      expect(body.error.message).toContain(message);
      expect(body.error.message).toContain('valid: status, catalog, actions');
      expect(body.error.data).toMatchObject({
        code: 'UNKNOWN_TOOLSET',
        valid: ['status', 'catalog', 'actions'],
      });
      const [record] = readAudit(env.FIXTURE_AUDIT_FILE);
      expect(record).toMatchObject({
        kind: 'protocol',
        name: 'http',
        decision: 'invalid',
        errorCode: 'UNKNOWN_TOOLSET',
        principal: { id: 'alice' },
      });
    } finally {
      await server.close();
    }
  });
});

describe('X-Gatehouse-Toolsets with 2025 sessions (FIXTURE_HTTP_SESSIONS=true)', () => {
  it("fixes a session's toolsets at initialize: a later request naming others is refused, typed and audited", async () => {
    const env = keyedEnv({ FIXTURE_HTTP_SESSIONS: 'true' });
    const server = await startHttp(fixture, { env });
    const { client, transport } = await v1(server.url, 'status');
    try {
      expect(names((await client.listTools()).tools)).toEqual(['get_item_status']);
      const session = { 'mcp-session-id': transport.sessionId! };
      const other = await postWithKey(server.url, KEYS.alice, LIST, {
        ...session,
        'x-gatehouse-toolsets': 'catalog',
      });
      expect(other.status).toBe(400);
      expect(((await other.json()) as { error: { data: unknown } }).error.data).toEqual({
        code: 'TOOLSETS_CHANGED',
      });
      const same = await postWithKey(server.url, KEYS.alice, LIST, {
        ...session,
        'x-gatehouse-toolsets': 'status',
      });
      expect(same.status).toBe(200);
      expect(readAudit(env.FIXTURE_AUDIT_FILE).map((r) => r.errorCode)).toContain('TOOLSETS_CHANGED');
    } finally {
      await client.close().catch(() => undefined);
      await server.close();
    }
  });
});
