import type { DocKind } from '../schemas.ts';
import type { DocsStore } from './store.ts';
import { mergeRanking, TermLists } from './terms.ts';

/** Rankings kept per query (LRU), and how far down each is kept; dropped whenever the index changes. */
const RANKINGS_CACHED = 64;
const RANKING_PREFIX = 50;
const RANKING_MAX_CACHED = 1_000;
/** Filters (kind, status) whose document sets are kept until the index changes. */
const FILTERS_CACHED = 16;

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

/** The words of an expression built by ftsQuery (`"a" OR "b"`), in phrase order. */
const wordsOf = (match: string): string[] => [...match.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);

/**
 * Pages of a query's bm25 ranking — the order of `ORDER BY bm25(docs_fts,
 * 10, 5, 1), rowid`, with the same scores — summed from per-word score lists
 * (terms.ts) rather than asked of SQLite per query, so common words cost a
 * merge, not a bm25 call per match. The best RANKING_PREFIX (or more, for
 * later pages) are kept per query until the index next changes (`clear`):
 * later pages and repeated searches do not rank again.
 */
export class Rankings {
  /** Recent rankings by query, in LRU order. */
  private readonly cache = new Map<string, Ranking>();
  private readonly terms = new TermLists();
  private readonly filters = new Map<string, Set<number>>();

  clear(): void {
    this.cache.clear();
    this.terms.clear();
    this.filters.clear();
  }

  /** Scores the index's most common words ahead of the first queries (see TermLists.warm). */
  warm(store: DocsStore): Promise<void> {
    return this.terms.warm(store);
  }

  /** One page of the ranking of an FTS `match` expression, and the number of matches. */
  page(
    store: DocsStore,
    match: string,
    filter: SearchFilter,
    offset: number,
    limit: number,
  ): { total: number; page: Ranked } {
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
    const rank = (size: number) =>
      mergeRanking(
        wordsOf(match).map((word) => this.terms.get(store, word)),
        size,
        this.allowed(store, filter),
      );
    if (want > RANKING_MAX_CACHED) {
      // Deep pages are rare: rank down to the page and keep only the count.
      const { ranked, total } = rank(want);
      remember({ ranked: cached?.ranked ?? [], total });
      return { total, page: ranked.slice(offset, want) };
    }
    // Paging on past what is kept ranks again, twice as far each time.
    const size = Math.min(
      Math.max(want, RANKING_PREFIX, 2 * (cached?.ranked.length ?? 0)),
      RANKING_MAX_CACHED,
    );
    const ranking = rank(size);
    remember(ranking);
    return { total: ranking.total, page: ranking.ranked.slice(offset, want) };
  }

  private allowed(store: DocsStore, filter: SearchFilter): ((rid: number) => boolean) | undefined {
    if (!filter.kind && !filter.status) return undefined;
    const key = JSON.stringify([filter.kind ?? null, filter.status ?? null]);
    let set = this.filters.get(key);
    if (!set) {
      set = store.filtered(filter.kind, filter.status);
      this.filters.set(key, set);
      if (this.filters.size > FILTERS_CACHED) this.filters.delete(this.filters.keys().next().value!);
    }
    const rows = set;
    return (rid) => rows.has(rid);
  }
}
