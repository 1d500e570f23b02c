import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { abRow, against } from '../ab.ts';
import { targetBin } from '../build.ts';
import { type Options, type Row, type SectionResult, verdict } from '../report.ts';
import { makeScratch, REPO, type Target } from '../servers.ts';
import { fmt, round, summarize } from '../stats.ts';

/** The issue's target: three times the SDK's per-request handler, with auth, policy and audit on. */
const LIMIT = 3;
/** …and, closer to the wire, this share of a raw node:http echo (API key, scopes and audit on). */
const WIRE_LIMIT = 0.4;

interface HttpTarget {
  name: string;
  bin: string;
  args: string[];
  env: Record<string, string>;
  body: unknown;
  gatehouse: boolean;
  /** Extra request headers (the API key of the authenticated target). */
  headers?: Record<string, string>;
}

/**
 * Admission sized for the benchmark: with the defaults (16 concurrent and 600
 * per minute per principal) 32 connections would measure 429 answers, not
 * serving. Shedding itself is tested in servers/platform-ops/test/load-http.test.ts.
 */
const admission = (prefix: string) => ({
  [`${prefix}_MAX_CONCURRENT`]: '1024',
  [`${prefix}_RATE_LIMIT_PER_MINUTE`]: '1000000',
});
const BENCH_KEY = 'bench-key-0123456789abcdef';

async function listen(t: HttpTarget): Promise<{ url: string; child: ChildProcess } | { error: string }> {
  const child = spawn(process.execPath, [t.bin, ...t.args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...t.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Only the start-up lines are kept and searched: once listening, stderr (access
  // lines under load) is drained unread, or the bench itself would slow down as it grows.
  let stderr = '';
  let listening = false;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ error: `no listening line within 10 s: ${stderr.slice(-300)}` });
    }, 10_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      if (listening) return;
      stderr = (stderr + chunk.toString('utf8')).slice(-64 * 1024);
      const match = /listening on (http:\/\/(?:127\.0\.0\.1|\[::1\]):\d+\/mcp)/.exec(stderr);
      if (match?.[1]) {
        listening = true;
        clearTimeout(timer);
        resolve({ url: match[1], child });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ error: `exited with ${code}: ${stderr.trim().split('\n').slice(-2).join(' ')}` });
    });
  });
}

const HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
};

/**
 * Streamable HTTP on loopback: requests/s and latency with autocannon for a
 * raw node:http JSON echo (the ceiling), the bare SDK's createMcpHandler, and
 * the Gatehouse runner's HTTP mode (--no-auth, the only one that exists yet)
 * for the same echo tool, plus platform-ops for reference. Skips any target
 * that does not start.
 */
