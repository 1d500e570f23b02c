import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StdioPeer } from '../peer.ts';
import { type Options, type Row, type SectionResult, verdict } from '../report.ts';
import { makeScratch, type Target } from '../servers.ts';
import { quantile, round } from '../stats.ts';

const WORDS = [
  'postgres',
  'kafka',
  'latency',
  'migration',
  'rollback',
  'checkout',
  'ledger',
  'gateway',
  'cache',
  'redis',
  'tracing',
  'alerting',
  'runbook',
  'schema',
  'versioning',
  'pagination',
  'idempotency',
  'retry',
  'timeout',
  'breaker',
  'sharding',
  'replica',
  'backup',
  'encryption',
  'rotation',
  'deploy',
  'canary',
  'feature',
  'flag',
  'quota',
  'throttle',
  'audit',
  'consent',
  'privacy',
  'retention',
  'index',
  'search',
  'queue',
  'worker',
  'cron',
];

const P95_LIMIT_MS = 10;
/** Queries pair WORDS[i] with WORDS[7i + 3]: the pairs repeat every WORDS.length searches. */
const DISTINCT_QUERIES = WORDS.length;

/** A deterministic corpus of ADRs, standards and guides (same text every run). */
function generateCorpus(root: string, count: number): void {
  let seed = 42;
  const rand = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const word = () => WORDS[Math.floor(rand() * WORDS.length)]!;
  const sentence = () => `${Array.from({ length: 12 }, word).join(' ')}.`;
  for (const kind of ['adr', 'standards', 'guides']) mkdirSync(join(root, kind), { recursive: true });
  for (let i = 1; i <= count; i++) {
    const kind = i % 3 === 0 ? 'adr' : i % 3 === 1 ? 'standards' : 'guides';
    const title = `${word()} ${word()} ${word()} ${i}`;
    const front =
      kind === 'adr'
        ? `---\ntitle: ${title}\nstatus: accepted\ndate: 2024-01-01\nowner: platform\ntags: [${word()}, ${word()}]\n---\n`
        : `---\ntitle: ${title}\nowner: platform\ntags: [${word()}]\n---\n`;
    const body = ['Context', 'Decision', 'Consequences']
      .map((h) => `## ${h}\n\n${Array.from({ length: 4 }, sentence).join(' ')}\n`)
      .join('\n');
    const name = kind === 'adr' ? `${String(i).padStart(5, '0')}-doc-${i}.md` : `doc-${i}.md`;
    writeFileSync(join(root, kind, name), `${front}\n# ${title}\n\n${body}`);
  }
}

/** Docs search: index build time and search latency on a generated corpus (10,000 documents in full mode). */
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
  const scratch = makeScratch();
  const count = options.quick ? 500 : 10_000;
  const root = join(scratch, 'corpus');
  const genStart = performance.now();
  generateCorpus(root, count);
  const generateMs = performance.now() - genStart;
  const env = docs.env(scratch, { DOCS_INDEX_WAIT_MS: '120000' });
  env.DOCS_ROOT = root;
  delete env.DOCS_API_URL;
  delete env.DOCS_API_TOKEN;
  const peer = new StdioPeer(docs.bin, env);
  const rows: Row[] = [];
  try {
    await peer.initialize();
    const initMs = performance.now() - peer.spawnedAt;
    const first = await peer.callTool('search_docs', { query: 'postgres migration' });
    const firstMs = performance.now() - peer.spawnedAt;
    const firstResult = first.result as
      | { isError?: boolean; structuredContent?: { results?: unknown[] } }
      | undefined;
    if (!firstResult || firstResult.isError)
      return {
        id: 'docsSearch',
        title: 'Docs search',
        status: 'skipped',
        reason: `the first search failed: ${JSON.stringify(first.result ?? first.error).slice(0, 200)}`,
        rows,
        data: {},
        ms: performance.now() - started,
      };
    const latencies: number[] = [];
    let empty = 0;
    const searches = options.quick ? 40 : 400;
    const deadline = performance.now() + (options.quick ? 8_000 : 60_000);
    for (let i = 0; i < searches && performance.now() < deadline; i++) {
      const query = `${WORDS[i % WORDS.length]} ${WORDS[(i * 7 + 3) % WORDS.length]}`;
      const t0 = performance.now();
      const r = await peer.callTool('search_docs', { query, ...(i % 4 === 0 ? { kind: 'adr' } : {}) });
      latencies.push(performance.now() - t0);
      const sc = (r.result as { structuredContent?: { results?: unknown[] } } | undefined)?.structuredContent;
      if (!sc?.results?.length) empty += 1;
    }
    const data = {
      documents: count,
      generateMs: round(generateMs),
      initializeMs: round(initMs),
      firstSearchMs: round(firstMs),
      indexBuildMs: round(firstMs - initMs),
      searches: latencies.length,
      emptyResults: empty,
      p50: round(quantile(latencies, 0.5), 2),
      p95: round(quantile(latencies, 0.95), 2),
      rssBytes: peer.rss(),
    };
    rows.push(
      {
        subject: `docs, ${count} generated documents`,
        metric: 'index build (spawn → first search answered, minus initialize)',
        value: `${data.indexBuildMs} ms (initialize ${data.initializeMs} ms; RSS ${round(data.rssBytes / 1024 / 1024)} MB)`,
        verdict: 'INFO',
      },
      {
        subject: `docs, ${count} generated documents`,
        metric: `search_docs p50 · p95 (${latencies.length} queries, ${DISTINCT_QUERIES} distinct)`,
        value: `${data.p50} ms · ${data.p95} ms${empty ? ` (${empty} empty)` : ''}`,
        target: `p95 < ${P95_LIMIT_MS} ms`,
        verdict: verdict(data.p95 < P95_LIMIT_MS),
      },
    );
    return {
      id: 'docsSearch',
      title: 'Docs search',
      status: 'ran',
      rows,
      data,
      ms: performance.now() - started,
    };
  } finally {
    await peer.close();
  }
}
