import { join } from 'node:path';
import { abRow, against } from '../ab.ts';
import { CORPUS, type Corpus, queryMix, writeCorpus } from '../corpus.ts';
import { StdioPeer } from '../peer.ts';
import { type Options, type Row, type SectionResult, verdict } from '../report.ts';
import { makeScratch, type Target } from '../servers.ts';
import { quantile, round } from '../stats.ts';

/** p95 targets by corpus size, end to end through a client (stdio JSON-RPC). */
const P95_LIMIT_MS: Record<number, number> = { 10000: 10, 100000: 50 };
const MB = 1024 * 1024;
/** The distinct queries repeated for the cached row, and how often. */
const CACHED_QUERIES = 30;
const CACHED_ROUNDS = 3;

type Search = (query: string) => Promise<{ ms: number; hits: number }>;

/** A docs server (the working tree's or the ref's) indexing the corpus, with its build time. */
async function startDocs(t: Target, scratch: string, root: string, documents: number) {
  const env = t.env(scratch, { DOCS_INDEX_WAIT_MS: '120000' });
  env.DOCS_ROOT = root;
  delete env.DOCS_API_URL;
  delete env.DOCS_API_TOKEN;
  const peer = new StdioPeer(t.bin, env);
  await peer.initialize();
  const initMs = performance.now() - peer.spawnedAt;
  // The first search waits for the first index build (up to DOCS_INDEX_WAIT_MS; asked again past that).
  const deadline = performance.now() + 20 * 60_000;
  for (;;) {
    const first = await peer.callTool('search_docs', { query: 'index warm up' }, 180_000);
    const r = first.result as { isError?: boolean } | undefined;
    if (r && !r.isError) break;
    if (performance.now() > deadline)
      throw new Error(
        `${t.name}: the first search failed: ${JSON.stringify(first.result ?? first.error).slice(0, 200)}`,
      );
  }
  const buildMs = performance.now() - peer.spawnedAt - initMs;
  const search: Search = async (query) => {
    const t0 = performance.now();
    const r = await peer.callTool('search_docs', { query });
    const ms = performance.now() - t0;
    const sc = (r.result as { structuredContent?: { results?: unknown[] } } | undefined)?.structuredContent;
    return { ms, hits: sc?.results?.length ?? 0 };
  };
  return { peer, search, buildMs, rate: documents / (buildMs / 1000) };
}

/**
 * The reference: a naive FTS5 table (title, body; porter) in this process,
 * asked `"a" OR "b"` ordered by bm25 with LIMIT 10 — no MCP round trip, so it
 * is a floor the server's end-to-end figure is read against.
 */
async function naiveReference(corpus: Corpus) {
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(':memory:');
  db.exec("CREATE VIRTUAL TABLE t USING fts5 (title, body, tokenize = 'porter unicode61')");
  const t0 = performance.now();
  const insert = db.prepare('INSERT INTO t (title, body) VALUES (?, ?)');
  db.exec('BEGIN');
  for (const { title, body } of corpus.texts) insert.run(title, body);
  db.exec('COMMIT');
  const buildMs = performance.now() - t0;
  const query = db.prepare(
    "SELECT rowid, bm25(t) AS score, snippet(t, 1, '**', '**', '…', 16) AS snip FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT 10",
  );
  const search: Search = async (text) => {
    const s = performance.now();
    const match = text
      .split(' ')
      .map((w) => `"${w}"`)
      .join(' OR ');
    const hits = query.all(match).length;
    return { ms: performance.now() - s, hits };
  };
  return { db, search, buildMs };
}

/**
 * Docs search on a corpus the server has never seen (see corpus.ts): 300
 * distinct two-word queries — common pairs, mid-frequency pairs, rare with
 * common — none repeated, end to end through a stdio client, at 10,000
 * documents and (full run) 100,000. Beside it: a naive FTS5 OR query on the
 * same corpus in the same run, the index build rate, resident memory, and a
 * repeated-query row kept apart and labelled cached. With --against, the
 * ref's docs server answers the same queries, interleaved.
 */
