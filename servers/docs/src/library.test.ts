import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectV2, errorOf } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { fileHarness, structured } from '../test/harness.ts';
import docs from './index.ts';

const h = fileHarness();

describe('start-up', () => {
  it('starts with an index file it cannot open, and says so on every local call', async () => {
    // Not a database: the index is only opened after start-up, so this surfaces on use, not as a crash.
    const dbPath = join(h.dir, 'not-a-database.sqlite');
    writeFileSync(
      dbPath,
      'this is not an SQLite database, just some text that is long enough to look like a header\n'.repeat(20),
    );
    const c = await connectV2({ server: docs, env: h.env({ DOCS_INDEX_PATH: dbPath }) });
    try {
      const tools = await c.client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain('search_docs');
      const search = await c.client.callTool({ name: 'search_docs', arguments: { query: 'postgres' } });
      expect(errorOf(search)).toMatchObject({ code: 'INTERNAL', retryable: false });
      expect(JSON.stringify(search.content)).toMatch(/DOCS_INDEX_PATH/);
      const local = await c.client.callTool({
        name: 'get_document',
        arguments: { id: 'local:adr/0007-use-postgres' },
      });
      expect(errorOf(local)?.code).toBe('INTERNAL');
      // The wiki still answers, and listings simply hold no local documents.
      const wiki = structured(
        await c.client.callTool({
          name: 'get_document',
          arguments: { id: 'wiki:adr-0001-use-postgresql-default-relational' },
        }),
      );
      expect(wiki.document.source).toBe('wiki');
      const resources = await c.client.listResources();
      expect(
        resources.resources.filter((r) => r.uri.startsWith('docs://') && r.uri !== 'docs://adr-index'),
      ).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('serves the wiki alone', async () => {
    const c = await connectV2({ server: docs, env: h.env({ DOCS_ROOT: '' }) });
    try {
      const out = structured(
        await c.client.callTool({ name: 'search_docs', arguments: { query: 'postgres' } }),
      );
      expect(out.results.length).toBeGreaterThan(0);
      expect(out.results.every((r: { source: string }) => r.source === 'wiki')).toBe(true);
      expect(out.total.local).toBeNull();
      const local = await c.client.callTool({
        name: 'get_document',
        arguments: { id: 'local:adr/0007-use-postgres' },
      });
      expect(errorOf(local)?.code).toBe('NOT_FOUND');
      const adrs = structured(await c.client.callTool({ name: 'list_adrs', arguments: { limit: 50 } }));
      expect(adrs.adrs.every((a: { source: string }) => a.source === 'wiki')).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('serves the folder alone, without calling any API', async () => {
    await h.control.clearRequests();
    const c = await connectV2({ server: docs, env: h.env({ DOCS_API_URL: '', DOCS_API_TOKEN: '' }) });
    try {
      const out = structured(
        await c.client.callTool({ name: 'search_docs', arguments: { query: 'postgres' } }),
      );
      expect(out.results.length).toBeGreaterThan(0);
      expect(out.results.every((r: { source: string }) => r.source === 'local')).toBe(true);
      expect(out.total.wiki).toBeNull();
      const wiki = await c.client.callTool({
        name: 'get_document',
        arguments: { id: 'wiki:std-api-versioning' },
      });
      expect(errorOf(wiki)?.code).toBe('NOT_FOUND');
      const owner = await c.client.callTool({
        name: 'find_service_owner',
        arguments: { service: 'payments-gateway' },
      });
      expect(errorOf(owner)?.code).toBe('NOT_FOUND');
      expect((await h.control.requests()).filter((r) => r.path.startsWith('/docs'))).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('answers from the folder when the wiki fails, and says which source was unavailable', async () => {
    await h.control.setFaults([{ path: '/docs/v1/documents', status: 503 }]);
    const c = await connectV2({ server: docs, env: h.env({ DOCS_RETRIES: '0' }) });
    try {
      const out = structured(
        await c.client.callTool({ name: 'search_docs', arguments: { query: 'postgres' } }),
      );
      expect(out.results.length).toBeGreaterThan(0);
      expect(out.results.every((r: { source: string }) => r.source === 'local')).toBe(true);
      expect(out.unavailable).toEqual([
        { source: 'wiki', code: 'UPSTREAM_UNAVAILABLE', message: expect.any(String) },
      ]);
    } finally {
      await h.control.clearFaults();
      await c.close();
    }
  });
});
