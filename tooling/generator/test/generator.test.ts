import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../../..');
const copy = mkdtempSync(join(tmpdir(), 'gatehouse-generator-'));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

/** pnpm as the test runner was started with (pnpm test), else from PATH. */
const pnpm = process.env.npm_execpath?.includes('pnpm')
  ? [process.execPath, process.env.npm_execpath]
  : ['pnpm'];
const run = (args: string[], env: Record<string, string> = {}) =>
  execFileSync(pnpm[0]!, [...pnpm.slice(1), ...args], {
    cwd: copy,
    encoding: 'utf8',
    stdio: 'pipe',
    env: { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0', ...env },
  });

it('pnpm new:server creates a server that builds, typechecks and passes its own tests at once', () => {
  // A throw-away copy of the working tree (tracked and new files, nothing ignored).
  execSync(
    `git ls-files -co --exclude-standard -z | xargs -0 tar -cf - | tar -xf - -C ${JSON.stringify(copy)}`,
    { cwd: repo, stdio: 'pipe' },
  );
  run(['install', '--prefer-offline', '--frozen-lockfile']);
  const out = run(['new:server', 'billing']);
  expect(out).toContain('servers/billing is ready');

  const dir = join(copy, 'servers/billing');
  for (const file of [
    'package.json',
    'README.md',
    'surface.json',
    'src/index.ts',
    'src/config.ts',
    'src/upstream.ts',
    'src/tools/get-item.ts',
    'test/get-item.test.ts',
    'server.json',
    'LICENSE',
  ]) {
    expect(existsSync(join(dir, file)), file).toBe(true);
  }
  expect(readFileSync(join(copy, '.changeset/new-server-billing.md'), 'utf8')).toContain(
    '"@gatehouse/billing": minor',
  );
  expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('| `get_item` |');

  run(['exec', 'tsc', '--noEmit', '-p', 'servers/billing']);
  const tests = run(['exec', 'vitest', 'run', '--project', 'billing']);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI colour codes.
  expect(tests.replace(/\x1b\[[0-9;]*m/g, '')).toMatch(/Tests\s+5 passed \(5\)/);

  // The name is validated: no second server of the same name, no odd characters.
  expect(() => run(['new:server', 'billing'])).toThrow(/already exists/);
  expect(() => run(['new:server', 'Bad_Name'])).toThrow(/lower-case/);
}, 300_000);
