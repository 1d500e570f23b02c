/**
 * The soak's report: its rows (with PASS/MISS on answers, audit and
 * descriptors) and the JSON data beside them.
 */
import { type Row, verdict } from '../report.ts';
import { quantile, round } from '../stats.ts';
import { BURST, MIXED, PHASES, SOAK_ENV } from './soak-faults.ts';
import { CIRCUIT_PAUSE_MS, CONCURRENCY, type LoadRun, type LoadTallies } from './soak-load.ts';
import type { AuditCalls, Fds, ProcessWatch } from './soak-measure.ts';

const MB = 1024 * 1024;
/** Open descriptors the server may hold beyond its pre-soak count once it has settled (a pooled socket or two). */
const FD_SLACK = 8;

const fdText = (f: Fds | undefined) =>
  f
    ? `${f.total} (${Object.entries(f.byKind)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')})`
    : 'n/a';

const maxOf = (values: readonly number[]) =>
  values.length ? values.reduce((a, b) => Math.max(a, b), values[0]!) : Number.NaN;

const sortedCounts = (map: Record<string, number>) => Object.entries(map).sort((a, b) => b[1] - a[1]);

/** Everything the soak saw, for its report. */
export interface SoakMeasurements {
  /** Calls the soak meant to make, after `warmCalls` warm-up calls. */
  total: number;
  warmCalls: number;
  phaseMs: number;
  /** The soak's run (not the warm-up's). */
  run: LoadRun;
  load: LoadTallies;
  process: ProcessWatch;
  /** How many phases the soak went through. */
  phases: number;
  rss: { before: number; series: number[]; after: number; settled: number };
  fds: { before: Fds | undefined; rightAfter: Fds | undefined; settled: Fds | undefined };
  probes: string[];
  /** Calls sent in all: warm-up, soak and probes. */
  calls: number;
  audit: AuditCalls;
}

