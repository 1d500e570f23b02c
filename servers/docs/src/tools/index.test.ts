import { readFileSync } from 'node:fs';
import { connectV2, errorOf, eventually, readAudit, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { type AnyClient, CANARY_TOKEN, CLIENTS, callOk, fileHarness } from '../../test/harness.ts';
import docs from '../index.ts';

const h = fileHarness();

const TOOLS = ['find_service_owner', 'get_document', 'list_adrs', 'search_docs'];

describe.each(CLIENTS)('tools (%s)', (_label, connect) => {
  it('lists four read-only tools with bounded schemas', async () => {
    await withClient<AnyClient, void>(connect({ server: docs, env: h.env() }), async ({ client }) => {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
      for (const tool of tools) {
        expect(tool).toMatchObject({
          annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
          inputSchema: { type: 'object' },
          outputSchema: { type: 'object' },
        });
        expect(tool.description!.length).toBeGreaterThan(60);
      }
      const search = tools.find((t) => t.name === 'search_docs')!;
      const props = search.inputSchema.properties as Record<
        string,
        { maxLength?: number; maximum?: number; enum?: string[] }
      >;
      expect(props.query?.maxLength).toBe(200);
      expect(props.limit?.maximum).toBe(25);
      expect(props.kind?.enum).toEqual(['adr', 'standard', 'guide']);
    });
  });
});

describe('validation and audit', () => {
  it('rejects bad arguments with typed errors and audits every call', async () => {
    const env = h.env();
    await withClient(connectV2({ server: docs, env }), async (c) => {
      const cases: Array<[string, Record<string, unknown>]> = [
        ['search_docs', {}],
        ['search_docs', { query: 'x' }],
        ['search_docs', { query: 'a'.repeat(201) }],
        ['search_docs', { query: 'kafka', kind: 'memo' }],
        ['search_docs', { query: 'kafka', status: 'draft' }],
        ['search_docs', { query: 'kafka', limit: 26 }],
        ['get_document', { id: 'adr/0007-use-postgres' }],
        ['get_document', { id: 'local:adr/0007-use-postgres', cursor: 'not-a-cursor' }],
        ['list_adrs', { limit: 0 }],
        ['find_service_owner', { service: '../checkout-api' }],
      ];
      for (const [name, args] of cases) {
        const result = await c.client.callTool({ name, arguments: args });
        expect(errorOf(result)?.code, `${name} ${JSON.stringify(args)}`).toBe('INVALID_ARGUMENT');
      }
      await callOk(c.client, 'search_docs', { query: 'kafka events' });
      await c.client.callTool({ name: 'get_document', arguments: { id: 'local:../outside/secret' } });

      const audit = env.DOCS_AUDIT_FILE;
      const records = await eventually(() => {
        const r = readAudit(audit);
        return r.length >= cases.length + 2 ? r : undefined;
      });
      const tools = records.filter((r) => r.kind === 'tool');
      expect(tools).toHaveLength(cases.length + 2);
      expect(
        tools
          .slice(0, 6)
          .every(
            (r) => r.decision === 'invalid' && r.outcome === 'error' && r.errorCode === 'INVALID_ARGUMENT',
          ),
      ).toBe(true);
      const ok = tools.find((r) => r.name === 'search_docs' && r.outcome === 'ok')!;
      expect(ok).toMatchObject({
        decision: 'allowed',
        args: { query: 'kafka events', limit: 10 },
        upstreamCalls: 1,
        upstreamStatus: 200,
      });
      const traversal = tools.at(-1)!;
      expect(traversal).toMatchObject({
        name: 'get_document',
        outcome: 'error',
        errorCode: 'INVALID_ARGUMENT',
      });
      const text = readFileSync(audit, 'utf8');
      expect(text).not.toContain(CANARY_TOKEN);
      expect(c.stderr()).not.toContain(CANARY_TOKEN);
    });
  });
});
