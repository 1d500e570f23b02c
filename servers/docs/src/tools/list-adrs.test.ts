import { withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { type AnyClient, CLIENTS, callOk, errorCode, fileHarness } from '../../test/harness.ts';
import docs from '../index.ts';

const h = fileHarness();

describe.each(CLIENTS)('tools (%s)', (_label, connect) => {
  it('list_adrs orders both sources by number, filters by status, and pages to the end', async () => {
    await withClient<AnyClient, void>(connect({ server: docs, env: h.env() }), async ({ client }) => {
      const seen: Array<{ id: string; number: number; source: string; status: string }> = [];
      let cursor: string | undefined;
      let total = 0;
      for (let page = 0; page < 20; page++) {
        const out = await callOk(client, 'list_adrs', { limit: 5, ...(cursor ? { cursor } : {}) });
        expect(out.adrs.length).toBeLessThanOrEqual(5);
        seen.push(...out.adrs);
        total = out.total;
        cursor = out.nextCursor ?? undefined;
        if (!cursor) break;
      }
      expect(cursor).toBeUndefined();
      expect(seen).toHaveLength(total);
      expect(new Set(seen.map((a) => a.id)).size).toBe(total);
      expect(seen.filter((a) => a.source === 'local')).toHaveLength(8);
      expect(seen.filter((a) => a.source === 'wiki').length).toBeGreaterThanOrEqual(20);
      const numbers = seen.map((a) => a.number);
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
      // Status written as `Accepted` and `SUPERSEDED` in front matter, `Deprecated` under a heading.
      const byId = new Map(seen.map((a) => [a.id, a]));
      expect(byId.get('local:adr/0002-adopt-kafka-for-domain-events')).toMatchObject({
        status: 'accepted',
        date: '2021-06-15',
      });
      expect(byId.get('local:adr/0003-use-mysql-for-order-storage')).toMatchObject({
        status: 'superseded',
        date: '2020-11-02',
      });
      expect(byId.get('local:adr/0005-feature-flags-via-launchdarkly')).toMatchObject({
        status: 'deprecated',
        date: '2021-09-08',
        title: 'Feature flags via LaunchDarkly',
      });

      const proposed = await callOk(client, 'list_adrs', { status: 'proposed', limit: 50 });
      expect(proposed.adrs.length).toBeGreaterThanOrEqual(2);
      for (const a of proposed.adrs) expect(a.status).toBe('proposed');
      expect(proposed.adrs.map((a: { id: string }) => a.id)).toContain(
        'local:adr/0006-service-mesh-with-linkerd',
      );

      // A cursor from one listing is refused by another.
      const first = await callOk(client, 'list_adrs', { limit: 2 });
      expect(await errorCode(client, 'list_adrs', { status: 'accepted', cursor: first.nextCursor })).toBe(
        'INVALID_ARGUMENT',
      );
    });
  });
});
