import { abRow, repsFor } from '../ab.ts';
import { drive, StdioPeer } from '../peer.ts';
import { type Options, type Row, type SectionResult, verdict } from '../report.ts';
import { makeScratch, type Target } from '../servers.ts';
import { fmt, quantile, round, type Summary, summarize } from '../stats.ts';

interface Scenario {
  label: string;
  tool: string;
  args: Record<string, unknown>;
  /** Calls/s against the bare SDK's, at least. */
  limit: number;
}

const SCENARIOS: Scenario[] = [
  { label: 'echo (no upstream)', tool: 'echo', args: { text: 'hello gatehouse' }, limit: 0.8 },
  // The bare SDK's tool makes the same GET with a bare fetch.
  {
    label: 'upstream GET (sandbox)',
    tool: 'upstream_health',
    args: { service: 'checkout-api' },
    limit: 0.85,
  },
];

interface RunStats {
  perSecond: Summary;
  p50: Summary;
  p99: Summary;
  errors: number;
}

/**
 * tools/call throughput and latency over stdio, the core bench server (policy,
 * strict validation, audit to a file, typed errors) against the bare SDK v2
 * with the same tool, sequential and with 32 in flight. Runs alternate between
 * the two servers so drift on the machine hits both alike.
 */
export async function overhead(targets: Target[], options: Options): Promise<SectionResult> {
  const started = performance.now();
  const bare = targets.find((t) => t.name === 'bare SDK v2');
  const core = targets.find((t) => t.name === 'core bench server');
  if (!bare || !core)
    return {
      id: 'overhead',
      title: 'Core overhead (stdio tools/call)',
      status: 'skipped',
      reason: 'the bare v2 or the core bench server did not build',
      rows: [],
      data: {},
      ms: 0,
    };
  const scratch = makeScratch();
  // n ≥ 15 short runs per figure rather than a few long ones: medians with a spread, and with
  // --against the ref's core server is a third side of every interleaved round.
  const reps = repsFor(options.quick);
  const modes = [
    { name: 'sequential', concurrency: 1, total: options.quick ? 100 : 1_000 },
    { name: '32 in flight', concurrency: 32, total: options.quick ? 320 : 6_000 },
  ];
  const sides: Array<['bare' | 'core' | 'ref', Target]> = [
    ['bare', bare],
    ['core', core],
    ...(core.twin ? [['ref', core.twin] as ['ref', Target]] : []),
  ];
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  for (const scenario of SCENARIOS) {
    for (const mode of modes) {
      const runs: Record<
        'bare' | 'core' | 'ref',
        { perSecond: number[]; p50: number[]; p99: number[]; errors: number }
      > = {
        bare: { perSecond: [], p50: [], p99: [], errors: 0 },
        core: { perSecond: [], p50: [], p99: [], errors: 0 },
        ref: { perSecond: [], p50: [], p99: [], errors: 0 },
      };
      for (let rep = 0; rep < reps; rep++) {
        for (const [key, target] of sides) {
          const peer = new StdioPeer(target.bin, target.env(scratch));
          try {
            await peer.initialize();
            // Warm-up: JIT, connection pool, audit file.
            await drive(peer, () => peer.callTool(scenario.tool, scenario.args), {
              total: options.quick ? 32 : 300,
              concurrency: mode.concurrency,
              maxMs: options.quick ? 2_000 : 10_000,
            });
            const r = await drive(peer, () => peer.callTool(scenario.tool, scenario.args), {
              total: mode.total,
              concurrency: mode.concurrency,
              maxMs: options.quick ? 1_500 : 60_000,
            });
            runs[key].perSecond.push(r.perSecond);
            runs[key].p50.push(quantile(r.latencies, 0.5));
            runs[key].p99.push(quantile(r.latencies, 0.99));
            runs[key].errors += r.errors;
          } finally {
            await peer.close();
          }
        }
      }
      const stats = (k: 'bare' | 'core' | 'ref'): RunStats => ({
        perSecond: summarize(runs[k].perSecond),
        p50: summarize(runs[k].p50),
        p99: summarize(runs[k].p99),
        errors: runs[k].errors,
      });
      const b = stats('bare');
      const c = stats('core');
      const ratio = c.perSecond.median / b.perSecond.median;
      data[`${scenario.tool}/${mode.name}`] = { bare: b, core: c, ratio: round(ratio, 3) };
      const subject = `${scenario.label}, ${mode.name}`;
      rows.push({
        subject,
        metric: 'bare SDK v2 calls/s · p50 · p99',
        value: `${fmt(b.perSecond, 0)} · ${round(b.p50.median, 2)} ms · ${round(b.p99.median, 2)} ms${b.errors ? ` · ${b.errors} errors` : ''}`,
        verdict: 'INFO',
      });
      rows.push({
        subject,
        metric: 'core calls/s · p50 · p99',
        value: `${fmt(c.perSecond, 0)} · ${round(c.p50.median, 2)} ms · ${round(c.p99.median, 2)} ms${c.errors ? ` · ${c.errors} errors` : ''}`,
        target: `${round(ratio, 2)}× bare (≥ ${scenario.limit}×)`,
        verdict: verdict(ratio >= scenario.limit && c.errors === 0),
      });
      if (core.twin) {
        const ab = abRow(subject, 'core calls/s', runs.core.perSecond, runs.ref.perSecond, {
          digits: 0,
          higherIsBetter: true,
        });
        const refRatio = ab.ref.median / b.perSecond.median;
        ab.row.value += ` · ${round(refRatio, 2)}× bare at ${core.twin.name}`;
        rows.push(ab.row);
        (data[`${scenario.tool}/${mode.name}`] as Record<string, unknown>).ab = {
          ref: stats('ref'),
          ratio: round(ab.ratio, 3),
          refToBare: round(refRatio, 3),
        };
      }
    }
  }
  return {
    id: 'overhead',
    title: 'Core overhead (stdio tools/call)',
    status: 'ran',
    rows,
    data,
    ms: performance.now() - started,
  };
}
