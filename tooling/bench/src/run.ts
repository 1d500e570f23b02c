/**
 * `pnpm bench [--quick] [--only SECTIONS] [--against REF] [--docs-sizes N,N] [--reps N] [--out DIR]`: every
 * Gatehouse figure against a baseline started in the same run on the same
 * machine. `--against main` also builds that git ref in a scratch folder and
 * interleaves its samples with the working tree's (A/B rows). Writes
 * DIR/bench.md and DIR/bench.json (DIR defaults to <repo>/.bench) and prints
 * each target with its verdict. Exit code 0 unless the bench itself broke;
 * `--strict` also fails on a MISS.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startSandbox } from '@gatehouse/sandbox';
import { against, repsFor, repsOverride } from './ab.ts';
import { buildRef, twinTargets } from './against.ts';
import { buildTargets } from './build.ts';
import { exchange } from './exchange.ts';
import { markdown, SECTIONS, type SectionResult } from './report.ts';
import { coldStart } from './sections/cold-start.ts';
import { context, type Seeds } from './sections/context.ts';
import { docsSearch } from './sections/docs-search.ts';
import { http } from './sections/http.ts';
import { memory } from './sections/memory.ts';
import { overhead } from './sections/overhead.ts';
import { soak } from './sections/soak.ts';
import { discoverTargets, REPO, scratchDirs } from './servers.ts';
import { tokens } from './tokens.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string' },
    against: { type: 'string' },
    'docs-sizes': { type: 'string' },
    reps: { type: 'string' },
  },
});
const quick = values.quick === true;
const out = resolve(values.out ?? join(REPO, '.bench'));
const only = values.only ? parseOnly(values.only) : undefined;
const docsSizes = values['docs-sizes']?.split(',').map((n) => Number(n.trim()));
if (docsSizes?.some((n) => !Number.isInteger(n) || n < 1 || n > 1_000_000)) {
  console.error('--docs-sizes: comma-separated document counts between 1 and 1,000,000');
  process.exit(2);
}
const options = { quick, docsSizes };
if (values.reps !== undefined) {
  const reps = Number(values.reps);
  if (!Number.isInteger(reps) || reps < 1 || reps > 100) {
    console.error('--reps: a whole number from 1 to 100');
    process.exit(2);
  }
  repsOverride.value = reps;
}
const began = performance.now();

const log = (line: string) => console.log(line);
log(`gatehouse bench (${quick ? 'quick' : 'full'}): building baselines…`);
const built = await buildTargets();
for (const [name, reason] of Object.entries(built.failed)) log(`  ! ${name} did not build: ${reason}`);
let refBuild: Awaited<ReturnType<typeof buildRef>> | undefined;
if (values.against) {
  try {
    refBuild = await buildRef(values.against, log);
  } catch (error) {
    console.error(`--against ${values.against}: ${(error as Error).message.split('\n')[0]}`);
    process.exit(2);
  }
  against.ref = values.against;
  for (const [name, reason] of Object.entries(refBuild.failed))
    log(`  ! ${name} @${values.against} did not build: ${reason}`);
}

const sandbox = await startSandbox();
const results: SectionResult[] = [];
try {
  const targets = await discoverTargets(sandbox, new Set(Object.keys(built.failed)));
  log(`targets: ${targets.map((t) => t.name).join(', ')}`);
  if (refBuild) {
    const twins = twinTargets(targets, refBuild);
    log(
      `A/B against ${refBuild.ref} (${refBuild.sha.slice(0, 10)}), ${repsFor(quick)} interleaved samples per figure: ${twins.map((t) => t.name).join(', ')}`,
    );
  }
  const seeds = await seedArgs(sandbox.url, sandbox.tokens.support);
  const plan: Array<[(typeof SECTIONS)[number], () => Promise<SectionResult>]> = [
    ['coldStart', () => coldStart(targets, options)],
    ['overhead', () => overhead(targets, options)],
    ['memory', () => memory(targets, options)],
    ['context', () => context(targets, seeds, options)],
    ['tokens', () => tokens(targets, options)],
    ['http', () => http(targets, options)],
    ['docsSearch', () => docsSearch(targets, options)],
    ['soak', () => soak(targets, sandbox, options)],
    ['exchange', () => exchange(options)],
  ];
  for (const [id, fn] of plan) {
    if (only && !only.has(id)) continue;
    log(`\n▶ ${id}`);
    let result: SectionResult;
    try {
      result = await fn();
    } catch (error) {
      result = {
        id,
        title: id,
        status: 'skipped',
        reason: `failed: ${(error as Error).message.slice(0, 300)}`,
        rows: [],
        data: {},
        ms: 0,
      };
    }
    results.push(result);
    if (result.status === 'skipped') log(`  skipped: ${result.reason}`);
    for (const row of result.rows)
      log(
        `  ${row.verdict === 'INFO' ? '    ' : row.verdict} ${row.subject} — ${row.metric}: ${row.value}${row.target ? ` [${row.target}]` : ''}`,
      );
  }
} finally {
  await sandbox.close();
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
}

const meta = {
  quick,
  against: refBuild ? { ref: refBuild.ref, sha: refBuild.sha } : null,
  node: process.version,
  cpus: availableParallelism(),
  at: new Date().toISOString(),
};
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'bench.md'), `${markdown(results, meta)}\n`);
const misses = results.flatMap((s) =>
  s.rows.filter((r) => r.verdict === 'MISS').map((r) => `${s.id}: ${r.subject} — ${r.metric}`),
);
writeFileSync(
  join(out, 'bench.json'),
  `${JSON.stringify({ ...meta, buildMs: Math.round(built.ms), unbuilt: built.failed, sections: results, misses }, null, 2)}\n`,
);
log(`\n${misses.length === 0 ? 'all targets PASS' : `${misses.length} MISS:\n  ${misses.join('\n  ')}`}`);
log(`wrote ${join(out, 'bench.md')} and bench.json in ${Math.round((performance.now() - began) / 1000)} s`);
if (values.strict && misses.length > 0) process.exitCode = 1;

/**
 * `--only` takes section ids as the JSON names them (`coldStart`) or in
 * kebab case (`cold-start`), comma-separated. An unknown id is an error, not a
 * silently empty run.
 */