export async function http(targets: Target[], options: Options): Promise<SectionResult> {
  const started = performance.now();
  const scratch = makeScratch();
  const echoCall = {
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'echo', arguments: { text: 'hello' } },
  };
  const benchEnv = {
    ...(targets.find((t) => t.name === 'core bench server')?.env(scratch) ?? {}),
    ...admission('BENCH'),
  };
  const keysFile = join(scratch, 'api-keys.json');
  writeFileSync(
    keysFile,
    JSON.stringify([
      { name: 'bench', sha256: createHash('sha256').update(BENCH_KEY).digest('hex'), scopes: ['bench:read'] },
    ]),
  );
  const ops = targets.find((t) => t.name === 'platform-ops');
  const list: HttpTarget[] = [
    {
      name: 'raw node:http echo (ceiling)',
      bin: targetBin('echo-http'),
      args: [],
      env: {},
      body: echoCall,
      gatehouse: false,
    },
    {
      name: 'bare SDK v2 createMcpHandler',
      bin: targetBin('bare-v2'),
      args: ['--http'],
      env: benchEnv,
      body: echoCall,
      gatehouse: false,
    },
    {
      name: 'core bench server --no-auth',
      bin: targetBin('core-server'),
      args: ['--transport', 'http', '--no-auth', '--port', '0'],
      env: benchEnv,
      body: echoCall,
      gatehouse: true,
    },
    {
      name: 'core bench server, API key',
      bin: targetBin('core-server'),
      args: ['--transport', 'http', '--port', '0'],
      env: {
        ...benchEnv,
        BENCH_API_KEYS_FILE: keysFile,
        BENCH_PUBLIC_URL: 'http://127.0.0.1/mcp',
      },
      headers: { authorization: `Bearer ${BENCH_KEY}` },
      body: echoCall,
      gatehouse: true,
    },
  ];
  if (ops)
    list.push({
      name: 'platform-ops --no-auth (get_service_health)',
      bin: `${REPO}/servers/platform-ops/dist/bin.js`,
      args: ['--transport', 'http', '--no-auth', '--port', '0'],
      env: ops.env(scratch, admission('PLATFORM_OPS')),
      body: {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'get_service_health', arguments: { service: 'checkout-api' } },
      },
      gatehouse: false,
    });
  // With --against: the ref's core server with the API key, for the A/B row.
  const keyed = list.find((t) => t.name === 'core bench server, API key')!;
  const core = targets.find((t) => t.name === 'core bench server');
  if (core?.twin)
    list.push({ ...keyed, name: `${keyed.name} @${against.ref}`, bin: core.twin.bin, gatehouse: false });
  // All targets run at once, and an audit file has one writer: each core server gets its own.
  list.forEach((t, i) => {
    if ('BENCH_AUDIT_FILE' in t.env)
      t.env = { ...t.env, BENCH_AUDIT_FILE: join(scratch, `http-audit-${i}.jsonl`) };
  });
  const duration = options.quick ? 1 : 5;
  const reps = options.quick ? 1 : 5;
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  // Every target is started and probed first; then the rounds interleave them, so the machine's
  // drift hits all alike.
  const live: Array<{ t: HttpTarget; url: string; child: ChildProcess }> = [];
  try {
    for (const t of list) {
      const up = await listen(t);
      if ('error' in up) {
        rows.push({
          subject: t.name,
          metric: 'requests/s',
          value: `unavailable (${up.error})`,
          verdict: 'INFO',
        });
        data[t.name] = { unavailable: up.error };
        continue;
      }
      const probe = await fetch(up.url, {
        method: 'POST',
        headers: { ...HEADERS, ...t.headers },
        body: JSON.stringify(t.body),
      }).catch((error: Error) => error);
      const text = probe instanceof Error ? probe.message : await probe.text();
      if (probe instanceof Error || !probe.ok || !text.includes('"result"')) {
        const status = probe instanceof Error ? 'no answer' : `HTTP ${probe.status}`;
        rows.push({
          subject: t.name,
          metric: 'requests/s',
          value: `unavailable (${status}: ${text.slice(0, 120)})`,
          verdict: 'INFO',
        });
        data[t.name] = { unavailable: status };
        up.child.kill('SIGTERM');
        continue;
      }
      live.push({ t, ...up });
    }
    const samples = new Map(
      live.map(({ t }) => [
        t.name,
        { rps: [] as number[], p50: [] as number[], p99: [] as number[], failures: 0 },
      ]),
    );
    for (let rep = 0; rep < reps; rep++) {
      for (const { t, url } of live) {
        const r = await autocannon({
          url,
          method: 'POST',
          headers: { ...HEADERS, ...t.headers },
          body: JSON.stringify(t.body),
          connections: 32,
          duration,
          maxOverallRequests: options.quick ? 20_000 : 500_000,
        });
        const s = samples.get(t.name)!;
        s.rps.push(r.requests.average);
        s.p50.push(r.latency.p50);
        s.p99.push(r.latency.p99);
        s.failures += r.non2xx + r.errors + r.timeouts;
      }
    }
    const median = (name: string) => {
      const s = samples.get(name);
      return s ? summarize(s.rps).median : Number.NaN;
    };
    for (const { t } of live) {
      const { rps, p50, p99, failures } = samples.get(t.name)!;
      const s = summarize(rps);
      data[t.name] = { requestsPerSecond: s, p50: summarize(p50), p99: summarize(p99), failures };
      const ratio = s.median / median('bare SDK v2 createMcpHandler');
      rows.push({
        subject: t.name,
        metric: 'requests/s · p50 · p99 (32 connections)',
        value: `${fmt(s, 0)} · ${round(summarize(p50).median)} ms · ${round(summarize(p99).median)} ms${failures ? ` · ${failures} failed` : ''}`,
        target: t.gatehouse ? `${round(ratio, 2)}× bare createMcpHandler (≥ ${LIMIT}×)` : undefined,
        verdict: t.gatehouse ? verdict(ratio >= LIMIT && failures === 0) : 'INFO',
      });
      if (t === keyed) {
        const wire = s.median / median('raw node:http echo (ceiling)');
        rows.push({
          subject: t.name,
          metric: 'against the wire: API key, scopes and audit on, vs raw node:http echo',
          value: `${fmt(s, 0)} req/s · p99 ${round(summarize(p99).median)} ms`,
          target: `${round(wire, 2)}× raw node:http (≥ ${WIRE_LIMIT}×)`,
          verdict: verdict(wire >= WIRE_LIMIT && failures === 0),
        });
        const twin = samples.get(`${keyed.name} @${against.ref}`);
        if (twin)
          rows.push(
            abRow(t.name, 'requests/s (32 connections)', rps, twin.rps, { digits: 0, higherIsBetter: true })
              .row,
          );
      }
    }
  } finally {
    for (const { child } of live) child.kill('SIGTERM');
  }
  const ran = live.length;
  if (ran === 0)
    return {
      id: 'http',
      title: 'HTTP (Streamable HTTP, loopback)',
      status: 'skipped',
      reason: 'no HTTP target started',
      rows,
      data,
      ms: performance.now() - started,
    };
  return {
    id: 'http',
    title: 'HTTP (Streamable HTTP, loopback)',
    status: 'ran',
    rows,
    data,
    ms: performance.now() - started,
  };
}
