/**
 * Toolsets in process, stdio semantics, with the real v2 client (and v1 for listing): the
 * operator's FIXTURE_TOOLSETS narrows listing and calling alike, after scopes, read-only and the
 * allow/deny lists; a call outside the toolsets is refused typed and audited; every record carries
 * the connection's toolsets; unknown names and tools without a toolset stop the start.
 */
import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport, McpServer } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/env.ts';
import { fixture, STATUS_CALL } from '../testing/fixture/harness.ts';
import { useHarness } from '../testing/fixture/per-file.ts';
import { connectV1, connectV2, errorOf, readAudit, startInProcess, withClient } from '../testing/index.ts';
import { toolsetProblems, toolsOf } from './definition.ts';
import { localOperator, narrowToolsets } from './policy.ts';

const h = useHarness();
const ALL = 'fixture:read,fixture:write,fixture:prod';
const ACT = {
  name: 'act_on_item',
  arguments: { item: 'orders-api', environment: 'staging', reason: 'a test reason' },
};

const listed = (tools: Array<{ name: string }>) => tools.map((t) => t.name).sort();

describe('FIXTURE_TOOLSETS (the operator narrows every connection)', () => {
  it('lists only the tools of the chosen toolsets, to the v2 and the v1 client alike', async () => {
    const env = h.env({ FIXTURE_SCOPES: ALL, FIXTURE_TOOLSETS: 'status,catalog' });
    await withClient(connectV2({ server: fixture, env }), async ({ client }) => {
      expect(listed((await client.listTools()).tools)).toEqual(['get_item_status', 'list_items']);
    });
    await withClient(connectV1({ server: fixture, env }), async ({ client }) => {
      expect(listed((await client.listTools()).tools)).toEqual(['get_item_status', 'list_items']);
    });
  });

  it('refuses a call to a tool outside them, typed and audited with the toolsets, and nothing runs upstream', async () => {
    const env = h.env({ FIXTURE_SCOPES: ALL, FIXTURE_TOOLSETS: 'status,catalog' });
    await h.control.clearRequests();
    await withClient(connectV2({ server: fixture, env, approval: 'accept' }), async ({ client }) => {
      const refused = await client.callTool(ACT);
      expect(errorOf(refused)).toMatchObject({ code: 'OUTSIDE_TOOLSETS', details: { toolset: 'actions' } });
      expect(errorOf(refused)?.message).toContain('act_on_item belongs to the toolset "actions"');
      const allowed = await client.callTool(STATUS_CALL);
      expect(allowed.isError).toBeFalsy();
    });
    expect(await h.control.requests()).toHaveLength(1);
    const records = readAudit(env.FIXTURE_AUDIT_FILE);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      name: 'act_on_item',
      kind: 'tool',
      decision: 'denied',
      outcome: 'error',
      errorCode: 'OUTSIDE_TOOLSETS',
      toolsets: ['catalog', 'status'],
    });
    expect(records[1]).toMatchObject({
      name: 'get_item_status',
      outcome: 'ok',
      toolsets: ['catalog', 'status'],
    });
  });

  it('leaves the toolsets off the record when the connection is not narrowed', async () => {
    const env = h.env();
    await withClient(connectV2({ server: fixture, env }), async ({ client }) => {
      expect((await client.callTool(STATUS_CALL)).isError).toBeFalsy();
    });
    const [record] = readAudit(env.FIXTURE_AUDIT_FILE);
    expect(record).toMatchObject({ name: 'get_item_status', outcome: 'ok' });
    expect(record).not.toHaveProperty('toolsets');
  });

  it.each([
    ['scopes', { FIXTURE_SCOPES: 'fixture:read' }],
    ['read-only', { FIXTURE_SCOPES: ALL, FIXTURE_READ_ONLY: 'true' }],
    ['the deny list', { FIXTURE_SCOPES: ALL, FIXTURE_DENY_TOOLS: 'act_on_item' }],
    ['the allow list', { FIXTURE_SCOPES: ALL, FIXTURE_ALLOW_TOOLS: 'get_item_status' }],
  ])('narrows after %s: a tool hidden by them stays unknown, whatever the toolsets', async (_, extra) => {
    const env = h.env({ ...extra, FIXTURE_TOOLSETS: 'actions' });
    await withClient(connectV2({ server: fixture, env }), async ({ client }) => {
      expect((await client.listTools()).tools).toEqual([]);
      const answer = await client.callTool(ACT).catch((error: Error & { code?: number }) => error);
      // The SDK's unknown-tool answer, not a toolset refusal: the tool's existence is not revealed.
      expect(answer).toMatchObject({ code: -32602, message: expect.stringMatching(/not found/i) });
    });
    const [record] = readAudit(env.FIXTURE_AUDIT_FILE);
    expect(record).toMatchObject({ kind: 'protocol', errorCode: 'UNKNOWN_TOOL', toolsets: ['actions'] });
  });

  it('refuses an unknown toolset name at start, in one line naming the closest', async () => {
    const env = h.env({ FIXTURE_TOOLSETS: 'status,catalogue' });
    const start = startInProcess(fixture, { env });
    await expect(start).rejects.toBeInstanceOf(ConfigError);
    await expect(start).rejects.toThrow(
      'FIXTURE_TOOLSETS names an unknown toolset "catalogue" (did you mean "catalog"?); valid: status, catalog, actions',
    );
  });
});

