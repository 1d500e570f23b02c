import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FaultRule, type Sandbox, sandboxControl } from '@gatehouse/sandbox';
import { StdioPeer } from '../peer.ts';
import { type Options, type Row, type SectionResult, verdict } from '../report.ts';
import { makeScratch, type Target } from '../servers.ts';
import { quantile, round } from '../stats.ts';

const MB = 1024 * 1024;
/** Open descriptors the server may hold beyond its pre-soak count once it has settled (a pooled socket or two). */
const FD_SLACK = 8;
const CONCURRENCY = 16;
/** No tools/call may go unanswered longer than this; the deadline below is 1 s. */
const CALL_TIMEOUT_MS = 10_000;
/**
 * A worker told CIRCUIT_OPEN waits this long before its next call, as a client
 * honouring the hint would (if sooner): without it the instant refusals of an
 * open circuit make up most of the calls and end the soak early.
 */
const CIRCUIT_PAUSE_MS = 100;

/**
 * Tight upstream timings so the soak moves: 200 ms per attempt, 1 s per call
 * (retries and back-off included), two retries, and a breaker that opens after
 * five failed calls and tries again after one second.
 */
const SOAK_ENV = {
  PLATFORM_OPS_TIMEOUT_MS: '200',
  PLATFORM_OPS_DEADLINE_MS: '1000',
  PLATFORM_OPS_RETRIES: '2',
  PLATFORM_OPS_BREAKER_FAILURES: '5',
  PLATFORM_OPS_BREAKER_COOLDOWN_MS: '1000',
  PLATFORM_OPS_LOG_LEVEL: 'warn',
};

const UPSTREAM = '/platform/v1/';

/**
 * The background mix. The sandbox applies the first rule whose `rate` draw
 * hits, so each share is of what the rules above it left over.
 */
const MIXED: FaultRule[] = [
  { path: UPSTREAM, latencyMs: 600, rate: 0.06 }, // beyond the per-attempt timeout
  { path: UPSTREAM, latencyMs: 60, rate: 0.1 }, // slow but within it
  { path: UPSTREAM, status: 503, rate: 0.06 },
  { path: UPSTREAM, status: 500, rate: 0.03 },
  { path: UPSTREAM, reset: true, rate: 0.04 },
  { path: UPSTREAM, body: 'malformed', rate: 0.03 },
  { path: UPSTREAM, body: 'html', rate: 0.02 },
  { path: UPSTREAM, body: 'schema', rate: 0.02 },
];

/** Put in front of the mix for a burst: about 85% of attempts answer 5xx. */
const BURST: FaultRule[] = [
  { path: UPSTREAM, status: 503, rate: 0.7 },
  { path: UPSTREAM, status: 502, rate: 0.5 },
];

/** The phases cycle while the calls run: a 5xx burst may open the breaker, a healthy spell lets it close. */
const PHASES: Array<{ name: string; rules: FaultRule[] }> = [
  { name: 'mixed', rules: MIXED },
  { name: '5xx burst', rules: [...BURST, ...MIXED] },
  { name: 'mixed', rules: MIXED },
  { name: 'healthy', rules: [] },
];

const SERVICES = ['checkout-api', 'payments-gateway', 'search-indexer'];
const QUERIES = ['latency', 'database lag', 'errors'];

/** Three read tools in turn, over a few services and queries. */
function callFor(i: number): { tool: string; args: Record<string, unknown> } {
  const service = SERVICES[Math.floor(i / 3) % SERVICES.length]!;
  switch (i % 3) {
    case 0:
      return {
        tool: 'get_service_health',
        args: { service, environment: i % 2 ? 'staging' : 'production' },
      };
    case 1:
      return { tool: 'list_recent_deploys', args: { service, limit: 5 } };
    default:
      return {
        tool: 'search_runbooks',
        args: { query: QUERIES[Math.floor(i / 3) % QUERIES.length]!, limit: 5 },
      };
  }
}

/** The server's open descriptors by kind (socket, pipe, anon_inode, file), or undefined without /proc. */
function openFds(pid: number): { total: number; byKind: Record<string, number> } | undefined {
  const dir = `/proc/${pid}/fd`;
  if (!existsSync(dir)) return undefined;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return undefined;
  }
  const byKind: Record<string, number> = {};
  for (const entry of entries) {
    let kind = 'gone';
    try {
      const target = readlinkSync(`${dir}/${entry}`);
      kind = /^(\w+):/.exec(target)?.[1] ?? (target.startsWith('/') ? 'file' : 'other');
      if (kind === 'anon_inode') kind = target.replace(/^anon_inode:\[?|\]$/g, '') || kind;
    } catch {
      // Closed between readdir and readlink.
    }
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  }
  return { total: entries.length, byKind };
}

