import type { Logger } from '@gatehouse/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DocKind } from '../schemas.ts';
import { Rankings } from './rank.ts';
import { DocsStore } from './store.ts';
import { mergeRanking, TermLists } from './terms.ts';

const log = { warn: () => undefined } as unknown as Logger;
const WORDS = ['walrus', 'tundra', 'floe', 'ice', 'kelp', 'orca', 'seal', 'krill', 'berg', 'narwhal'];
const KINDS: DocKind[] = ['adr', 'standard', 'guide'];

let store: DocsStore;
beforeAll(async () => {
  store = (await DocsStore.open(
    ':memory:',
    () => undefined,
    () => false,
  ))!;
  let seed = 7;
  const rand = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  // Skewed word frequencies (the first words in nearly every document, narwhal in one in ten), varied lengths and title hits.
  const word = () => WORDS[Math.floor(rand() ** 2.5 * (WORDS.length - 1))]!;
  store.transaction(() => {
    for (let i = 0; i < 600; i++) {
      const kind = KINDS[i % 3]!;
      store.upsert(
        { path: `${kind}/d${i}.md`, abs: `/x/${kind}/d${i}.md`, mtimeMs: 0, size: 0 },
        {
          kind,
          title: `${word()} ${i}`,
          status: kind === 'adr' ? (i % 2 ? 'accepted' : 'proposed') : null,
          number: kind === 'adr' ? i : null,
          date: null,
          owner: null,
          tags: i % 5 === 0 ? [word()] : [],
          services: [],
          supersededBy: null,
          body: `${Array.from({ length: 5 + Math.floor(rand() * 80) }, word).join(' ')}${i % 10 === 0 ? ' narwhal' : ''}`,
          headings: [],
          warnings: [],
        },
        log,
      );
    }
  });
});
afterAll(() => store.close());

/** What SQLite itself answers for the same OR query: the order and scores the summed lists must equal. */
function sqlRanking(words: string[], where = '', args: string[] = []) {
  return store.all<{ rid: number; rank: number }>(
    `SELECT docs_fts.rowid AS rid, bm25(docs_fts, 10.0, 5.0, 1.0) AS rank FROM docs_fts JOIN docs d ON d.rid = docs_fts.rowid
     WHERE docs_fts MATCH ? ${where} ORDER BY rank, docs_fts.rowid`,
    words.map((w) => `"${w}"`).join(' OR '),
    ...args,
  );
}

describe('bm25 summed from per-word lists', () => {
  const queries = [
    ['walrus'],
    ['walrus', 'tundra'],
    ['tundra', 'narwhal'],
    ['walrus', 'krill', 'floe'],
    ['nothing', 'walrus'],
  ];

  it('ranks exactly as SQLite ranks the OR query: same rows, same order, same scores, same count', () => {
    const terms = new TermLists();
    for (const words of queries) {
      const expected = sqlRanking(words);
      const { ranked, total } = mergeRanking(
        words.map((w) => terms.get(store, w)),
        1_000,
      );
      expect(total).toBe(expected.length);
      expect(ranked).toEqual(expected.map((r) => ({ rid: Number(r.rid), rank: r.rank })));
      // A bounded page is the prefix of the whole ranking.
      expect(
        mergeRanking(
          words.map((w) => terms.get(store, w)),
          7,
        ).ranked,
      ).toEqual(ranked.slice(0, 7));
    }
  });

  it('applies kind and status filters to the ranking and to the count', () => {
    const rankings = new Rankings();
    for (const words of queries) {
      const expected = sqlRanking(words, 'AND d.kind = ? AND d.status = ?', ['adr', 'accepted']);
      const match = words.map((w) => `"${w}"`).join(' OR ');
      const got = rankings.page(store, match, { kind: 'adr', status: 'accepted' }, 0, 25);
      expect(got.total).toBe(expected.length);
      expect(got.page).toEqual(expected.slice(0, 25).map((r) => ({ rid: Number(r.rid), rank: r.rank })));
    }
  });

  it('finds the common words to score ahead of time', async () => {
    const common = store.commonTerms(300);
    expect(common).toContain('walru');
    expect(common).not.toContain('narwhal');
    await new TermLists().warm(store);
  });
});
