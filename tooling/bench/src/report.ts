export type Verdict = 'PASS' | 'MISS' | 'INFO';

/** Every section of `pnpm bench`, in the order it runs them (run.ts) and reports them. */
export const SECTIONS = [
  'coldStart',
  'overhead',
  'memory',
  'context',
  'tokens',
  'http',
  'docsSearch',
  'soak',
  'exchange',
] as const;

export interface Row {
  /** What was measured (server, mode). */
  subject: string;
  metric: string;
  /** The measured value as shown (median with spread where repeated). */
  value: string;
  /** The value the verdict is about (e.g. a ratio), as shown. */
  target?: string;
  verdict: Verdict;
}

export interface SectionResult {
  id: string;
  title: string;
  status: 'ran' | 'skipped';
  reason?: string;
  rows: Row[];
  data: Record<string, unknown>;
  ms: number;
}

export interface Options {
  quick: boolean;
  /** Docs search corpus sizes (`--docs-sizes 10000,100000`); the mode's default when absent. */
  docsSizes?: number[] | undefined;
}

export const verdict = (ok: boolean): Verdict => (ok ? 'PASS' : 'MISS');

export function markdown(
  results: SectionResult[],
  meta: {
    quick: boolean;
    against: { ref: string; sha: string } | null;
    node: string;
    cpus: number;
    at: string;
  },
): string {
  const lines = [
    `# Gatehouse bench (${meta.quick ? 'quick' : 'full'})`,
    '',
    `${meta.at} · Node ${meta.node} · ${meta.cpus} CPUs · every ratio is against a baseline started in the same run. Values are medians with their interquartile range (IQR) over n runs.${meta.against ? ` A/B rows compare the working tree with ${meta.against.ref} (${meta.against.sha.slice(0, 10)}), samples interleaved.` : ''}`,
    '',
  ];
  for (const section of results) {
    lines.push(`## ${section.title}`, '');
    if (section.status === 'skipped') {
      lines.push(`Skipped: ${section.reason ?? 'not available'}.`, '');
      continue;
    }
    lines.push('| subject | metric | value | target | verdict |', '| --- | --- | --- | --- | --- |');
    for (const row of section.rows)
      lines.push(
        `| ${row.subject} | ${row.metric} | ${row.value} | ${row.target ?? ''} | ${row.verdict === 'INFO' ? '' : row.verdict} |`,
      );
    lines.push('');
  }
  return lines.join('\n');
}
