import { connectV2, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { type AnyClient, CLIENTS, callOk, errorCode, fileHarness } from '../../test/harness.ts';
import docs from '../index.ts';

const h = fileHarness();

/** `n` sources taking turns, the folder first: local, wiki, local, … */
const interleaved = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 'local' : 'wiki'));

describe.each(CLIENTS)('tools (%s)', (_label, connect) => {
  it('search_docs ranks both sources, interleaved, with attributed, untrusted snippets', async () => {
    await withClient<AnyClient, void>(connect({ server: docs, env: h.env() }), async ({ client }) => {
      const out = await callOk(client, 'search_docs', { query: 'postgres database', limit: 6 });
      expect(out.results).toHaveLength(6);
      expect(out.results.map((r: { source: string }) => r.source)).toEqual(interleaved(6));
      expect(out.results.map((r: { rank: number }) => r.rank)).toEqual([1, 2, 3, 4, 5, 6]);
      const ids = out.results.map((r: { id: string }) => r.id);
      expect(ids).toContain('local:adr/0007-use-postgres');
      expect(ids).toContain('wiki:adr-0001-use-postgresql-default-relational');
      for (const r of out.results) {
        expect(r.id.startsWith(`${r.source}:`)).toBe(true);
        expect(r.snippet).toMatchObject({ untrusted: true, source: r.id, text: expect.any(String) });
        if (r.source === 'local') expect(r.uri).toBe(`docs://${r.id.slice('local:'.length)}.md`);
      }
      // Local snippets mark the matched terms.
      expect(
        out.results
          .filter((r: { source: string }) => r.source === 'local')
          .some((r: { snippet: { text: string } }) => /\*\*(postgres|database)/i.test(r.snippet.text)),
      ).toBe(true);
      expect(out.total.local).toBeGreaterThan(0);
      expect(out.total.wiki).toBeGreaterThan(0);
      expect(out.unavailable).toEqual([]);
      expect(JSON.stringify(out).length).toBeLessThan(8192);
    });
  });

  it('search_docs filters by kind and normalised status', async () => {
    await withClient<AnyClient, void>(connect({ server: docs, env: h.env() }), async ({ client }) => {
      const superseded = await callOk(client, 'search_docs', {
        query: 'mysql orders monorepo checkout',
        kind: 'adr',
        status: 'superseded',
      });
      expect(superseded.results.length).toBeGreaterThanOrEqual(2);
      for (const r of superseded.results) expect(r).toMatchObject({ kind: 'adr', status: 'superseded' });
      // Front matter said `status: SUPERSEDED`.
      expect(superseded.results.map((r: { id: string }) => r.id)).toContain(
        'local:adr/0003-use-mysql-for-order-storage',
      );

      const standards = await callOk(client, 'search_docs', {
        query: 'secrets vault rotation',
        kind: 'standard',
        limit: 4,
      });
      expect(standards.results[0]).toMatchObject({
        id: 'local:standards/secrets-management',
        kind: 'standard',
        source: 'local',
      });
      for (const r of standards.results) expect(r.kind).toBe('standard');
    });
  });
});

describe('pagination and truncation', () => {
  it('search_docs pages to the end across both sources without repeats', async () => {
    await withClient(connectV2({ server: docs, env: h.env() }), async ({ client }) => {
      const all: Array<{ id: string; source: string; rank: number }> = [];
      let cursor: string | undefined;
      let totals = { local: 0, wiki: 0 };
      for (let page = 0; page < 40; page++) {
        const out = await callOk(client, 'search_docs', {
          query: 'service team',
          limit: 7,
          ...(cursor ? { cursor } : {}),
        });
        all.push(...out.results);
        if (page === 0) totals = out.total;
        cursor = out.nextCursor ?? undefined;
        if (!cursor) break;
      }
      expect(cursor).toBeUndefined();
      expect(totals.local).toBeGreaterThan(3);
      expect(totals.wiki).toBeGreaterThan(10);
      expect(all.filter((r) => r.source === 'local')).toHaveLength(totals.local);
      expect(all.filter((r) => r.source === 'wiki')).toHaveLength(totals.wiki);
      expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
      expect(all.map((r) => r.rank)).toEqual(all.map((_r, i) => i + 1));
      // Interleaved while both sources last.
      expect(all.slice(0, 8).map((r) => r.source)).toEqual(interleaved(8));

      expect(await errorCode(client, 'search_docs', { query: 'kafka', cursor: 'eyJ4IjoxfQ' })).toBe(
        'INVALID_ARGUMENT',
      );
    });
  });
});