const fdText = (f: { total: number; byKind: Record<string, number> } | undefined) =>
  f
    ? `${f.total} (${Object.entries(f.byKind)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')})`
    : 'n/a';

function rssOf(peer: StdioPeer): number {
  try {
    return peer.rss();
  } catch {
    return Number.NaN;
  }
}

/** Tool `event:"call"` records in the audit file by error code ('ok' for none), the longest `durationMs` of each, and lines that did not parse. */
function readToolCalls(file: string): {
  total: number;
  byCode: Record<string, number>;
  maxDurationMs: Record<string, number>;
  unparsed: number;
} {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { total: 0, byCode: {}, maxDurationMs: {}, unparsed: 0 };
  }
  const byCode: Record<string, number> = {};
  const maxDurationMs: Record<string, number> = {};
  let total = 0;
  let unparsed = 0;
  for (const line of text.split('\n')) {
    if (!line) continue;
    let record: { event?: string; kind?: string; outcome?: string; errorCode?: string; durationMs?: number };
    try {
      record = JSON.parse(line);
    } catch {
      unparsed += 1;
      continue;
    }
    if (record.event !== 'call' || record.kind !== 'tool') continue;
    total += 1;
    const code = record.errorCode ?? (record.outcome === 'ok' ? 'ok' : (record.outcome ?? '?'));
    byCode[code] = (byCode[code] ?? 0) + 1;
    if (typeof record.durationMs === 'number')
      maxDurationMs[code] = Math.max(maxDurationMs[code] ?? 0, record.durationMs);
  }
  return { total, byCode, maxDurationMs, unparsed };
}

const tally = (map: Record<string, number>, key: string) => {
  map[key] = (map[key] ?? 0) + 1;
};

/** Counts `code` under `group` in a two-level tally. */
const tallyIn = (map: Record<string, Record<string, number>>, group: string, code: string) => {
  map[group] ??= {};
  tally(map[group], code);
};

const maxOf = (values: readonly number[]) =>
  values.length ? values.reduce((a, b) => Math.max(a, b), values[0]!) : Number.NaN;

const sortedCounts = (map: Record<string, number>) => Object.entries(map).sort((a, b) => b[1] - a[1]);

/**
 * A mixed-fault soak of platform-ops (the built binary over stdio) against the
 * sandbox: while a bounded number of calls to three read tools run 16 at a
 * time, the upstream cycles through a background mix of latency past the
 * per-attempt timeout, 5xx, resets and malformed, HTML or off-schema bodies, a
 * 5xx burst that opens the breaker, and a healthy spell (a worker answered
 * CIRCUIT_OPEN pauses briefly, as a client would). It reports the outcomes by
 * error code and phase, latency, RSS and open descriptors before and after,
 * whether stderr ever said "unhandled" or the process died, and whether the
 * audit file holds exactly one tool `event:"call"` record per call.
 */
