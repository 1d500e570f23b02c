/** Small, dependency-free statistics for repeated measurements. */

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Median of repeated runs with the spread shown as the interquartile range (and min..max kept). */
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  /** First and third quartiles: half the samples lie between them. */
  q1: number;
  q3: number;
  /** (q3 - q1) / median */
  spread: number;
}

export function summarize(values: readonly number[]): Summary {
  const m = median(values);
  const q1 = quantile(values, 0.25);
  const q3 = quantile(values, 0.75);
  return {
    n: values.length,
    median: m,
    min: Math.min(...values),
    max: Math.max(...values),
    q1,
    q3,
    spread: m === 0 ? 0 : (q3 - q1) / m,
  };
}

export const round = (value: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/** `median (IQR q1–q3, n=…)`; a single sample shows as just its value. */
export const fmt = (s: Summary, digits = 1, unit = ''): string =>
  s.n <= 1
    ? `${round(s.median, digits)}${unit}`
    : `${round(s.median, digits)}${unit} (IQR ${round(s.q1, digits)}–${round(s.q3, digits)}, n=${s.n})`;
