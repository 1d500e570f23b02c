import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Refusal, RefusalTally } from './refusals.ts';

const refusal = (source: string, requestId: string, errorCode = 'UNAUTHENTICATED'): Refusal => ({
  source,
  principal: { id: 'anonymous', kind: 'http' },
  kind: 'protocol',
  name: 'http',
  errorCode,
  args: { reason: 'missing' },
  requestId,
});

describe('the refusal tally', () => {
  let written: Array<{ source: string; requestId: string; errorCode: string; count: number }>;
  let tally: RefusalTally;
  beforeEach(() => {
    vi.useFakeTimers();
    written = [];
    tally = new RefusalTally(
      (r, count) => written.push({ source: r.source, requestId: r.requestId, errorCode: r.errorCode, count }),
      { intervalMs: 10_000, maxSources: 3 },
    );
  });
  afterEach(() => {
    tally.close();
    vi.useRealTimers();
  });

  it('writes the first refusal of a source at once and the rest as one count when the interval closes', () => {
    for (let i = 0; i < 500; i++) tally.count(refusal('203.0.113.7', `r${i}`));
    expect(written).toEqual([
      { source: '203.0.113.7', requestId: 'r0', errorCode: 'UNAUTHENTICATED', count: 1 },
    ]);
    vi.advanceTimersByTime(10_000);
    expect(written).toHaveLength(2);
    expect(written[1]).toMatchObject({ requestId: 'r1', count: 499 });
    // Still refused in the next interval: counted on, without a new leading record.
    for (let i = 500; i < 600; i++) tally.count(refusal('203.0.113.7', `r${i}`));
    vi.advanceTimersByTime(10_000);
    expect(written.slice(2)).toEqual([
      { source: '203.0.113.7', requestId: 'r500', errorCode: 'UNAUTHENTICATED', count: 100 },
    ]);
    // A quiet interval forgets the source; its next refusal opens a new one, written at once.
    vi.advanceTimersByTime(10_000);
    tally.count(refusal('203.0.113.7', 'again'));
    expect(written.at(-1)).toMatchObject({ requestId: 'again', count: 1 });
    expect(written.reduce((n, w) => n + w.count, 0)).toBe(601);
  });

  it('keeps sources and codes apart, folds sources past the cap into one, and writes all at close', () => {
    for (const source of ['a', 'b', 'c', 'd', 'e'])
      for (let i = 0; i < 10; i++) tally.count(refusal(source, `${source}${i}`));
    tally.count(refusal('a', 'a-origin', 'FOREIGN_ORIGIN'));
    // Three sources tracked, each written once at first; the rest share `*`, which opens silently.
    expect(written.map((w) => w.source)).toEqual(['a', 'b', 'c']);
    tally.close();
    const bySource = new Map<string, number>();
    for (const w of written)
      bySource.set(`${w.source}/${w.errorCode}`, (bySource.get(`${w.source}/${w.errorCode}`) ?? 0) + w.count);
    expect(Object.fromEntries(bySource)).toEqual({
      'a/UNAUTHENTICATED': 10,
      'b/UNAUTHENTICATED': 10,
      'c/UNAUTHENTICATED': 10,
      '*/UNAUTHENTICATED': 20,
      '*/FOREIGN_ORIGIN': 1,
    });
    expect(vi.getTimerCount()).toBe(0);
  });
});
