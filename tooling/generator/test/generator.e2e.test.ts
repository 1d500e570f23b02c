/**
 * `pnpm new:server <name>` in a scratch copy of this working tree, and nothing else: the change stays
 * inside servers/<name>/, the lockfile and .changeset/; the workspace's own tooling (sandbox, demo,
 * end-to-end smoke, conformance and deploy suites, bundles, release) finds the new server, and the checks
 * that read every server (sandbox contract, dependency lists) still pass; the server typechecks, builds
 * and passes its own tests; and those tests still pass once a second tool is added.
 *
 * The copy is fast: the tracked and new files (nothing ignored), a git baseline to diff against, and
 * each node_modules folder hard-linked the way pnpm links its store (package files shared, pnpm's own
 * bookkeeping copied, so nothing the copy's install writes can reach this checkout).
 */
import { type ExecFileSyncOptions, execFile, execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { validateName } from '../plopfile.js';

const repo = resolve(import.meta.dirname, '../../..');
/** A plausible domain no server of this checkout uses yet. */
const NAME = ['billing', 'ledger', 'invoicing', 'inventory'].find((n) => validateName(n) === true)!;
/** The scratch copy (made in beforeAll, so collecting this file leaves nothing behind) and the new server in it. */
let copy = '';
let DIR = '';

const timings: Array<[string, number]> = [];
async function timedAsync<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    timings.push([label, Math.round(performance.now() - started)]);
  }
}
function timed<T>(label: string, fn: () => T): T {
  const started = performance.now();
  try {
    return fn();
  } finally {
    timings.push([label, Math.round(performance.now() - started)]);
  }
}

/** pnpm as the test runner was started with (pnpm test), else from PATH. */
const pnpm = process.env.npm_execpath?.includes('pnpm')
  ? [process.execPath, process.env.npm_execpath]
  : ['pnpm'];
/** The runner's environment without vitest's own markers, so the copy's vitest runs as a top-level run. */
const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST'))),
  CI: 'true',
  NO_COLOR: '1',
  FORCE_COLOR: '0',
};
const options = (cwd: string): ExecFileSyncOptions => ({
  cwd,
  stdio: 'pipe',
  env,
  maxBuffer: 64 * 1024 * 1024,
});
/** The same, without blocking this process. Resolves with stdout; rejects with both streams. */
const runAsync = (args: string[], cwd = copy) =>
  new Promise<string>((done, fail) =>
    execFile(
      pnpm[0]!,
      [...pnpm.slice(1), ...args],
      { ...options(cwd), encoding: 'utf8' },
      (error, stdout, stderr) =>
        error ? fail(new Error(`${args.join(' ')}: ${error.message}\n${stdout}\n${stderr}`)) : done(stdout),
    ),
  );
const run = (args: string[], cwd = copy) =>
  execFileSync(pnpm[0]!, [...pnpm.slice(1), ...args], { ...options(cwd), encoding: 'utf8' }) as string;
const git = (args: string[]) =>
  execFileSync(
    'git',
    [
      '-c',
      'user.name=generator-test',
      '-c',
      'user.email=generator@test.invalid',
      '-c',
      'commit.gpgsign=false',
      ...args,
    ],
    {
      ...options(copy),
      encoding: 'utf8',
    },
  ) as string;
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI colour codes.
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

/**
 * Hard-links `from` into `to`, then replaces every file outside `.pnpm/<package>/node_modules` (pnpm's
 * bookkeeping: bin shims, state files) with a copy naming the copy's paths instead of this checkout's.
 */
function linkNodeModules(from: string, to: string) {
  execFileSync('cp', ['-al', from, to]);
  const unlink = (dir: string, packageContent: boolean) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory())
        unlink(
          path,
          packageContent || (entry.name === 'node_modules' && /[/\\]\.pnpm[/\\][^/\\]+$/.test(dir)),
        );
      else if (entry.isFile() && !packageContent) {
        const bytes = readFileSync(path);
        const text = bytes.toString('utf8');
        rmSync(path);
        writeFileSync(path, text.includes(repo) ? text.replaceAll(repo, copy) : bytes, {
          mode: statSync(path.replace(to, from)).mode,
        });
      }
    }
  };
  unlink(to, false);
}

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'gatehouse-generator-'));
  DIR = join(copy, 'servers', NAME);
  timed('scratch copy (files, node_modules links, git baseline)', () => {
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
      cwd: repo,
      encoding: 'utf8',
    })
      .split('\0')
      .filter((file) => file && existsSync(join(repo, file)));
    execSync(`tar -cf - --null -T - | tar -xf - -C ${JSON.stringify(copy)}`, {
      cwd: repo,
      input: files.join('\0'),
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    const packageDirs = [
      '.',
      ...files.filter((f) => f.endsWith('/package.json')).map((f) => f.slice(0, -'/package.json'.length)),
    ];
    for (const dir of packageDirs)
      if (existsSync(join(repo, dir, 'node_modules')))
        linkNodeModules(join(repo, dir, 'node_modules'), join(copy, dir, 'node_modules'));
    // The generator runs `pnpm generate`, which rewrites every server's generated parts: start from a
    // generated tree, so the diff below is the generator's alone even when this working tree has stale
    // README tables (a no-op on a clean checkout, where each server's README test keeps them current).
    run(['generate']);
    git(['init', '-q']);
    git(['add', '-A']);
    git(['commit', '-q', '--no-verify', '-m', 'baseline']);
  });
}, 120_000);

afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
  console.log(
    `generator e2e timings (${NAME}):\n${timings.map(([label, ms]) => `  ${(ms / 1000).toFixed(1).padStart(6)} s  ${label}`).join('\n')}`,
  );
});

it('pnpm new:server changes only servers/<name>/, the lockfile and .changeset/', () => {
  const out = plain(timed(`pnpm new:server ${NAME}`, () => run(['new:server', NAME])));
  expect(out).toContain(`servers/${NAME} is ready`);

  const changed = git(['status', '--porcelain', '--untracked-files=all'])
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(3));
  const allowed = (path: string) =>
    path.startsWith(`servers/${NAME}/`) || path === 'pnpm-lock.yaml' || path.startsWith('.changeset/');
  expect(changed.filter((path) => !allowed(path))).toEqual([]);
  expect(changed).toContain(`.changeset/new-server-${NAME}.md`);
  expect(readFileSync(join(copy, `.changeset/new-server-${NAME}.md`), 'utf8')).toContain(
    `"@gatehouse/${NAME}": minor`,
  );

  for (const file of [
    'package.json',
    'README.md',
    'server.json',
    'surface.json',
    'LICENSE',
    'tsconfig.json',
    'tsup.config.ts',
    'vitest.config.ts',
    'src/index.ts',
    'src/bin.ts',
    'src/config.ts',
    'src/context.ts',
    'src/upstream.ts',
    'src/server.test.ts',
    'src/tools/index.ts',
    'src/tools/list-items.ts',
    'src/tools/list-items.test.ts',
    'src/resources/item.ts',
    'src/resources/item.test.ts',
    'src/prompts/review-items.ts',
    'src/prompts/review-items.test.ts',
    'sandbox/index.ts',
    'sandbox/openapi.yaml',
    'deploy/kustomization.yaml',
    'deploy/deployment-patch.yaml',
    'deploy/image.env',
    'test/e2e.json',
  ])
    expect(existsSync(join(DIR, file)), file).toBe(true);
  expect(changed).toContain(`servers/${NAME}/surface.json`);
  // pnpm generate's outputs are already in place: the README tables and the runtime dependency list.
  const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
  expect(readme).toContain('| `list_items` |');
  // …and the host configuration for every host, pinned to the new package's version.
  for (const host of ['claude-desktop', 'claude-code', 'vscode', 'cursor'])
    expect(readme).toContain(`<!-- host: ${host} -->`);
  expect(readme).toMatch(new RegExp(`"@gatehouse/${NAME}@\\d+\\.\\d+\\.\\d+"`));
  const manifest = JSON.parse(readFileSync(join(DIR, 'package.json'), 'utf8'));
  expect(Object.keys(manifest.dependencies)).toEqual(
    expect.arrayContaining(['zod', '@modelcontextprotocol/server']),
  );
  // One defineServerTests call; nothing in the generated tests counts the tools.
  const serverTest = readFileSync(join(DIR, 'src/server.test.ts'), 'utf8');
  expect(serverTest.match(/defineServerTests\(/g)).toHaveLength(1);
}, 240_000);

