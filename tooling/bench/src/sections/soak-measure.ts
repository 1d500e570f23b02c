/**
 * What the soak measures of the server beside its answers: open descriptors,
 * RSS, its stderr and exit, a healthy call once the faults are gone, and the
 * tool call records in its audit file.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StdioPeer } from '../peer.ts';
import { type FaultPhases, SOAK_ENV } from './soak-faults.ts';
import { tallyIn } from './soak-load.ts';

/** Open descriptors by kind, and in all. */
export interface Fds {
  total: number;
  byKind: Record<string, number>;
}

/** The server's open descriptors by kind (socket, pipe, anon_inode, file), or undefined without /proc. */
export function openFds(pid: number): Fds | undefined {
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

export function rssOf(peer: StdioPeer): number {
  try {
    return peer.rss();
  } catch {
    return Number.NaN;
  }
}

/** Samples the server's RSS into `series` while the soak runs. */
export async function sampleRss(
  peer: StdioPeer,
  phases: FaultPhases,
  series: number[],
  everyMs: number,
): Promise<void> {
  while (phases.running) {
    series.push(rssOf(peer));
    await sleep(everyMs);
  }
}

/**
 * Settle: keep-alive sockets idle out; the count is sampled until it is back to where it was (bounded),
 * and the verdict allows the slack.
 */
export async function settleFds(
  pid: number,
  fdBefore: Fds | undefined,
  fdRightAfter: Fds | undefined,
  settleMs: number,
): Promise<Fds | undefined> {
  let fdAfter = fdRightAfter;
  const settleUntil = performance.now() + settleMs;
  while (fdBefore && fdAfter && fdAfter.total > fdBefore.total && performance.now() < settleUntil) {
    await sleep(250);
    fdAfter = openFds(pid);
  }
  return fdAfter;
}

/** What the server wrote to stderr, and how it exited, if it did. */
export interface ProcessWatch {
  /** Circuit state changes, by the phase they happened in. */
  circuitByPhase: Record<string, Record<string, number>>;
  /** The first few "unhandled"/"uncaught" lines. */
  unhandled: string[];
  unhandledLines: number;
  stderrBytes: number;
  exit?: { code: number | null; signal: string | null };
}

/** Watches the server's stderr and exit, counting circuit changes under the phase of `phases`. */
export function watchProcess(peer: StdioPeer, phases: FaultPhases): ProcessWatch {
  const watch: ProcessWatch = { circuitByPhase: {}, unhandled: [], unhandledLines: 0, stderrBytes: 0 };
  // Scans all of stderr (the peer keeps only its first 200 KB), across chunk boundaries.
  let carry = '';
  peer.child.stderr.on('data', (chunk: Buffer) => {
    watch.stderrBytes += chunk.length;
    const lines = (carry + chunk.toString('utf8')).split('\n');
    carry = (lines.pop() ?? '').slice(-65_536);
    for (const line of lines) {
      if (/unhandled|uncaught/i.test(line)) {
        watch.unhandledLines += 1;
        if (watch.unhandled.length < 3) watch.unhandled.push(line.slice(0, 300));
      }
      const circuit = /"circuit":"([a-z-]+)"/.exec(line)?.[1];
      if (circuit && line.includes('circuit state changed'))
        tallyIn(watch.circuitByPhase, phases.name, circuit);
    }
  });
  peer.child.once('exit', (code, signal) => {
    watch.exit = { code, signal };
  });
  return watch;
}

/**
 * Still serving once the faults are gone: after the breaker's cooldown, a healthy call answers ok
 * (a few tries, since a circuit that opened at the very end waits for its half-open probe).
 * Returns each try's outcome; the last is 'ok' if it answered.
 */
export async function probeAfterSoak(peer: StdioPeer): Promise<string[]> {
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
  return probes;
}

/** The audit file's tool call records, counted. */
export interface AuditCalls {
  total: number;
  byCode: Record<string, number>;
  maxDurationMs: Record<string, number>;
  unparsed: number;
}

/** Tool `event:"call"` records in the audit file by error code ('ok' for none), the longest `durationMs` of each, and lines that did not parse. */
function readToolCalls(file: string): AuditCalls {
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

/** The audit is written in batches per tick; wait (bounded) until it has caught up. */
export async function awaitAudit(file: string, calls: number): Promise<AuditCalls> {
  let audit = readToolCalls(file);
  for (let n = 0; audit.total < calls && n < 20; n++) {
    await sleep(100);
    audit = readToolCalls(file);
  }
  return audit;
}
