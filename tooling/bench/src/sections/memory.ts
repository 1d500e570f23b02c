import { setTimeout as sleep } from 'node:timers/promises';
import { drive, StdioPeer } from '../peer.ts';
import { type Options, type Row, type SectionResult, verdict } from '../report.ts';
import { makeScratch, type Target } from '../servers.ts';
import { round } from '../stats.ts';

const IDLE_LIMIT_MB = 80;
const GROWTH_LIMIT = 0.1;
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
 * tools/call with 32 in flight. Growth is measured from the idle RSS after a
 * warm-up of N/10 calls (JIT, pools and heap sized), so it shows what keeps
 * growing — a leak — rather than first-use allocation; growth from idle and
 * the peak under load (VmHWM) are reported beside it.
 */
export async function memory(targets: Target[], options: Options): Promise<SectionResult> {
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
      // The load part: the targets whose call is cheap and local-or-sandbox.
      if (!t.call || !['core bench server', 'platform-ops', 'bare SDK v2'].includes(t.name)) continue;
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
    } finally {
      await peer.close();
    }
  }
  return { id: 'memory', title: 'Memory (RSS)', status: 'ran', rows, data, ms: performance.now() - started };
}

const signed = (ratio: number) => `${ratio >= 0 ? '+' : ''}${round(ratio * 100)}%`;
