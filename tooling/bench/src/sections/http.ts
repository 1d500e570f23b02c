import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { targetBin } from '../build.ts';
import { type Options, type Row, type SectionResult, verdict } from '../report.ts';
import { makeScratch, REPO, type Target } from '../servers.ts';
import { fmt, round, summarize } from '../stats.ts';

/** The issue's target: three times the SDK's per-request handler, with auth, policy and audit on. */
const LIMIT = 3;

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
  const duration = options.quick ? 1 : 10;
  const reps = options.quick ? 1 : 3;
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  const perSecond = new Map<string, number[]>();
  let ran = 0;
  for (const t of list) {
    const started = await listen(t);
    if ('error' in started) {
      rows.push({
        subject: t.name,
        metric: 'requests/s',
        value: `unavailable (${started.error})`,
        verdict: 'INFO',
      });
      data[t.name] = { unavailable: started.error };
      continue;
    }
    try {
      const probe = await fetch(started.url, {
        method: 'POST',
        headers: { ...HEADERS, ...t.headers },
        body: JSON.stringify(t.body),
      });
      const text = await probe.text();
      if (!probe.ok || !text.includes('"result"')) {
        rows.push({
          subject: t.name,
          metric: 'requests/s',
          value: `unavailable (HTTP ${probe.status}: ${text.slice(0, 120)})`,
          verdict: 'INFO',
        });
        data[t.name] = { unavailable: `HTTP ${probe.status}` };
        continue;
      }
      const rps: number[] = [];
      const p50: number[] = [];
      const p99: number[] = [];
      let failures = 0;
      for (let rep = 0; rep < reps; rep++) {
        const r = await autocannon({
          url: started.url,
          method: 'POST',
          headers: { ...HEADERS, ...t.headers },
          body: JSON.stringify(t.body),
          connections: 32,
          duration,
          maxOverallRequests: options.quick ? 20_000 : 500_000,
        });
        rps.push(r.requests.average);
        p50.push(r.latency.p50);
        p99.push(r.latency.p99);
        failures += r.non2xx + r.errors + r.timeouts;
      }
      ran += 1;
      perSecond.set(t.name, rps);
      const s = summarize(rps);
      data[t.name] = { requestsPerSecond: s, p50: summarize(p50), p99: summarize(p99), failures };
      const bare = perSecond.get('bare SDK v2 createMcpHandler');
      const ratio = bare ? s.median / summarize(bare).median : Number.NaN;
      rows.push({
        subject: t.name,
        metric: 'requests/s · p50 · p99 (32 connections)',
        value: `${fmt(s, 0)} · ${round(summarize(p50).median)} ms · ${round(summarize(p99).median)} ms${failures ? ` · ${failures} failed` : ''}`,
        target: t.gatehouse ? `${round(ratio, 2)}× bare createMcpHandler (≥ ${LIMIT}×)` : undefined,
        verdict: t.gatehouse ? verdict(ratio >= LIMIT && failures === 0) : 'INFO',
      });
    } finally {
      started.child.kill('SIGTERM');
    }
  }
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
