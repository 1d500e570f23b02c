import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { SECTIONS } from '../src/report.ts';

const run = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), 'gatehouse-bench-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

// Keeps `pnpm bench` working. It never asserts a timing: a loaded CI machine
// may MISS a target, and that is the bench's report, not a test failure.
describe('pnpm bench --quick', () => {
  // Quick mode takes ~45 s alone and over 90 s beside the rest of the suite on 2 cores; the timeout
  // only catches a hang.
  it('writes the Markdown table and the JSON with every section present', { timeout: 300_000 }, async () => {
    const { stdout } = await run(
      process.execPath,
      [resolve(import.meta.dirname, '../src/run.ts'), '--quick', '--out', out],
      { maxBuffer: 16 * 1024 * 1024, timeout: 290_000 },
    );
    expect(stdout).toContain('wrote');
    const json = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')) as {
      quick: boolean;
      sections: Array<{ id: string; status: string; reason?: string; rows: Array<{ verdict: string }> }>;
    };
    expect(json.quick).toBe(true);
    expect(json.sections.map((s) => s.id)).toEqual(SECTIONS);
    for (const section of json.sections) {
      // A section may skip only for a stated reason (a server not built, HTTP not available).
      if (section.status === 'skipped') expect(section.reason).toBeTruthy();
      else expect(section.rows.length).toBeGreaterThan(0);
      for (const row of section.rows) expect(['PASS', 'MISS', 'INFO']).toContain(row.verdict);
    }
    // The sections that need nothing but this package and platform-ops always run.
    for (const id of ['coldStart', 'overhead', 'memory', 'context', 'soak'])
      expect(json.sections.find((s) => s.id === id)?.status).toBe('ran');
    const md = readFileSync(join(out, 'bench.md'), 'utf8');
    for (const title of [
      'Cold start',
      'Core overhead',
      'Memory',
      'Context cost',
      'Token budgets per tool',
      'HTTP',
      'Docs search',
      'Soak',
      'Upstream identity',
    ])
      expect(md).toContain(`## ${title}`);
    expect(md).toMatch(/\| (PASS|MISS) \|/);
  });

  it('refuses an unknown --only section instead of running nothing', async () => {
    const failed = await run(
      process.execPath,
      [resolve(import.meta.dirname, '../src/run.ts'), '--only', 'coldstart-typo'],
      {
        timeout: 20_000,
      },
    ).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain('coldStart');
  });
});
