import { setTimeout as sleep } from 'node:timers/promises';
import { drive, StdioPeer } from '../peer.ts';
import { type Options, type Row, type SectionResult, verdict } from '../report.ts';
import { makeScratch, type Target } from '../servers.ts';
import { round } from '../stats.ts';

const IDLE_LIMIT_MB = 80;
const GROWTH_LIMIT = 0.1;
/** RSS at rest after the load, against RSS idle after start. */
const REST_LIMIT = 1.5;
const MB = 1024 * 1024;

/**
 * Quiet time before each reading: longer than the servers' default
 * <PREFIX>_IDLE_COMPACT_MS (1 s), so every reading is the RSS of a server at
 * rest — what an idle MCP server costs its host — taken the same way at all
 * three points.
 */
const SETTLE_MS = 1_600;

/**
 * RSS idle after start (initialize + tools/list), and idle again after N
 * tools/call with 32 in flight, for every target with a cheap call (each
 * server's from its test/e2e.json). Growth is measured from the idle RSS after
 * a warm-up of N/10 calls (JIT, pools and heap sized), so it shows what keeps
 * growing — a leak — rather than first-use allocation. Two more verdicts per
 * server: its peak under load (VmHWM) against the bare SDK's peak in the same
 * run, and its RSS at rest after the load against its RSS idle after start.
 * With --against, each server's twin from the ref runs right after it (INFO rows).
 */
export async function memory(given: Target[], options: Options): Promise<SectionResult> {
  const targets = given.flatMap((t) => (t.twin ? [t, t.twin] : [t]));
  let barePeak = Number.NaN;
  const started = performance.now();
  const scratch = makeScratch();
  const total = options.quick ? 600 : 100_000;
  const maxMs = options.quick ? 2_000 : 120_000;
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  for (const t of targets) {
    const peer = new StdioPeer(t.bin, t.env(scratch));
    try {
      await peer.initialize();
      await peer.request('tools/list', {});
      await sleep(options.quick ? 150 : SETTLE_MS);
      const idle = peer.rss();
      const gatehouse = t.kind === 'gatehouse';
      rows.push({
        subject: t.name,
        metric: 'RSS idle after start',
        value: `${round(idle / MB)} MB`,
        target: gatehouse ? `≤ ${IDLE_LIMIT_MB} MB` : undefined,
        verdict: gatehouse ? verdict(idle / MB <= IDLE_LIMIT_MB) : 'INFO',
      });
      const entry: Record<string, unknown> = { idleBytes: idle };
      data[t.name] = entry;
      // The load part: every target with a cheap call (local or against the sandbox).
      if (!t.call) continue;
      const { tool, args } = t.call;
      const warm = await drive(peer, () => peer.callTool(tool, args), {
        total: Math.round(total / 10),
        concurrency: 32,
        maxMs,
      });
      await sleep(options.quick ? 150 : SETTLE_MS);
      const afterWarm = peer.rss();
      const main = await drive(peer, () => peer.callTool(tool, args), { total, concurrency: 32, maxMs });
      await sleep(options.quick ? 150 : SETTLE_MS);
      const after = peer.rss();
      const peak = peer.rss('VmHWM');
      const growth = (after - afterWarm) / afterWarm;
      const fromIdle = (after - idle) / idle;
      Object.assign(entry, {
        calls: warm.done + main.done,
        errors: warm.errors + main.errors,
        afterWarmBytes: afterWarm,
        afterBytes: after,
        peakBytes: peak,
        growthAfterWarm: round(growth, 4),
        growthFromIdle: round(fromIdle, 4),
        capped: main.done < total,
      });
      rows.push({
        subject: t.name,
        metric: `RSS after ${warm.done + main.done} × ${tool}${main.done < total ? ' (time cap)' : ''}`,
        value: `${round(after / MB)} MB idle (after warm-up ${round(afterWarm / MB)} MB; ${signed(fromIdle)} from idle; peak under load ${round(peak / MB)} MB)`,
        target: gatehouse ? `${signed(growth)} after warm-up (≤ ${GROWTH_LIMIT * 100}%)` : undefined,
        verdict: gatehouse ? verdict(growth <= GROWTH_LIMIT) : 'INFO',
      });
      if (t.name === 'bare SDK v2') barePeak = peak;
      const rest = after / idle;
      rows.push(
        {
          subject: t.name,
          metric: 'peak RSS under 32 in flight',
          value: `${round(peak / MB)} MB (bare SDK v2: ${round(barePeak / MB)} MB)`,
          target: gatehouse ? `${round(peak / barePeak, 2)}× bare peak (≤ 1×)` : undefined,
          verdict: gatehouse ? verdict(peak <= barePeak) : 'INFO',
        },
        {
          subject: t.name,
          metric: 'RSS at rest after the load',
          value: `${round(after / MB)} MB (idle after start ${round(idle / MB)} MB)`,
          target: gatehouse ? `${round(rest, 2)}× idle (≤ ${REST_LIMIT}×)` : undefined,
          verdict: gatehouse ? verdict(rest <= REST_LIMIT) : 'INFO',
        },
      );
    } finally {
      await peer.close();
    }
  }
  return { id: 'memory', title: 'Memory (RSS)', status: 'ran', rows, data, ms: performance.now() - started };
}

const signed = (ratio: number) => `${ratio >= 0 ? '+' : ''}${round(ratio * 100)}%`;
