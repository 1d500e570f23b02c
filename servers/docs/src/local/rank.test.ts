import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectV2, withClient } from '@gatehouse/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { callOk, fileHarness } from '../../test/harness.ts';
import docs from '../index.ts';

const h = fileHarness();

interface Hit {
  id: string;
  kind: string;
  rank: number;
  score: number;
}

/**
 * More matching documents than the server keeps ranked per query (1,000), with
 * varied term counts, lengths and title hits, so bm25 scores spread out.
 */
const COUNT = 1_040;
function corpus(root: string): void {
  mkdirSync(join(root, 'adr'), { recursive: true });
  mkdirSync(join(root, 'guides'), { recursive: true });
  for (let i = 0; i < COUNT; i++) {
    const adr = i % 4 === 0;
    const title = i % 50 === 0 ? `Walrus handling ${i}` : `Note ${i}`;
    const body = [
      `# ${title}`,
      '',
      `${'walrus '.repeat((i % 7) + 1)}${'tundra ice floe '.repeat(i % 13)}`,
      '',
    ].join('\n');
    writeFileSync(
      adr
        ? join(root, 'adr', `${String(i).padStart(4, '0')}-note-${i}.md`)
        : join(root, 'guides', `note-${i}.md`),
      `---\ntitle: ${title}\n${adr ? 'status: accepted\n' : ''}---\n${body}`,
    );
  }
}

async function pages(
  client: Awaited<ReturnType<typeof connectV2>>['client'],
  args: Record<string, unknown>,
): Promise<{ hits: Hit[]; total: number }> {
  const hits: Hit[] = [];
  let total = -1;
  let cursor: string | undefined;
  for (let page = 0; page < 200; page++) {
    const out = await callOk(client, 'search_docs', { ...args, ...(cursor ? { cursor } : {}) });
    if (page === 0) total = out.total.local;
    else expect(out.total.local).toBe(total);
    hits.push(...out.results);
    cursor = out.nextCursor ?? undefined;
    if (!cursor) break;
  }
  expect(cursor).toBeUndefined();
  return { hits, total };
}

const ids = (hits: Hit[]) => hits.map((r) => r.id);

describe('search ranking across pages, repeats and changes', () => {
  let root: string;
  beforeAll(() => {
    root = join(h.dir, 'walruses');
    corpus(root);
  });

  it('pages to the end in one consistent order, past the ranking it keeps, and repeats it exactly', async () => {
    await withClient(
      connectV2({
        server: docs,
        env: h.env({ DOCS_ROOT: root, DOCS_API_URL: '', DOCS_API_TOKEN: '' }),
      }),
      async ({ client }) => {
        const first = await pages(client, { query: 'walrus', limit: 25 });
        expect(first.total).toBe(COUNT);
        expect(first.hits).toHaveLength(COUNT);
        expect(new Set(ids(first.hits)).size).toBe(COUNT);
        expect(first.hits.map((r) => r.rank)).toEqual(first.hits.map((_r, i) => i + 1));
        for (let i = 1; i < first.hits.length; i++)
          expect(first.hits[i]!.score).toBeLessThanOrEqual(first.hits[i - 1]!.score);
        // Title hits (weighted) come first.
        expect(first.hits.slice(0, 5).every((r) => /Walrus handling/.test(JSON.stringify(r)))).toBe(true);

        // The same search again, with other page sizes, gives the same order and scores.
        const again = await pages(client, { query: 'walrus', limit: 11 });
        expect(again.total).toBe(COUNT);
        expect(again.hits.map((r) => [r.id, r.score])).toEqual(first.hits.map((r) => [r.id, r.score]));

        // A filter ranks the same way (scores do not depend on it): the filtered list is the full one, filtered.
        const adrs = await pages(client, { query: 'walrus', kind: 'adr', limit: 25 });
        const expected = first.hits.filter((r) => r.kind === 'adr');
        expect(adrs.total).toBe(expected.length);
        expect(adrs.hits.map((r) => [r.id, r.score])).toEqual(expected.map((r) => [r.id, r.score]));
      },
    );
  });

  it('ranks again after the folder changes: a new best match comes first, a deleted one goes', async () => {
    const live = join(h.dir, 'walruses-live');
    corpus(live);
    await withClient(
      connectV2({
        server: docs,
        env: h.env({ DOCS_ROOT: live, DOCS_API_URL: '', DOCS_API_TOKEN: '' }),
      }),
      async ({ client }) => {
        const search = async () => await callOk(client, 'search_docs', { query: 'walrus', limit: 5 });
        const before = await search();
        expect(before.total.local).toBe(COUNT);
        // Asked twice so the ranking is certainly kept before the change.
        expect(ids((await search()).results)).toEqual(ids(before.results));

        writeFileSync(
          join(live, 'guides', 'walrus-walrus.md'),
          `---\ntitle: Walrus walrus walrus\ntags: [walrus]\n---\n# Walrus walrus\n\n${'walrus '.repeat(30)}\n`,
        );
        let after = before;
        for (let i = 0; i < 100 && after.results[0]?.id !== 'local:guides/walrus-walrus'; i++) {
          await new Promise((r) => setTimeout(r, 100));
          after = await search();
        }
        expect(after.results[0]?.id).toBe('local:guides/walrus-walrus');
        expect(after.total.local).toBe(COUNT + 1);

        const gone = before.results[0]!.id;
        rmSync(join(live, `${gone.slice('local:'.length)}.md`));
        let last = after;
        for (let i = 0; i < 100 && ids(last.results).includes(gone); i++) {
          await new Promise((r) => setTimeout(r, 100));
          last = await search();
        }
        expect(ids(last.results)).not.toContain(gone);
        expect(last.total.local).toBe(COUNT);
      },
    );
  });
});