/** The soak's rows and data from what it measured. */
export function soakReport(m: SoakMeasurements): { rows: Row[]; data: Record<string, unknown> } {
  const { run: r, total, warmCalls, phaseMs, probes, calls, audit } = m;
  const { outcomes, byTool, byPhase, transport, latencyByCode, messages } = m.load;
  const { circuitByPhase, exit, unhandledLines, unhandled, stderrBytes } = m.process;
  const { before: rssBefore, series: rssSeries, after: rssAfter, settled: rssSettled } = m.rss;
  const { before: fdBefore, rightAfter: fdRightAfter, settled: fdAfter } = m.fds;
  const probeOk = probes.at(-1) === 'ok';
  const rows: Row[] = [];
  const done = r.done;
  const perSecond = r.perSecond;
  const capped = done < total;
  const p50 = quantile(r.latencies, 0.5);
  const p99 = quantile(r.latencies, 0.99);
  const max = maxOf(r.latencies);
  const transportErrors = Object.values(transport).reduce((a, b) => a + b, 0);
  const alive = exit === undefined;

  rows.push({
    subject: 'platform-ops',
    metric: `calls (${CONCURRENCY} in flight, 3 read tools)${capped ? ' (time cap)' : ''}`,
    value: `${done} in ${round(r.ms / 1000)} s · ${round(perSecond, 0)} calls/s${r.paused ? ` · ${r.paused} pauses of ${CIRCUIT_PAUSE_MS} ms after CIRCUIT_OPEN` : ''}`,
    verdict: 'INFO',
  });
  rows.push({
    subject: 'platform-ops',
    metric: 'outcomes by error code',
    value: sortedCounts(outcomes)
      .map(([code, n]) => `${code} ${n} (${round((n / Math.max(1, done)) * 100)}%)`)
      .join(' · '),
    verdict: 'INFO',
  });
  rows.push({
    subject: 'platform-ops',
    metric: 'latency p50 · p99 · max',
    value: `${round(p50, 1)} ms · ${round(p99, 1)} ms · ${round(max, 0)} ms`,
    verdict: 'INFO',
  });
  rows.push({
    subject: 'platform-ops',
    metric: 'ok share by phase (calls)',
    value: sortedCounts(
      Object.fromEntries(
        Object.entries(byPhase).map(([p, codes]) => [p, Object.values(codes).reduce((a, b) => a + b, 0)]),
      ),
    )
      .map(([p, n]) => `${p} ${round(((byPhase[p]?.ok ?? 0) / n) * 100)}% (${n})`)
      .join(' · '),
    verdict: 'INFO',
  });
  const openedIn = sortedCounts(
    Object.fromEntries(Object.entries(circuitByPhase).map(([p, states]) => [p, states.open ?? 0])),
  ).filter(([, n]) => n > 0);
  const opened = openedIn.reduce((sum, [, n]) => sum + n, 0);
  rows.push({
    subject: 'platform-ops',
    metric: 'circuit opened (by phase)',
    value: `${opened} ${opened === 1 ? 'time' : 'times'}${opened ? ` (${openedIn.map(([p, n]) => `${p} ${n}`).join(' · ')})` : ''}`,
    verdict: 'INFO',
  });
  const peak = Math.max(rssAfter, ...rssSeries.filter((v) => !Number.isNaN(v)));
  rows.push({
    subject: 'platform-ops',
    metric: 'RSS before → peak → after → settled',
    value: Number.isNaN(rssBefore)
      ? 'n/a (no /proc)'
      : `${round(rssBefore / MB)} MB → ${round(peak / MB)} MB → ${round(rssAfter / MB)} MB → ${round(rssSettled / MB)} MB`,
    verdict: 'INFO',
  });
  rows.push({
    subject: 'platform-ops',
    metric: 'every call answered (no JSON-RPC transport errors, no crash)',
    value: `${transportErrors} transport errors · ${alive ? 'process up' : `process exited (${exit?.code ?? exit?.signal})`} · ${unhandledLines} "unhandled"/"uncaught" lines on stderr · probe after the soak ${probes.join(', ')}`,
    target: `0 · up · 0 · ok`,
    verdict: verdict(transportErrors === 0 && alive && unhandledLines === 0 && probeOk),
  });
  rows.push({
    subject: 'platform-ops',
    metric: 'audit events = calls',
    value: `${audit.total} tool call records for ${calls} calls${audit.unparsed ? ` · ${audit.unparsed} unparsable lines` : ''}`,
    target: '= calls (warm-up, soak and probes)',
    verdict: verdict(audit.total === calls && audit.unparsed === 0),
  });
  rows.push(
    fdBefore && fdAfter
      ? {
          subject: 'platform-ops',
          metric: 'open fds before → right after → settled',
          value: `${fdText(fdBefore)} → ${fdRightAfter?.total ?? 'n/a'} → ${fdText(fdAfter)}`,
          target: `settled ≤ before + ${FD_SLACK}`,
          verdict: verdict(fdAfter.total <= fdBefore.total + FD_SLACK),
        }
      : {
          subject: 'platform-ops',
          metric: 'open fds before → after',
          value: alive ? 'not measured (no /proc)' : 'not measured (the process exited)',
          verdict: 'INFO',
        },
  );

  // The audit's own tally by code sits beside the answers', so a mismatch shows which outcome went astray.
  const data: Record<string, unknown> = {
    env: SOAK_ENV,
    faults: { mixed: MIXED, burst: BURST, cycle: PHASES.map((p) => p.name) },
    phaseMs,
    concurrency: CONCURRENCY,
    calls: { soak: done, warmUp: warmCalls, probes: probes.length, sent: calls },
    capped,
    ms: round(r.ms),
    circuitPauses: r.paused,
    perSecond: round(perSecond, 1),
    outcomes,
    byTool,
    byPhase,
    phases: m.phases,
    transportErrors: transport,
    latencyMs: {
      p50: round(p50, 2),
      p99: round(p99, 2),
      max: round(max, 1),
      byCode: Object.fromEntries(
        Object.entries(latencyByCode).map(([code, values]) => [
          code,
          {
            p50: round(quantile(values, 0.5), 2),
            p99: round(quantile(values, 0.99), 2),
            max: round(maxOf(values), 1),
          },
        ]),
      ),
    },
    messages,
    circuit: circuitByPhase,
    rssBytes: { before: rssBefore, peak, after: rssAfter, settled: rssSettled },
    rssSeriesMB: rssSeries.map((v) => round(v / MB)),
    fds: { before: fdBefore, rightAfter: fdRightAfter, settled: fdAfter, slack: FD_SLACK },
    stderr: { bytes: stderrBytes, unhandledLines, samples: unhandled },
    exit: exit ?? null,
    probes,
    // The server's own timing of each call (from the audit), beside the latency seen over stdio.
    audit: {
      toolCalls: audit.total,
      byCode: audit.byCode,
      maxDurationMs: audit.maxDurationMs,
      unparsed: audit.unparsed,
    },
  };
  return { rows, data };
}