function parseOnly(value: string): Set<string> {
  const byAlias = new Map<string, (typeof SECTIONS)[number]>();
  for (const id of SECTIONS) {
    byAlias.set(id.toLowerCase(), id);
    byAlias.set(
      id.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
      id,
    );
  }
  const ids = new Set<string>();
  for (const raw of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const id = byAlias.get(raw.toLowerCase());
    if (!id) {
      console.error(
        `--only: unknown section ${JSON.stringify(raw)}; one of ${SECTIONS.join(', ')} (or kebab-case)`,
      );
      process.exit(2);
    }
    ids.add(id);
  }
  return ids;
}

/** Real ids from the sandbox, so each read tool can be called with its defaults. */
async function seedArgs(url: string, supportToken: string): Promise<Record<string, Seeds>> {
  const seeds: Record<string, Seeds> = {
    'platform-ops': { service: 'checkout-api', query: 'latency' },
    docs: { service: 'checkout-api', query: 'postgres', 'get_document.id': 'local:adr/0007-use-postgres' },
    support: { query: 'refund' },
    'bare SDK v2': { text: 'hello', service: 'checkout-api' },
  };
  try {
    const response = await fetch(`${url}/support/v1/tickets?limit=1`, {
      headers: { authorization: `Bearer ${supportToken}` },
    });
    const body = (await response.json()) as { items: Array<{ id: string; customerId: string }> };
    const first = body.items[0];
    if (first) Object.assign(seeds.support!, { ticket_id: first.id, customer_id: first.customerId });
  } catch {
    // Tools needing these ids report an error row instead.
  }
  return seeds;
}