export async function soak(
  targets: Target[],
  sandbox: Pick<Sandbox, 'url' | 'controlToken'>,
  options: Options,
): Promise<SectionResult> {
  const started = performance.now();
  const title = 'Soak (platform-ops, mixed upstream faults)';
  const target = targets.find((t) => t.name === 'platform-ops');
  if (!target)
    return {
      id: 'soak',
      title,
      status: 'skipped',
      reason: 'platform-ops is not built',
      rows: [],
      data: {},
      ms: 0,
    };
  const total = options.quick ? 300 : 20_000;
  const maxMs = options.quick ? 3_000 : 90_000;
  const phaseMs = options.quick ? 750 : 2_500;
  const settleMs = options.quick ? 3_000 : 10_000;
  const warmCalls = options.quick ? 32 : 200;

  const control = sandboxControl(sandbox);
  const env = target.env(makeScratch(), SOAK_ENV);
  const auditFile = env.PLATFORM_OPS_AUDIT_FILE;
  await control.clearFaults();
  const peer = new StdioPeer(target.bin, env);
  let phase = 'warm-up';
  // Bumped at each switch: a call in flight across one is counted apart, since it may have met either rule set.
  let phaseGen = 0;
  const setPhase = (name: string) => {
    phase = name;
    phaseGen += 1;
  };
  // Scans all of stderr (the peer keeps only its first 200 KB), across chunk boundaries.
  const circuitByPhase: Record<string, Record<string, number>> = {};
  const unhandled: string[] = [];
  let unhandledLines = 0;
  let stderrBytes = 0;
  let carry = '';
  peer.child.stderr.on('data', (chunk: Buffer) => {
    stderrBytes += chunk.length;
    const lines = (carry + chunk.toString('utf8')).split('\n');
    carry = (lines.pop() ?? '').slice(-65_536);
    for (const line of lines) {
      if (/unhandled|uncaught/i.test(line)) {
        unhandledLines += 1;
        if (unhandled.length < 3) unhandled.push(line.slice(0, 300));
      }
      const circuit = /"circuit":"([a-z-]+)"/.exec(line)?.[1];
      if (circuit && line.includes('circuit state changed')) tallyIn(circuitByPhase, phase, circuit);
    }
  });
  let exit: { code: number | null; signal: string | null } | undefined;
  peer.child.once('exit', (code, signal) => {
    exit = { code, signal };
  });

  const outcomes: Record<string, number> = {};
  const byTool: Record<string, Record<string, number>> = {};
  const byPhase: Record<string, Record<string, number>> = {};
  const transport: Record<string, number> = {};
  const latencyByCode: Record<string, number[]> = {};
  const messages: Record<string, string> = {};
  let sent = 0;
  const call = async (i: number) => {
    const { tool, args } = callFor(i);
    const began = phase;
    const gen = phaseGen;
    sent += 1;
    const t0 = performance.now();
    let code: string;
    let message: string | undefined;
    try {
      const response = await peer.request('tools/call', { name: tool, arguments: args }, CALL_TIMEOUT_MS);
      const result = response.result as
        | { isError?: boolean; _meta?: Record<string, { code?: string; message?: string } | undefined> }
        | undefined;
      if (response.error) {
        const error = response.error as { code?: number };
        code = `JSON-RPC ${error.code ?? '?'}`;
        tally(transport, code);
      } else if (!result) {
        code = 'NO RESULT';
        tally(transport, code);
      } else if (result.isError) {
        const error = result._meta?.['dev.gatehouse/error'];
        code = error?.code ?? 'UNTYPED';
        message = error?.message;
      } else code = 'ok';
    } catch {
      code = `NO ANSWER (${CALL_TIMEOUT_MS / 1000} s)`;
      tally(transport, code);
    }
    const at = gen === phaseGen ? began : 'across a phase switch';
    if (began !== 'warm-up') {
      tally(outcomes, code);
      tallyIn(byTool, tool, code);
      tallyIn(byPhase, at, code);
      const latencies = latencyByCode[code] ?? [];
      latencies.push(performance.now() - t0);
      latencyByCode[code] = latencies;
      // The first message of each code in each phase, to tell one cause from another.
      if (message && messages[`${at}: ${code}`] === undefined)
        messages[`${at}: ${code}`] = message.slice(0, 300);
    }
    return code;
  };

  /** Calls `call` from `first` on, `CONCURRENCY` at a time, until `count` are done or `capMs` has passed. */
  const run = async (first: number, count: number, capMs: number) => {
    const latencies: number[] = [];
    let issued = 0;
    let paused = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (issued < count && performance.now() - t0 < capMs) {
        const i = first + issued++;
        const t = performance.now();
        const code = await call(i);
        latencies.push(performance.now() - t);
        if (code === 'CIRCUIT_OPEN') {
          paused += 1;
          await sleep(CIRCUIT_PAUSE_MS);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const ms = performance.now() - t0;
    return { done: latencies.length, ms, perSecond: (latencies.length / ms) * 1000, latencies, paused };
  };

  let stopPhases = false;
  const phaseLog: Array<{ name: string; atMs: number }> = [];
  const rows: Row[] = [];
  const data: Record<string, unknown> = {
    env: SOAK_ENV,
    faults: { mixed: MIXED, burst: BURST, cycle: PHASES.map((p) => p.name) },
    phaseMs,
    concurrency: CONCURRENCY,
  };
  try {
    await peer.initialize();
    await peer.request('tools/list', {});
    // Warm-up without faults: JIT, the connection pool to the sandbox, the audit file.
    await run(0, warmCalls, 10_000);
    // Full runs wait for the pool's idle keep-alive sockets to close (about 4 s against the sandbox), so
    // before and after both count none and a leaked socket shows; quick runs count them both times.
    await sleep(options.quick ? 200 : 5_000);
    const rssBefore = rssOf(peer);
    const fdBefore = openFds(peer.pid);

    // The fault phases, switched through the control API while the calls run (bounded by the soak's own cap).
    // The first is in place before the first call.
    await control.setFaults(PHASES[0]!.rules);
    setPhase(PHASES[0]!.name);
    const soakStart = performance.now();
    phaseLog.push({ name: phase, atMs: 0 });
    const phases = (async () => {
      for (let n = 1; !stopPhases && performance.now() - soakStart < maxMs + phaseMs; n++) {
        const until = performance.now() + phaseMs;
        while (!stopPhases && performance.now() < until) await sleep(Math.min(100, phaseMs));
        if (stopPhases) break;
        const next = PHASES[n % PHASES.length]!;
        // Faults are switched on after the label changes and off before it does, so no call counted
        // under 'healthy' can have met a fault.
        if (next.rules.length > 0) setPhase(next.name);
        await control.setFaults(next.rules);
        if (next.rules.length === 0) setPhase(next.name);
        phaseLog.push({ name: next.name, atMs: Math.round(performance.now() - soakStart) });
      }
    })();
    // RSS through the soak, to tell a plateau from steady growth.
    const rssSeries: number[] = [];
    const sampler = (async () => {
      while (!stopPhases && performance.now() - soakStart < maxMs + phaseMs) {
        rssSeries.push(rssOf(peer));
        await sleep(options.quick ? 250 : 2_000);
      }
    })();
    let r: Awaited<ReturnType<typeof run>>;
    try {
      r = await run(warmCalls, total, maxMs);
    } finally {
      stopPhases = true;
      await Promise.all([phases.catch(() => undefined), sampler]);
      await control.clearFaults();
    }
    setPhase('after');
    const rssAfter = rssOf(peer);
    const fdRightAfter = openFds(peer.pid);

    // Settle: keep-alive sockets idle out; the count is sampled until it is back to where it was (bounded),
    // and the verdict allows the slack.
    let fdAfter = fdRightAfter;
    const settleUntil = performance.now() + settleMs;
    while (fdBefore && fdAfter && fdAfter.total > fdBefore.total && performance.now() < settleUntil) {
      await sleep(250);
      fdAfter = openFds(peer.pid);
    }
    // Still serving once the faults are gone: after the breaker's cooldown, a healthy call answers ok
    // (a few tries, since a circuit that opened at the very end waits for its half-open probe).
    const probes: string[] = [];
    await sleep(Number(SOAK_ENV.PLATFORM_OPS_BREAKER_COOLDOWN_MS) + 200);
    for (let n = 0; n < 5 && probes.at(-1) !== 'ok'; n++) {
      if (n > 0) await sleep(500);
      const probe = await peer
        .request('tools/call', { name: 'get_service_health', arguments: { service: 'checkout-api' } }, 5_000)
        .catch(() => undefined);
      const result = probe?.result as
        | { isError?: boolean; _meta?: Record<string, { code?: string } | undefined> }
        | undefined;
      probes.push(
        !result
          ? 'no answer'
          : result.isError
            ? (result._meta?.['dev.gatehouse/error']?.code ?? 'UNTYPED')
            : 'ok',
      );
    }
    const probeOk = probes.at(-1) === 'ok';
    const rssSettled = rssOf(peer);
    const calls = sent + probes.length;

    // The audit is written in batches per tick; wait (bounded) until it has caught up.
    let audit = readToolCalls(auditFile ?? '');
    for (let n = 0; audit.total < calls && n < 20; n++) {
      await sleep(100);
      audit = readToolCalls(auditFile ?? '');
    }

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
    Object.assign(data, {
      calls: { soak: done, warmUp: warmCalls, probes: probes.length, sent: calls },
      capped,
      ms: round(r.ms),
      circuitPauses: r.paused,
      perSecond: round(perSecond, 1),
      outcomes,
      byTool,
      byPhase,
      phases: phaseLog.length,
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
    });
  } finally {
    stopPhases = true;
    await control.clearFaults().catch(() => undefined);
    await peer.close();
  }
  return { id: 'soak', title, status: 'ran', rows, data, ms: performance.now() - started };
}
