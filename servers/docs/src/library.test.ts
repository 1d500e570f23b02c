import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectV2, errorOf, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { callOk, errorCode, fileHarness } from '../test/harness.ts';
import docs from './index.ts';

const h = fileHarness();

/** Searches for 'postgres' and checks that there are results, every one from `source`; returns the answer. */
async function searchFrom(client: Parameters<typeof callOk>[0], source: 'local' | 'wiki') {
  const out = await callOk(client, 'search_docs', { query: 'postgres' });
  expect(out.results.length).toBeGreaterThan(0);
  expect(out.results.every((r: { source: string }) => r.source === source)).toBe(true);
  return out;
}

describe('start-up', () => {
  it('starts with an index file it cannot open, and says so on every local call', async () => {
    // Not a database: the index is only opened after start-up, so this surfaces on use, not as a crash.
    const dbPath = join(h.dir, 'not-a-database.sqlite');
    writeFileSync(
      dbPath,
      'this is not an SQLite database, just some text that is long enough to look like a header\n'.repeat(20),
    );
    await withClient(
      connectV2({ server: docs, env: h.env({ DOCS_INDEX_PATH: dbPath }) }),
      async ({ client }) => {
        const tools = await client.listTools();
        expect(tools.tools.map((t) => t.name)).toContain('search_docs');
        const search = await client.callTool({ name: 'search_docs', arguments: { query: 'postgres' } });
        expect(errorOf(search)).toMatchObject({ code: 'INTERNAL', retryable: false });
        expect(JSON.stringify(search.content)).toMatch(/DOCS_INDEX_PATH/);
        const local = await client.callTool({
          name: 'get_document',
          arguments: { id: 'local:adr/0007-use-postgres' },
        });
        expect(errorOf(local)?.code).toBe('INTERNAL');
        // The wiki still answers, and listings simply hold no local documents.
        const wiki = await callOk(client, 'get_document', {
          id: 'wiki:adr-0001-use-postgresql-default-relational',
        });
        expect(wiki.document.source).toBe('wiki');
        const resources = await client.listResources();
        expect(
          resources.resources.filter((r) => r.uri.startsWith('docs://') && r.uri !== 'docs://adr-index'),
        ).toEqual([]);
      },
    );
  });

  it('serves the wiki alone', async () => {
    await withClient(connectV2({ server: docs, env: h.env({ DOCS_ROOT: '' }) }), async ({ client }) => {
      expect((await searchFrom(client, 'wiki')).total.local).toBeNull();
      expect(await errorCode(client, 'get_document', { id: 'local:adr/0007-use-postgres' })).toBe(
        'NOT_FOUND',
      );
      const adrs = await callOk(client, 'list_adrs', { limit: 50 });
      expect(adrs.adrs.every((a: { source: string }) => a.source === 'wiki')).toBe(true);
    });
  });

  it('serves the folder alone, without calling any API', async () => {
    await h.control.clearRequests();
    await withClient(
      connectV2({ server: docs, env: h.env({ DOCS_API_URL: '', DOCS_API_TOKEN: '' }) }),
      async ({ client }) => {
        expect((await searchFrom(client, 'local')).total.wiki).toBeNull();
        expect(await errorCode(client, 'get_document', { id: 'wiki:std-api-versioning' })).toBe('NOT_FOUND');
        expect(await errorCode(client, 'find_service_owner', { service: 'payments-gateway' })).toBe(
          'NOT_FOUND',
        );
        expect((await h.control.requests()).filter((r) => r.path.startsWith('/docs'))).toEqual([]);
      },
    );
  });

  it('answers from the folder when the wiki fails, and says which source was unavailable', async () => {
    await h.control.setFaults([{ path: '/docs/v1/documents', status: 503 }]);
    const c = await connectV2({ server: docs, env: h.env({ DOCS_RETRIES: '0' }) });
    try {
      const out = await searchFrom(c.client, 'local');
      expect(out.unavailable).toEqual([
        { source: 'wiki', code: 'UPSTREAM_UNAVAILABLE', message: expect.any(String) },
      ]);
    } finally {
      await h.control.clearFaults();
      await c.close();
    }
  });
});
