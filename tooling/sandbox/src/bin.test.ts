import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverDomains } from './discover.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
// Prefer the built binary; fall back to Node's native type stripping when `dist/` is absent.
const entry = existsSync(built)
  ? [built]
  : ['--experimental-strip-types', fileURLToPath(new URL('./bin.ts', import.meta.url))];

interface Started {
  child: ChildProcessWithoutNullStreams;
  line: { url: string; tokens: Record<string, string>; controlToken: string };
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function run(
  args: string[],
  env: Record<string, string> = {},
): {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: 'pipe',
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function start(args: string[] = [], env: Record<string, string> = {}): Promise<Started> {
  const proc = run(args, env);
  const deadline = Date.now() + 15_000;
  while (!proc.stdout().includes('\n')) {
    if (Date.now() > deadline || proc.child.exitCode !== null)
      throw new Error(`sandbox did not start: ${proc.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { ...proc, line: JSON.parse(proc.stdout().split('\n')[0]!) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describe('gatehouse-sandbox binary', () => {
  it('prints exactly one JSON line, serves requests and exits cleanly on SIGTERM', async () => {
    const s = await start();
    expect(Object.keys(s.line)).toEqual(['url', 'tokens', 'controlToken']);
    expect(s.line.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // One token per server with a sandbox fragment, in folder-name order.
    expect(Object.keys(s.line.tokens)).toEqual((await discoverDomains()).map((d) => d.name));
    expect(Object.keys(s.line.tokens)).toEqual(expect.arrayContaining(['platform-ops', 'docs', 'support']));
    const res = await fetch(`${s.line.url}/platform/v1/services?limit=1`, {
      headers: { authorization: `Bearer ${s.line.tokens['platform-ops']}` },
    });
    expect(res.status).toBe(200);
    await res.text();
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(0);
    const lines = s.stdout().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    expect(s.stderr()).not.toMatch(/ExperimentalWarning/);
  });

  it('exits on SIGINT too, and logs only to stderr with --verbose', async () => {
    const s = await start(['--verbose']);
    await (await fetch(`${s.line.url}/healthz`)).text();
    s.child.kill('SIGINT');
    expect(await s.exit).toBe(0);
    expect(s.stdout().trim().split('\n')).toHaveLength(1);
    expect(s.stderr()).toContain('/healthz');
    for (const t of [...Object.values(s.line.tokens), s.line.controlToken])
      expect(s.stderr()).not.toContain(t);
  });

  it('takes port and tokens from the environment', async () => {
    const port = await freePort();
    const s = await start([], {
      SANDBOX_PORT: String(port),
      SANDBOX_TOKEN_PLATFORM_OPS: 'ops-env',
      SANDBOX_TOKEN_DOCS: 'docs-env',
      SANDBOX_TOKEN_SUPPORT: 'sup-env',
      SANDBOX_CONTROL_TOKEN: 'ctl-env',
    });
    // Other servers' domains (if any) get generated tokens.
    expect(s.line).toMatchObject({
      url: `http://127.0.0.1:${port}`,
      tokens: { 'platform-ops': 'ops-env', docs: 'docs-env', support: 'sup-env' },
      controlToken: 'ctl-env',
    });
    expect(Object.keys(s.line)).toEqual(['url', 'tokens', 'controlToken']);
    const res = await fetch(`${s.line.url}/docs/v1/documents?limit=1`, {
      headers: { authorization: 'Bearer docs-env' },
    });
    expect(res.status).toBe(200);
    await res.text();
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(0);
  });

  it('installs global faults from --error-rate and --latency-ms', async () => {
    const s = await start(['--error-rate', '1', '--latency-ms', '150']);
    const started = performance.now();
    const res = await fetch(`${s.line.url}/healthz`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    await res.text();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(0);
  });

  it('installs a malformed-body rule from --malformed-rate', async () => {
    const s = await start(['--malformed-rate', '1']);
    const res = await fetch(`${s.line.url}/healthz`);
    await expect(res.json()).rejects.toThrow();
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(0);
  });

  it('refuses a non-loopback host and bad flags without printing to stdout', async () => {
    for (const args of [['--host', '0.0.0.0'], ['--host', 'localhost'], ['--error-rate', '2'], ['--bogus']]) {
      const p = run(args);
      expect(await p.exit, args.join(' ')).toBe(2);
      expect(p.stdout()).toBe('');
      expect(p.stderr()).toMatch(/gatehouse-sandbox:/);
    }
  });
});