export async function docsSearch(targets: Target[], options: Options): Promise<SectionResult> {
  const started = performance.now();
  const docs = targets.find((t) => t.name === 'docs');
  if (!docs)
    return {
      id: 'docsSearch',
      title: 'Docs search',
      status: 'skipped',
      reason: 'servers/docs is not built',
      rows: [],
      data: {},
      ms: 0,
    };
  const sizes = options.docsSizes ?? (options.quick ? [1_000] : [10_000, 100_000]);
  const perKind = options.quick ? 20 : 100;
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  for (const documents of sizes) {
    const scratch = makeScratch();
    const root = join(scratch, 'corpus');
    const g0 = performance.now();
    const corpus = writeCorpus(root, { ...CORPUS, documents });
    const generateMs = performance.now() - g0;
    const mix = queryMix(corpus.words, perKind, CORPUS.seed + 1);
    const queries = [...mix.common, ...mix.mid, ...mix.rareCommon];
    const subject = `docs, ${documents.toLocaleString('en')} documents`;

    const reference = await naiveReference(corpus);
    const work = await startDocs(docs, scratch, root, documents);
    const ref = docs.twin ? await startDocs(docs.twin, scratch, root, documents) : undefined;
    try {
      const sides = { work: work.search, naive: reference.search, ...(ref ? { ref: ref.search } : {}) };
      const ms: Record<string, number[]> = { work: [], naive: [], ref: [] };
      const byKind: Record<string, number[]> = { common: [], mid: [], rareCommon: [] };
      let empty = 0;
      // Interleaved query by query, so the machine's drift hits every side alike.
      for (const [i, query] of queries.entries()) {
        for (const [side, search] of Object.entries(sides)) {
          const r = await search(query);
          ms[side]!.push(r.ms);
          if (side === 'work') {
            if (r.hits === 0) empty += 1;
            byKind[
              i < mix.common.length ? 'common' : i < mix.common.length + mix.mid.length ? 'mid' : 'rareCommon'
            ]!.push(r.ms);
          }
        }
      }
      const cached: Record<string, number[]> = { work: [], ref: [] };
      for (let pass = 0; pass < CACHED_ROUNDS; pass++)
        for (const query of queries.slice(0, CACHED_QUERIES))
          for (const [side, search] of Object.entries({
            work: work.search,
            ...(ref ? { ref: ref.search } : {}),
          }))
            cached[side]!.push((await search(query)).ms);
      const rss = work.peer.rss();
      const peak = work.peer.rss('VmHWM');
      const p = (xs: number[], q: number) => round(quantile(xs, q), 2);
      const limit = P95_LIMIT_MS[documents];
      const p95 = quantile(ms.work!, 0.95);
      data[String(documents)] = {
        generateMs: round(generateMs),
        indexBuildMs: round(work.buildMs),
        documentsPerSecond: round(work.rate),
        rssBytes: rss,
        peakRssBytes: peak,
        queries: queries.length,
        empty,
        p50: p(ms.work!, 0.5),
        p95: p(ms.work!, 0.95),
        p99: p(ms.work!, 0.99),
        byKind: Object.fromEntries(
          Object.entries(byKind).map(([k, v]) => [k, { p50: p(v, 0.5), p95: p(v, 0.95) }]),
        ),
        naive: { buildMs: round(reference.buildMs), p50: p(ms.naive!, 0.5), p95: p(ms.naive!, 0.95) },
        cached: { p50: p(cached.work!, 0.5), p95: p(cached.work!, 0.95) },
        ...(ref
          ? { ref: { indexBuildMs: round(ref.buildMs), p50: p(ms.ref!, 0.5), p95: p(ms.ref!, 0.95) } }
          : {}),
      };
      rows.push(
        {
          subject,
          metric: 'index build (first search answered, minus initialize) · resident memory',
          value: `${round(work.buildMs / 1000, 1)} s = ${Math.round(work.rate)} docs/s · RSS ${round(rss / MB)} MB (peak ${round(peak / MB)} MB)`,
          verdict: 'INFO',
        },
        {
          subject,
          metric: `search_docs p50 · p95 · p99, ${queries.length} distinct queries (${empty} empty)`,
          value: `${p(ms.work!, 0.5)} · ${p(ms.work!, 0.95)} · ${p(ms.work!, 0.99)} ms; p95 common ${p(byKind.common!, 0.95)} · mid ${p(byKind.mid!, 0.95)} · rare+common ${p(byKind.rareCommon!, 0.95)} ms`,
          ...(limit ? { target: `p95 < ${limit} ms` } : {}),
          verdict: limit ? verdict(p95 < limit) : 'INFO',
        },
        {
          subject,
          metric: 'reference: naive FTS5 "a" OR "b" by bm25 LIMIT 10, in-process (no MCP round trip)',
          value: `p50 ${p(ms.naive!, 0.5)} · p95 ${p(ms.naive!, 0.95)} ms (index ${Math.round(documents / (reference.buildMs / 1000))} docs/s)`,
          verdict: 'INFO',
        },
        {
          subject,
          metric: `cached: ${CACHED_QUERIES} of those queries asked ${CACHED_ROUNDS} times more`,
          value: `p50 ${p(cached.work!, 0.5)} · p95 ${p(cached.work!, 0.95)} ms`,
          verdict: 'INFO',
        },
      );
      if (ref && against.ref) {
        rows.push(
          abRow(subject, 'search_docs latency, distinct queries', ms.work!, ms.ref!, {
            digits: 2,
            unit: ' ms',
            higherIsBetter: false,
          }).row,
        );
        rows.push({
          subject: `${subject} — A/B vs ${against.ref}`,
          metric: 'p95 · index build',
          value: `working tree ${p(ms.work!, 0.95)} ms · ${round(work.buildMs / 1000, 1)} s; ${against.ref} ${p(ms.ref!, 0.95)} ms · ${round(ref.buildMs / 1000, 1)} s`,
          verdict: 'INFO',
        });
      }
    } finally {
      reference.db.close();
      await work.peer.close();
      await ref?.peer.close();
    }
  }
  return {
    id: 'docsSearch',
    title: 'Docs search',
    status: 'ran',
    rows,
    data,
    ms: performance.now() - started,
  };
}
