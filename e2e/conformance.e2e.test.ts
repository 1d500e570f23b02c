/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance, its
 * `server` mode) against each built server found in the workspace, over its Streamable HTTP endpoint
 * (`--no-auth` on loopback, the sandbox as upstream), stateless and with
 * sessions, once per protocol revision the suite scores. Generic scenarios
 * must pass; those that need the suite's own fixtures are listed, with
 * reasons, in deploy/conformance/expected-failures.yaml and must fail (the
 * CLI reports stale entries), so the list cannot rot.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HttpChild, spawnHttp } from '@gatehouse/core/testing';
import { type Sandbox, startSandbox } from '@gatehouse/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { type E2eServer, repoRoot, SERVERS } from './src/servers.ts';

const BASELINE = join(repoRoot, 'deploy/conformance/expected-failures.yaml');
const REVISIONS = ['2025-06-18', '2025-11-25'] as const;
const MODES = ['stateless', 'sessions'] as const;
type Mode = (typeof MODES)[number];

function cliPath(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('@modelcontextprotocol/conformance/package.json');
    const bin = join(pkg, '..', 'dist/index.js');
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}
const CLI = cliPath();
if (!CLI) console.warn('conformance.e2e.test.ts skipped: @modelcontextprotocol/conformance is not installed');

function run(args: string[], timeoutMs: number) {
  return new Promise<{ code: number | null; out: string }>((done) => {
    execFile(
      process.execPath,
      [CLI!, ...args],
      {
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
      },
      (error, stdout, stderr) =>
        done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
}

/** scenario → its checks, from the suite's output directory. */
function results(dir: string): Map<string, Check[]> {
  const out = new Map<string, Check[]>();
  for (const entry of existsSync(dir) ? readdirSync(dir) : []) {
    const scenario = /^server-(.+)-\d{4}-\d\d-\d\dT/.exec(entry)?.[1];
    const file = join(dir, entry, 'checks.json');
    if (scenario && existsSync(file)) out.set(scenario, JSON.parse(readFileSync(file, 'utf8')));
  }
  return out;
}

function spawnServer(server: E2eServer, mode: Mode, sandbox: Sandbox): Promise<HttpChild> {
  const p = server.prefix;
  return spawnHttp(
    server.bin,
    {
      ...server.inputs.env,
      [`${p}_API_URL`]: sandbox.url,
      [`${p}_API_TOKEN`]: sandbox.tokens[server.name],
      [`${p}_HTTP_SESSIONS`]: mode === 'sessions' ? '1' : '0',
      [`${p}_LOG_LEVEL`]: 'warn',
    },
    ['--no-auth'],
  );
}

describe.skipIf(!CLI)('MCP conformance suite, server mode', () => {
  let sandbox: Sandbox;
  let dir: string;
  const servers = new Map<string, HttpChild>();
  const baseline = parse(readFileSync(BASELINE, 'utf8')) as {
    server: string[];
    gatehouse: Record<string, string[]>;
  };
  const notApplicable = (server: string, mode: Mode) => [
    ...baseline.server,
    ...(baseline.gatehouse[mode] ?? []),
    ...(baseline.gatehouse[server] ?? []),
  ];
  const scenariosOf = new Map<string, string[]>();

  beforeAll(async () => {
    sandbox = await startSandbox();
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-conformance-'));
    await Promise.all(
      SERVERS.flatMap((server) =>
        MODES.map(async (mode) =>
          servers.set(`${server.name}/${mode}`, await spawnServer(server, mode, sandbox)),
        ),
      ),
    );
    for (const revision of REVISIONS) {
      const listed = await run(['list', '--server', '--spec-version', revision], 20_000);
      scenariosOf.set(
        revision,
        [...listed.out.matchAll(/^\s+- (\S+) \[/gm)].map((m) => m[1]!),
      );
    }
  });
  afterAll(async () => {
    await Promise.all([...servers.values()].map((server) => server.stop('SIGKILL')));
    await sandbox?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('scores both revisions, and names nothing in the baseline that the suite does not have', () => {
    const all = new Set(REVISIONS.flatMap((r) => scenariosOf.get(r) ?? []));
    expect(all.size).toBeGreaterThan(20);
    const listed = [...baseline.server, ...Object.values(baseline.gatehouse).flat()];
    expect(listed.filter((s) => !all.has(s))).toEqual([]);
    // The protocol itself is never excused, for any server or mode.
    for (const generic of ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection'])
      expect(listed).not.toContain(generic);
  });

  describe.each(MODES)('%s', (mode) => {
    it.each(REVISIONS)(
      'every server passes every generic scenario of %s',
      async (revision) => {
        await Promise.all(
          SERVERS.map(async ({ name: server }) => {
            const expected = notApplicable(server, mode);
            const file = join(dir, `expected-${server}-${mode}.yaml`);
            writeFileSync(file, stringify({ server: expected }));
            const out = join(dir, `${server}-${mode}-${revision}`);
            const { url } = servers.get(`${server}/${mode}`)!;
            const result = await run(
              ['server', '--url', url, '--spec-version', revision, '--expected-failures', file, '-o', out],
              40_000,
            );
            const checks = results(out);
            const pending = baseline.gatehouse.pending ?? [];
            const generic = (scenariosOf.get(revision) ?? []).filter(
              (s) => !expected.includes(s) && !pending.includes(s),
            );
            expect(generic.length, `${server}: generic scenarios in ${revision}`).toBeGreaterThanOrEqual(3);
            for (const scenario of generic) {
              const list = checks.get(scenario) ?? [];
              const label = `${server} (${mode}) ${revision} ${scenario}`;
              expect(
                list.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING'),
                label,
              ).toEqual([]);
              expect(
                list.some((c) => c.status === 'SUCCESS'),
                `${label} passed a check`,
              ).toBe(true);
            }
            // The CLI's own verdict against the baseline: no unexpected failure, no stale entry.
            expect(result.code, `${server} (${mode}) ${revision}: ${result.out.slice(-2000)}`).toBe(0);
          }),
        );
      },
      60_000,
    );
  });
});
