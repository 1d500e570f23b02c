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

/** Median of repeated runs with the spread shown as min..max and the relative spread. */
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  /** (max - min) / median */
  spread: number;
}

export function summarize(values: readonly number[]): Summary {
  const m = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { n: values.length, median: m, min, max, spread: m === 0 ? 0 : (max - min) / m };
}

export const round = (value: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

export const fmt = (s: Summary, digits = 1, unit = ''): string =>
  `${round(s.median, digits)}${unit} (${round(s.min, digits)}–${round(s.max, digits)}, n=${s.n})`;
