import type { SQLInputValue } from 'node:sqlite';
import type { DocKind } from '../schemas.ts';
import type { DocsStore } from './store.ts';

/** Rankings kept per query (LRU), and how far down each is kept; dropped whenever the index changes. */
const RANKINGS_CACHED = 64;
const RANKING_PREFIX = 50;
const RANKING_MAX_CACHED = 1_000;

export interface SearchFilter {
  kind?: DocKind | undefined;
  status?: string | undefined;
}

type Ranked = Array<{ rid: number; rank: number }>;

/** The best matches of one query in rank order (the first `ranked.length`), and how many match in all. */
interface Ranking {
  ranked: Ranked;
  total: number;
}

/**
 * Pages of a query's bm25 ranking. bm25 has to score every match, which
 * dominates on common words, so the best RANKING_PREFIX (or more, for later
 * pages) are kept per query until the index next changes (`clear`): later pages
 * and repeated searches do not rank again.
 */
export class Rankings {
  /** Recent rankings by query, in LRU order. */
  private readonly cache = new Map<string, Ranking>();

  clear(): void {
    this.cache.clear();
  }

  /** One page of the ranking of an FTS `match` expression, and the number of matches. */
  page(
    store: DocsStore,
    match: string,
    filter: SearchFilter,
    offset: number,
    limit: number,
  ): { total: number; page: Ranked } {
    const where = ['docs_fts MATCH ?'];
    const args: SQLInputValue[] = [match];
    if (filter.kind) {
      where.push('d.kind = ?');
      args.push(filter.kind);
    }
    if (filter.status) {
      where.push('d.status = ?');
      args.push(filter.status);
    }
    const clause = where.join(' AND ');
    // Without filters the full-text table alone answers; joining docs for every match costs a lookup each.
    const from = where.length === 1 ? 'docs_fts' : 'docs_fts JOIN docs d ON d.rid = docs_fts.rowid';
    const ranking = `SELECT docs_fts.rowid AS rid, bm25(docs_fts, 10.0, 5.0, 1.0) AS rank
       FROM ${from} WHERE ${clause} ORDER BY rank, docs_fts.rowid LIMIT ?`;
    const count = () =>
      store.get<{ n: number }>(`SELECT count(*) AS n FROM ${from} WHERE ${clause}`, ...args)!.n;
    const want = offset + limit;

    const key = JSON.stringify([match, filter.kind ?? null, filter.status ?? null]);
    const cached = this.cache.get(key);
    const remember = (entry: Ranking) => {
      this.cache.delete(key);
      this.cache.set(key, entry);
      if (this.cache.size > RANKINGS_CACHED) this.cache.delete(this.cache.keys().next().value!);
    };
    if (cached && (cached.ranked.length >= want || cached.ranked.length === cached.total)) {
      remember(cached);
      return { total: cached.total, page: cached.ranked.slice(offset, want) };
    }
    if (want > RANKING_MAX_CACHED) {
      // Deep pages are rare: rank down to the page and keep only the count.
      const page = store.all<{ rid: number; rank: number }>(`${ranking} OFFSET ?`, ...args, limit, offset);
      const total = cached?.total ?? count();
      remember({ ranked: cached?.ranked ?? [], total });
      return { total, page };
    }
    // Paging on past what is kept ranks again, twice as far each time.
    const size = Math.min(
      Math.max(want, RANKING_PREFIX, 2 * (cached?.ranked.length ?? 0)),
      RANKING_MAX_CACHED,
    );
    const ranked = store.all<{ rid: number; rank: number }>(ranking, ...args, size);
    // Fewer than asked for means these are all the matches: no need to count them.
    const total = ranked.length < size ? ranked.length : (cached?.total ?? count());
    remember({ ranked, total });
    return { total, page: ranked.slice(offset, want) };
  }
}
