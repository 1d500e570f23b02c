import { readFileSync } from 'node:fs';
import { connectV2, errorOf, eventually, readAudit } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { CANARY_TOKEN, CLIENTS, fileHarness, structured } from '../../test/harness.ts';
import docs from '../index.ts';

const h = fileHarness();

const TOOLS = ['find_service_owner', 'get_document', 'list_adrs', 'search_docs'];

describe.each(CLIENTS)('tools (%s)', (_label, connect) => {
  it('lists four read-only tools with bounded schemas', async () => {
    const c = await connect({ server: docs, env: h.env() });
    try {
      const { tools } = await c.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
      for (const tool of tools) {
        expect(tool.annotations).toMatchObject({
          readOnlyHint: true,
          destructiveHint: false,
          idempotentHint: true,
        });
        expect(tool.inputSchema.type).toBe('object');
        expect(tool.outputSchema?.type).toBe('object');
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
    } finally {
      await c.close();
    }
  });
});

describe('validation and audit', () => {
  it('rejects bad arguments with typed errors and audits every call', async () => {
    const env = h.env();
    const c = await connectV2({ server: docs, env });
    try {
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
      structured(await c.client.callTool({ name: 'search_docs', arguments: { query: 'kafka events' } }));
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
    } finally {
      await c.close();
    }
  });
});
