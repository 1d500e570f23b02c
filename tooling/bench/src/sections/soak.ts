import { setTimeout as sleep } from 'node:timers/promises';
import { type Sandbox, sandboxControl } from '@gatehouse/sandbox';
import { StdioPeer } from '../peer.ts';
import type { Options, SectionResult } from '../report.ts';
import { makeScratch, type Target } from '../servers.ts';
import { FaultPhases, SOAK_ENV } from './soak-faults.ts';
import { type LoadRun, soakLoad } from './soak-load.ts';
import {
  awaitAudit,
  openFds,
  probeAfterSoak,
  rssOf,
  sampleRss,
  settleFds,
  watchProcess,
} from './soak-measure.ts';
import { soakReport } from './soak-report.ts';

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
  const phases = new FaultPhases(control, maxMs, phaseMs);
  const watch = watchProcess(peer, phases);
  const load = soakLoad(peer, phases);

  let report: ReturnType<typeof soakReport>;
  try {
    await peer.initialize();
    await peer.request('tools/list', {});
    // Warm-up without faults: JIT, the connection pool to the sandbox, the audit file.
    await load.run(0, warmCalls, 10_000);
    // Full runs wait for the pool's idle keep-alive sockets to close (about 4 s against the sandbox), so
    // before and after both count none and a leaked socket shows; quick runs count them both times.
    await sleep(options.quick ? 200 : 5_000);
    const rssBefore = rssOf(peer);
    const fdBefore = openFds(peer.pid);

    await phases.start();
    // RSS through the soak, to tell a plateau from steady growth.
    const rssSeries: number[] = [];
    const sampler = sampleRss(peer, phases, rssSeries, options.quick ? 250 : 2_000);
    let r: LoadRun;
    try {
      r = await load.run(warmCalls, total, maxMs);
    } finally {
      await Promise.all([phases.stop(), sampler]);
      await control.clearFaults();
    }
    phases.set('after');
    const rssAfter = rssOf(peer);
    const fdRightAfter = openFds(peer.pid);
    const fdAfter = await settleFds(peer.pid, fdBefore, fdRightAfter, settleMs);
    const probes = await probeAfterSoak(peer);
    const rssSettled = rssOf(peer);
    const calls = load.tallies.sent + probes.length;
    const audit = await awaitAudit(auditFile ?? '', calls);

    report = soakReport({
      total,
      warmCalls,
      phaseMs,
      run: r,
      load: load.tallies,
      process: watch,
      phases: phases.log.length,
      rss: { before: rssBefore, series: rssSeries, after: rssAfter, settled: rssSettled },
      fds: { before: fdBefore, rightAfter: fdRightAfter, settled: fdAfter },
      probes,
      calls,
      audit,
    });
  } finally {
    phases.stopped = true;
    await control.clearFaults().catch(() => undefined);
    await peer.close();
  }
  return { id: 'soak', title, status: 'ran', ...report, ms: performance.now() - started };
}
