/**
 * Node.js checked first: every binary of the workspace (each server found in it, and the sandbox)
 * starts from dist/bin.js, a few lines that compare the running Node.js with the package's
 * `engines.node` before loading the bundle. On an older Node.js (the machine's own, outside the
 * project's toolchain) each answers one line naming the version it needs and the one it found, and
 * exits 2: no stack trace, no half-started server.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { repoRoot, servers, workspacePackages } from '@gatehouse/workspace';
import { describe, expect, it } from 'vitest';
import { nodeGuard } from '../tooling/config/node-guard.ts';

/** A Node.js older than 22 on this machine (PATH and the usual places), or undefined. */
function olderNode(): { path: string; version: string } | undefined {
  const candidates = new Set(
    [
      ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'node')),
      '/usr/bin/node',
      '/usr/local/bin/node',
    ].filter((path) => path !== process.execPath && existsSync(path)),
  );
  for (const path of candidates) {
    try {
      const version = execFileSync(path, ['-p', 'process.versions.node'], {
        encoding: 'utf8',
        timeout: 10_000,
      }).trim();
      if (Number(version.split('.')[0]) < 22) return { path, version };
    } catch {
      // Not a runnable Node.js.
    }
  }
  return undefined;
}

const old = olderNode();
const sandbox = workspacePackages(repoRoot).find((p) => p.relativeDir === 'tooling/sandbox')!;
const BINARIES = [
  ...servers().map((s) => ({ command: s.command, bin: s.bin })),
  { command: 'gatehouse-sandbox', bin: join(sandbox.dir, sandbox.json.bin!['gatehouse-sandbox']!) },
];

it('finds every server and the sandbox, each built', () => {
  expect(BINARIES.length).toBeGreaterThan(1);
  for (const { bin } of BINARIES) expect(existsSync(bin), `${bin}: run pnpm build`).toBe(true);
});

if (!old) console.warn('node-version.e2e: skipped, no Node.js older than 22 on this machine');
describe.skipIf(!old)(`on an older Node.js (${old?.version ?? 'none'})`, () => {
  for (const { command, bin } of BINARIES)
    for (const args of [[], ['--help'], ['--transport', 'http', '--no-auth']])
      it(`${command} ${args.join(' ')}: one line naming the version needed and the one found, exit 2`, () => {
        const run = spawnSync(old!.path, [bin, ...args], {
          encoding: 'utf8',
          timeout: 20_000,
          env: { PATH: process.env.PATH ?? '' },
        });
        expect(run.status).toBe(2);
        expect(run.stdout).toBe('');
        expect(run.stderr).toBe(
          `${command}: needs Node.js 22.13.0 or newer; this is Node.js ${old!.version} (${old!.path})\n`,
        );
        expect(run.stderr).not.toMatch(/\bat |Error|node:internal/);
      });
});

describe('the entry itself', () => {
  const dir = mkdtempSync(join(tmpdir(), 'node-guard-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(
    join(dir, 'main.js'),
    "process.stdout.write('bundle loaded ' + process.argv.slice(2).join(' '));\n",
  );

  it('loads the bundle, arguments intact, when the Node.js is new enough', () => {
    writeFileSync(
      join(dir, 'bin.js'),
      nodeGuard({ bin: 'x-mcp', minimum: [22, 13, 0], bundle: './main.js' }),
    );
    const run = spawnSync(process.execPath, [join(dir, 'bin.js'), '--transport', 'http'], {
      encoding: 'utf8',
    });
    expect(run).toMatchObject({ status: 0, stdout: 'bundle loaded --transport http', stderr: '' });
  });

  it.each([
    [[99, 0, 0]],
    [[Number(process.versions.node.split('.')[0]), 99, 0]],
    [[...process.versions.node.split('.').slice(0, 2).map(Number), 999] as [number, number, number]],
  ])('refuses a Node.js older than %j in one line without loading the bundle', (minimum) => {
    writeFileSync(
      join(dir, 'bin.js'),
      nodeGuard({ bin: 'x-mcp', minimum: minimum as [number, number, number], bundle: './main.js' }),
    );
    const run = spawnSync(process.execPath, [join(dir, 'bin.js')], { encoding: 'utf8' });
    expect(run).toMatchObject({
      status: 2,
      stdout: '',
      stderr: `x-mcp: needs Node.js ${minimum.join('.')} or newer; this is Node.js ${process.versions.node} (${process.execPath})\n`,
    });
  });
});