it('is found by the sandbox, the demo, the e2e smoke, conformance and deploy suites, the bundles and the release', () => {
  timed('build the new server (tsup)', () => run(['--filter', `@gatehouse/${NAME}`, 'build']));
  const listed = JSON.parse(
    timed('discovery functions in the copy', () =>
      execFileSync(process.execPath, ['tooling/generator/test/listed.ts', NAME], {
        ...options(copy),
        encoding: 'utf8',
      }),
    ) as string,
  );
  for (const list of ['workspace', 'publishable', 'sandbox', 'e2e'] as const)
    expect(listed[list], list).toContain(NAME);
  expect(listed.contractPaths).toEqual([`/${NAME}/v1/items`, `/${NAME}/v1/items/{id}`]);
  expect(listed.smokeCall).toEqual({ name: 'list_items', arguments: { limit: 5 } });
  expect(listed.e2eCall).toEqual(listed.smokeCall);
  expect(listed.deployKinds).toEqual(
    [
      'ConfigMap/config',
      'Deployment/mcp',
      'HorizontalPodAutoscaler/mcp',
      'NetworkPolicy/mcp',
      'PodDisruptionBudget/mcp',
      'Service/mcp',
      'ServiceAccount/mcp',
    ]
      .map((kindName) => kindName.replace('/', `/${NAME}-`))
      .sort(),
  );
  expect(listed.serverJsonProblems).toEqual([]);
  expect(listed.bundleProblems).toEqual([]);
  // The checks that read every server still pass with it: the sandbox's contract documents exactly the
  // routes its fragments serve, and each server's dependency list is what its binary loads.
  const checks = plain(
    timed('workspace checks over every server (sandbox contract, dependency lists)', () =>
      execFileSync(
        pnpm[0]!,
        [
          ...pnpm.slice(1),
          'exec',
          'vitest',
          'run',
          '--project',
          'sandbox',
          '--project',
          'core',
          'tooling/sandbox/src/openapi.test.ts',
          'tooling/sandbox/src/domains.test.ts',
          'packages/core/src/testing/dependencies.test.ts',
        ],
        { ...options(copy), env: { ...env, GATEHOUSE_TESTS: 'fast' }, encoding: 'utf8' },
      ),
    ) as string,
  );
  expect(checks).toMatch(/Test Files\s+3 passed \(3\)/);
}, 120_000);

it('typechecks and passes its own tests (vitest run in servers/<name>)', async () => {
  // Both at once: tsc is single-threaded, and vitest spends much of its time waiting on the sandbox.
  const [, tests] = await Promise.all([
    timedAsync('tsc --noEmit (beside the tests)', () =>
      runAsync(['exec', 'tsc', '--noEmit', '-p', `servers/${NAME}`]),
    ),
    timedAsync('vitest run in servers/<name> (beside tsc)', () => runAsync(['exec', 'vitest', 'run'], DIR)),
  ]);
  const output = plain(tests);
  expect(output).toMatch(/Test Files\s+\d+ passed \(\d+\)/);
  expect(output).not.toMatch(/failed/);
  expect(Number(/Tests\s+(\d+) passed/.exec(output)?.[1])).toBeGreaterThanOrEqual(15);
}, 180_000);

it('keeps passing its tests once a second tool is added (pnpm generate, UPDATE_SURFACE=1)', () => {
  writeFileSync(
    join(DIR, 'src/tools/get-item.ts'),
    `import { identifier } from '@gatehouse/core';
import { z } from 'zod';
import { SCOPES, tool } from '../context.ts';
import { Item } from '../upstream.ts';

export default tool({
  name: 'get_item',
  toolset: 'items',
  title: 'Get an item',
  description: 'One item by id: its name, status, owner and when it last changed. Find ids with list_items.',
  effect: 'read',
  scope: SCOPES.read,
  input: z.object({ id: identifier('Item id, e.g. "item-1".', 64) }),
  output: Item,
  handler: ({ id }, ctx) => ctx.deps.api.getItem(id, ctx),
});
`,
  );
  const registry = join(DIR, 'src/tools/index.ts');
  writeFileSync(
    registry,
    `import getItem from './get-item.ts';\n${readFileSync(registry, 'utf8').replace('[listItems]', '[listItems, getItem]')}`,
  );
  const tests = plain(
    timed('second tool: generate, surface update, server + tool tests', () => {
      run(['generate']);
      execFileSync(
        pnpm[0]!,
        [
          ...pnpm.slice(1),
          'exec',
          'vitest',
          'run',
          '--project',
          NAME,
          'src/server.test.ts',
          '-t',
          'capability surface',
        ],
        {
          ...options(copy),
          env: { ...env, UPDATE_SURFACE: '1', GATEHOUSE_TESTS: 'fast' },
        },
      );
      return run(['exec', 'vitest', 'run', 'src/server.test.ts', 'src/tools'], DIR);
    }),
  );
  expect(tests).not.toMatch(/failed/);
  expect(
    JSON.parse(readFileSync(join(DIR, 'surface.json'), 'utf8')).tools.map((t: { name: string }) => t.name),
  ).toEqual(['get_item', 'list_items']);
  expect(readFileSync(join(DIR, 'README.md'), 'utf8')).toContain('| `get_item` |');
}, 180_000);

it('validates the name: no second server of the same name, no odd characters, no clash with the workspace', () => {
  expect(() => run(['new:server', NAME])).toThrow(/already exists/);
  expect(() => run(['new:server', 'Bad_Name'])).toThrow(/lower-case/);
  expect(validateName('core')).toMatch(/already a workspace package/);
  expect(validateName('control')).toMatch(/reserved/);
}, 60_000);
