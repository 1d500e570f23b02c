import type { Row } from './report.ts';
import { fmt, round, type Summary, summarize } from './stats.ts';

/** The ref named by `--against`, or undefined for a plain run; set once by run.ts. */
export const against: { ref: string | undefined } = { ref: undefined };

/** `--reps N`, when given: overrides the repetitions of the repeated sections (a shorter look on a busy machine). */
export const repsOverride: { value: number | undefined } = { value: undefined };

/** Repetitions per figure: n ≥ 15 in a full run (the floor for an A/B verdict), one in --quick (a smoke run). */
export const repsFor = (quick: boolean): number => repsOverride.value ?? (quick ? 1 : 15);

/**
 * The A/B row for one figure: the working tree's samples beside the ref's,
 * both as median (IQR), and their ratio. `higherIsBetter` says which way the
 * ratio reads (throughput: work/ref; latency or time: ref/work), so > 1 is
 * always "the working tree is faster".
 */
export function abRow(
  subject: string,
  metric: string,
  work: readonly number[],
  ref: readonly number[],
  options: { digits?: number; unit?: string; higherIsBetter: boolean },
): { row: Row; work: Summary; ref: Summary; ratio: number } {
  const w = summarize(work);
  const r = summarize(ref);
  const ratio = options.higherIsBetter ? w.median / r.median : r.median / w.median;
  return {
    work: w,
    ref: r,
    ratio,
    row: {
      subject: `${subject} — A/B vs ${against.ref}`,
      metric,
      value: `working tree ${fmt(w, options.digits ?? 1, options.unit ?? '')} · ${against.ref} ${fmt(r, options.digits ?? 1, options.unit ?? '')}`,
      target: `${round(ratio, 2)}× ${against.ref} (> 1 = faster)`,
      verdict: 'INFO',
    },
  };
}
