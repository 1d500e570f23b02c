import type { DocsStore } from './store.ts';

/** One query word's matches: rowids ascending, and the word's bm25 share of each match's score. */
export interface TermList {
  rids: Int32Array;
  scores: Float64Array;
}

/**
 * Postings kept across words (rowid + score: 12 bytes each): at least
 * MIN_ENTRIES, or PER_DOCUMENT per indexed document. Up to WARM_PART of it
 * holds the warmed common words, which stay until the index changes; the rest
 * holds words scored on first use, least recently used dropped first.
 */
const MIN_ENTRIES = 4_000_000;
const PER_DOCUMENT = 96;
const WARM_PART = 0.6;
/** Words in at least this share (and at least WARM_MIN_DOCS) of the documents are warmed, most common first. */
const WARM_SHARE = 0.1;
const WARM_MIN_DOCS = 2_000;

/**
 * Per-word score lists, the parts a query's ranking is summed from. FTS5's
 * bm25 is a sum over the query's phrases — idf(phrase) × a saturating
 * function of its frequency in the row — so the bm25 of `"a" OR "b"` for a
 * row is exactly bm25 of `"a"` plus bm25 of `"b"` (each 0 where the word is
 * absent). Scoring each word once per index version and merging the lists
 * costs O(matches) in JS per query instead of a bm25 call per match per
 * query: that is what keeps two very common words fast. The lists depend on
 * the whole index (document count, average length), so every write drops them.
 */
export class TermLists {
  private readonly cache = new Map<string, TermList>();
  /** Warmed lists: not evicted (a common word's list is the costliest to score again). */
  private readonly pinned = new Map<string, TermList>();
  private entries = 0;
  private pinnedEntries = 0;
  private budget = MIN_ENTRIES;
  /** Bumped by `clear`, so a warm-up running across a write stops. */
  private version = 0;

  clear(): void {
    this.cache.clear();
    this.pinned.clear();
    this.entries = 0;
    this.pinnedEntries = 0;
    this.version += 1;
  }

  get(store: DocsStore, word: string): TermList {
    const warm = this.pinned.get(word);
    if (warm) return warm;
    let list = this.cache.get(word);
    if (list) {
      this.cache.delete(word);
      this.cache.set(word, list);
      return list;
    }
    list = store.termScores(word);
    this.cache.set(word, list);
    this.entries += list.rids.length;
    for (const [key, old] of this.cache) {
      if (this.entries + this.pinnedEntries <= this.budget || key === word) break;
      this.cache.delete(key);
      this.entries -= old.rids.length;
    }
    return list;
  }

  /**
   * Scores the common words ahead of time (most common first, up to
   * WARM_PART of the budget): they are the costly ones (lists nearly as long
   * as the index) and the ones most queries contain. Yields to the event loop
   * between words; stops if the index changes meanwhile.
   */
  async warm(store: DocsStore): Promise<void> {
    const version = this.version;
    const documents = store.count();
    this.budget = Math.max(MIN_ENTRIES, PER_DOCUMENT * documents);
    const minDocs = Math.max(WARM_MIN_DOCS, Math.ceil(documents * WARM_SHARE));
    for (const word of store.commonTerms(minDocs)) {
      if (this.version !== version) return;
      if (this.pinned.has(word)) continue;
      const cached = this.cache.get(word);
      if (cached) {
        this.cache.delete(word);
        this.entries -= cached.rids.length;
      }
      const list = cached ?? store.termScores(word);
      if (this.pinnedEntries + list.rids.length > this.budget * WARM_PART) return;
      this.pinned.set(word, list);
      this.pinnedEntries += list.rids.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

/**
 * The best `size` rows of an OR query, (score, rowid) ascending like
 * `ORDER BY bm25, rowid`, and how many rows match: a merge of the words'
 * lists by rowid, summing scores in phrase order (so the sums are the very
 * doubles SQLite computes), keeping the best in a bounded heap.
 */
export function mergeRanking(
  lists: readonly TermList[],
  size: number,
  allowed?: (rid: number) => boolean,
): { ranked: Array<{ rid: number; rank: number }>; total: number } {
  const at = new Int32Array(lists.length);
  // Max-heap on (score, rid): the root is the worst row kept.
  const heapScore: number[] = [];
  const heapRid: number[] = [];
  const worse = (i: number, j: number) =>
    heapScore[i]! > heapScore[j]! || (heapScore[i] === heapScore[j] && heapRid[i]! > heapRid[j]!);
  const swap = (i: number, j: number) => {
    const s = heapScore[i]!;
    heapScore[i] = heapScore[j]!;
    heapScore[j] = s;
    const r = heapRid[i]!;
    heapRid[i] = heapRid[j]!;
    heapRid[j] = r;
  };
  let total = 0;
  for (;;) {
    let rid = Number.POSITIVE_INFINITY;
    for (let i = 0; i < lists.length; i++) {
      const list = lists[i]!;
      if (at[i]! < list.rids.length && list.rids[at[i]!]! < rid) rid = list.rids[at[i]!]!;
    }
    if (rid === Number.POSITIVE_INFINITY) break;
    let score = 0;
    for (let i = 0; i < lists.length; i++) {
      const list = lists[i]!;
      if (list.rids[at[i]!] === rid) {
        score += list.scores[at[i]!]!;
        at[i]! += 1;
      }
    }
    if (allowed && !allowed(rid)) continue;
    total += 1;
    if (size <= 0) continue;
    if (heapScore.length < size) {
      heapScore.push(score);
      heapRid.push(rid);
      for (let i = heapScore.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (!worse(i, parent)) break;
        swap(i, parent);
        i = parent;
      }
    } else if (score < heapScore[0]! || (score === heapScore[0] && rid < heapRid[0]!)) {
      heapScore[0] = score;
      heapRid[0] = rid;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let top = i;
        if (l < heapScore.length && worse(l, top)) top = l;
        if (r < heapScore.length && worse(r, top)) top = r;
        if (top === i) break;
        swap(i, top);
        i = top;
      }
    }
  }
  const ranked = heapScore.map((rank, i) => ({ rid: heapRid[i]!, rank }));
  ranked.sort((a, b) => a.rank - b.rank || a.rid - b.rid);
  return { ranked, total };
}
