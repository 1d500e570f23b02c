import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectV1, connectV2, eventually, withClient } from '@gatehouse/core/testing';
import {
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { callOk, errorCode, fileHarness } from '../../test/harness.ts';
import docs from '../index.ts';

const h = fileHarness();

const localIds = (out: { results: Array<{ id: string; source: string }> }) =>
  out.results.filter((r) => r.source === 'local').map((r) => r.id);

describe('the index follows the folder', () => {
  it('finds an added file and forgets a deleted one without a restart, and tells the client', async () => {
    const root = h.handbook('live');
    const listChanged: number[] = [];
    const updated: string[] = [];
    const c = await connectV1({ server: docs, env: h.env({ DOCS_ROOT: root }) });
    c.client.setNotificationHandler(ResourceListChangedNotificationSchema, async () => {
      listChanged.push(Date.now());
    });
    c.client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
      updated.push(n.params.uri);
    });
    try {
      const search = () => callOk(c.client, 'search_docs', { query: 'zeppelin airship', limit: 10 });
      expect(localIds(await search())).toEqual([]);
      // resources/updated is sent only for what the client subscribed to.
      await c.client.subscribeResource({ uri: 'docs://adr/0009-use-zeppelins.md' });
      await c.client.subscribeResource({ uri: 'docs://adr-index' });

      mkdirSync(join(root, 'adr'), { recursive: true });
      writeFileSync(
        join(root, 'adr', '0009-use-zeppelins.md'),
        '---\ntitle: Use zeppelins for cargo\nstatus: Proposed\ndate: 2025-01-31\n---\n\n# ADR-0009: Use zeppelins for cargo\n\n## Context\n\nZeppelin airship freight is cheap.\n',
      );
      let hit: { id: string; status: string; date: string } | undefined;
      for (let i = 0; i < 100 && !hit; i++) {
        hit = (await search()).results.find((r: { id: string }) => r.id === 'local:adr/0009-use-zeppelins');
        if (!hit) await new Promise((r) => setTimeout(r, 100));
      }
      expect(hit).toMatchObject({ status: 'proposed', date: '2025-01-31', source: 'local', kind: 'adr' });
      await eventually(() => listChanged.length > 0 && updated.includes('docs://adr/0009-use-zeppelins.md'));
      expect(updated).toContain('docs://adr-index');
      expect(
        updated.every((uri) => ['docs://adr/0009-use-zeppelins.md', 'docs://adr-index'].includes(uri)),
      ).toBe(true);
      const adrs = await callOk(c.client, 'list_adrs', { status: 'proposed', limit: 50 });
      expect(adrs.adrs.map((a: { id: string }) => a.id)).toContain('local:adr/0009-use-zeppelins');

      // A modification is picked up and announced as an update.
      const before = updated.length;
      writeFileSync(
        join(root, 'adr', '0009-use-zeppelins.md'),
        '---\ntitle: Use zeppelins for cargo\nstatus: rejected\ndate: 2025-01-31\n---\n\n# Zeppelins\n\nZeppelin airship freight was rejected.\n',
      );
      let status: string | undefined;
      for (let i = 0; i < 100 && status !== 'rejected'; i++) {
        status = (await search()).results.find(
          (r: { id: string }) => r.id === 'local:adr/0009-use-zeppelins',
        )?.status;
        if (status !== 'rejected') await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe('rejected');
      await eventually(() => updated.slice(before).includes('docs://adr/0009-use-zeppelins.md'));

      const listsBefore = listChanged.length;
      rmSync(join(root, 'adr', '0009-use-zeppelins.md'));
      let gone = false;
      for (let i = 0; i < 100 && !gone; i++) {
        gone = !localIds(await search()).includes('local:adr/0009-use-zeppelins');
        if (!gone) await new Promise((r) => setTimeout(r, 100));
      }
      expect(gone).toBe(true);
      await eventually(() => listChanged.length > listsBefore);
      expect(await errorCode(c.client, 'get_document', { id: 'local:adr/0009-use-zeppelins' })).toBe(
        'NOT_FOUND',
      );
    } finally {
      await c.close();
    }
  });

  it('picks up files in folders created after start-up, announcing them on a 2026-07-28 listen stream', async () => {
    const root = h.handbook('live-folders');
    const c = await connectV2({ server: docs, env: h.env({ DOCS_ROOT: root }) });
    const changes: string[] = [];
    c.client.setNotificationHandler('notifications/resources/list_changed', () => {
      changes.push('list_changed');
    });
    const subscription = await c.client.listen({ resourcesListChanged: true });
    try {
      expect(subscription.honoredFilter.resourcesListChanged).toBe(true);
      await callOk(c.client, 'search_docs', { query: 'kafka' });
      mkdirSync(join(root, 'guides', 'teams', 'search'), { recursive: true });
      writeFileSync(
        join(root, 'guides', 'teams', 'search', 'reindexing.md'),
        '# Reindexing OpenSearch\n\nBlue-green reindexing with aliases, quokka procedure.\n',
      );
      let ids: string[] = [];
      for (let i = 0; i < 100 && !ids.includes('local:guides/teams/search/reindexing'); i++) {
        ids = localIds(await callOk(c.client, 'search_docs', { query: 'quokka' }));
        if (!ids.includes('local:guides/teams/search/reindexing'))
          await new Promise((r) => setTimeout(r, 100));
      }
      expect(ids).toContain('local:guides/teams/search/reindexing');
      await eventually(() => changes.includes('list_changed'));
    } finally {
      await subscription.close();
      await c.close();
    }
  });
});

describe('a persistent index (DOCS_INDEX_PATH)', () => {
  it('survives a restart and catches up with changes made while the server was down', async () => {
    const root = h.handbook('persistent');
    const dbPath = join(h.dir, 'persistent-index.sqlite');
    const start = () =>
      connectV2({
        server: docs,
        env: h.env({ DOCS_ROOT: root, DOCS_INDEX_PATH: dbPath, DOCS_API_URL: '', DOCS_API_TOKEN: '' }),
      });
    await withClient(start(), async ({ client }) => {
      const out = await callOk(client, 'search_docs', { query: 'linkerd mesh' });
      expect(localIds(out)).toContain('local:adr/0006-service-mesh-with-linkerd');
    });
    rmSync(join(root, 'adr', '0006-service-mesh-with-linkerd.md'));
    writeFileSync(
      join(root, 'guides', 'mesh-later.md'),
      '# Mesh, later\n\nWe may revisit linkerd in 2027.\n',
    );
    await withClient(start(), async ({ client }) => {
      const out = await callOk(client, 'search_docs', { query: 'linkerd mesh' });
      expect(localIds(out)).toEqual(['local:guides/mesh-later']);
      const adrs = await callOk(client, 'list_adrs', { limit: 50 });
      expect(adrs.total).toBe(7);
    });
  });
});
