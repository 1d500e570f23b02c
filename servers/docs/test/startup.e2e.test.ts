/**
 * What only the real process shows: exit codes and the one stderr line of a refused start-up, and
 * --help. How the server answers with one source, both, or a broken index is tested in-process
 * (src/library.test.ts).
 */
import { spawn } from 'node:child_process';
import { childEnv } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { BIN, fileHarness } from './harness.ts';

const h = fileHarness();

function run(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: childEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the server did not exit'));
    }, 10_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end();
  });
}

describe('start-up', () => {
  it('refuses to start with neither source: exit code 2 and one line on stderr', async () => {
    const { code, stdout, stderr } = await run({});
    expect(code).toBe(2);
    expect(stdout).toBe('');
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^docs-mcp: .*DOCS_ROOT.*DOCS_API_URL/);
  });

  it('refuses a DOCS_ROOT that is not a folder, and a URL without a token', async () => {
    const missing = await run({ DOCS_ROOT: '/definitely/not/here' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^docs-mcp: DOCS_ROOT is invalid/);
    const half = await run({ DOCS_API_URL: h.sandbox.url });
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/DOCS_API_TOKEN is required/);
  });

  it('refuses a DOCS_INDEX_PATH in a folder that does not exist, or that is a folder', async () => {
    const root = h.handbook('index-path-checks');
    const nowhere = await run({ DOCS_ROOT: root, DOCS_INDEX_PATH: '/definitely/not/here/index.sqlite' });
    expect(nowhere.code).toBe(2);
    expect(nowhere.stdout).toBe('');
    expect(nowhere.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(nowhere.stderr).toMatch(/^docs-mcp: DOCS_INDEX_PATH is invalid/);
    const folder = await run({ DOCS_ROOT: root, DOCS_INDEX_PATH: root });
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/^docs-mcp: DOCS_INDEX_PATH is invalid/);
  });

  it('--help documents the docs variables and the scope', async () => {
    const { code, stdout } = await run({}, ['--help']);
    expect(code).toBe(0);
    for (const name of [
      'DOCS_ROOT',
      'DOCS_API_URL',
      'DOCS_API_TOKEN',
      'DOCS_INDEX_PATH',
      'DOCS_INDEX_WAIT_MS',
      'docs:read',
    ])
      expect(stdout).toContain(name);
  });
});