describe('every tool belongs to exactly one declared toolset', () => {
  const [status] = toolsOf(fixture);

  it('accepts the fixture', () => {
    expect(toolsetProblems(fixture, toolsOf(fixture))).toEqual([]);
  });

  it('names a tool without a toolset, or with an undeclared one, and refuses to start', async () => {
    const orphan = { ...status!, name: 'orphan', toolset: undefined as unknown as string };
    const stray = { ...status!, name: 'stray', toolset: 'nowhere' };
    expect(toolsetProblems(fixture, [orphan, stray])).toEqual([
      'tool orphan belongs to no toolset (set its `toolset` field)',
      'tool stray names the toolset "nowhere", which fixture does not declare (declared: status, catalog, actions)',
    ]);
    const broken = { ...fixture, tools: [status!, orphan] };
    await expect(startInProcess(broken, { env: h.env() })).rejects.toThrow(
      'fixture: tool orphan belongs to no toolset',
    );
  });
});

describe('narrowToolsets', () => {
  const base = localOperator(['fixture:read']);

  it('never widens past the operator: a toolset left out stays out whatever is asked', () => {
    const operator = { toolsets: new Set(['status']) };
    expect([...(narrowToolsets(base, operator, ['status', 'actions']).toolsets ?? [])]).toEqual(['status']);
    expect([...(narrowToolsets(base, operator, ['actions']).toolsets ?? [])]).toEqual([]);
    expect([...(narrowToolsets(base, operator).toolsets ?? [])]).toEqual(['status']);
  });

  it('leaves an unnarrowed principal as it is, and hands back one object per selection', () => {
    expect(narrowToolsets(base, {})).toBe(base);
    const once = narrowToolsets(base, {}, ['catalog', 'status']);
    expect(narrowToolsets(base, {}, ['status', 'catalog'])).toBe(once);
    expect(once.scopes).toBe(base.scopes);
  });
});

describe('tools/list and its cache hints', () => {
  it("lists exactly what the SDK's own tools/list lists for the same registrations", async () => {
    const server = await startInProcess(fixture, { env: h.env({ FIXTURE_SCOPES: ALL }) });
    const bare = new McpServer({ name: 'bare', version: '1.0.0' });
    for (const { tool, inputSchema, outputSchema, listed } of server.runtime.tools.values())
      bare.registerTool(
        tool.name,
        {
          title: tool.title,
          description: tool.description,
          inputSchema,
          outputSchema,
          annotations: listed.annotations,
        },
        async () => ({ content: [] }),
      );
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await bare.connect(serverSide);
    const bareClient = new Client({ name: 'bare', version: '1.0.0' });
    await bareClient.connect(clientSide);
    const own = new Client({ name: 'own', version: '1.0.0' });
    await own.connect(server.clientTransport);
    try {
      expect((await own.listTools()).tools).toEqual((await bareClient.listTools()).tools);
    } finally {
      await bareClient.close();
      await own.close();
      await bare.close();
      await server.close();
    }
  });

  it('sets the 2026 cache hints on list results: public for the local operator on stdio', async () => {
    const env = h.env({ FIXTURE_TOOLSETS: 'status' });
    await withClient(connectV2({ server: fixture, env }), async ({ client }) => {
      const tools = (await client.listTools()) as { ttlMs?: number; cacheScope?: string };
      expect(tools).toMatchObject({ ttlMs: 60_000, cacheScope: 'public' });
      const prompts = (await client.listPrompts()) as { ttlMs?: number; cacheScope?: string };
      expect(prompts).toMatchObject({ ttlMs: 60_000, cacheScope: 'public' });
      const resources = (await client.listResources()) as { ttlMs?: number; cacheScope?: string };
      expect(resources).toMatchObject({ ttlMs: 0, cacheScope: 'public' });
    });
  });
});
