import { abRow, repsFor } from '../ab.ts';
import { StdioPeer } from '../peer.ts';
import { type Options, type Row, type SectionResult, verdict } from '../report.ts';
import { makeScratch, type Target } from '../servers.ts';
import { fmt, round, summarize } from '../stats.ts';

const LIMIT = 1.15;

/**
 * spawn → initialize result → first tools/list, one fresh process per sample,
 * targets (and, with --against, their twins from the ref) interleaved.
 */
export async function coldStart(given: Target[], options: Options): Promise<SectionResult> {
  const started = performance.now();
  const reps = repsFor(options.quick);
  const scratch = makeScratch();
  const targets = given.flatMap((t) => (t.twin ? [t, t.twin] : [t]));
  const samples = new Map<string, { init: number[]; list: number[] }>();
  for (const t of targets) samples.set(t.name, { init: [], list: [] });
  // One untimed spawn each first, so the OS file cache is warm for everyone alike.
  for (const t of targets) await sample(t, scratch).catch(() => undefined);
  for (let rep = 0; rep < reps; rep++) {
    for (const t of targets) {
      const s = await sample(t, scratch);
      samples.get(t.name)!.init.push(s.init);
      samples.get(t.name)!.list.push(s.list);
    }
  }
  const base = samples.get('bare SDK v2');
  const baseList = base ? summarize(base.list).median : Number.NaN;
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  for (const t of targets) {
    const s = samples.get(t.name)!;
    const init = summarize(s.init);
    const list = summarize(s.list);
    const ratio = list.median / baseList;
    data[t.name] = { initializeMs: init, firstToolsListMs: list, ratioToBareV2: round(ratio, 3) };
    rows.push({
      subject: t.name,
      metric: 'spawn → initialize → tools/list',
      value: `${fmt(list, 1, ' ms')}; initialize ${round(init.median)} ms`,
      target:
        t.kind === 'gatehouse' ? `${round(ratio, 2)}× bare v2 (≤ ${LIMIT}×)` : `${round(ratio, 2)}× bare v2`,
      verdict: t.kind === 'gatehouse' ? verdict(ratio <= LIMIT) : 'INFO',
    });
    if (t.twin) {
      const ab = abRow(t.name, 'spawn → initialize → tools/list', s.list, samples.get(t.twin.name)!.list, {
        unit: ' ms',
        higherIsBetter: false,
      });
      rows.push(ab.row);
      (data[t.name] as Record<string, unknown>).ab = { ref: ab.ref, ratio: round(ab.ratio, 3) };
    }
  }
  return {
    id: 'coldStart',
    title: 'Cold start (stdio)',
    status: 'ran',
    rows,
    data,
    ms: performance.now() - started,
  };
}

async function sample(t: Target, scratch: string): Promise<{ init: number; list: number }> {
  const peer = new StdioPeer(t.bin, t.env(scratch));
  try {
    await peer.initialize();
    const init = performance.now() - peer.spawnedAt;
    const list = await peer.request('tools/list', {});
    if (!list.result) throw new Error(`${t.name}: tools/list failed ${JSON.stringify(list.error)}`);
    return { init, list: performance.now() - peer.spawnedAt };
  } finally {
    await peer.close();
  }
}
