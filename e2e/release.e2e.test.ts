/**
 * The release, end to end: a real npm registry (Verdaccio) on 127.0.0.1, the
 * release command run in a throw-away copy of the repository, then a team's
 * install from that registry — npm install, npx, a global install — driven
 * through the SDK client against the sandbox; then a second release with one
 * changeset, which publishes that package only. Before that, the release's pre-flight: a registry
 * that does not answer, a token it refuses and a scope mapped nowhere each stop the release with one
 * line before it versions or builds anything, and `--dry-run` does the rest without publishing.
 */
import { execFileSync, execSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectV2 } from '@gatehouse/core/testing';
import { freePort, type LocalRegistry, startRegistry } from '@gatehouse/release/registry';
import { startSandbox } from '@gatehouse/sandbox';
import {
  type PackageJson,
  publishablePackages,
  readJson,
  repoRoot as repo,
  workspacePackages,
} from '@gatehouse/workspace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'gatehouse-release-'));
const copy = join(work, 'repo');
const OPS = '@gatehouse/platform-ops';

let registry: LocalRegistry;
let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let published: Map<string, string>;
/** What the registry answered for each publishable package right after the dry run. */
const dryRunLeftRegistry: number[] = [];

/** Environment for every npm/pnpm child: this registry only, its own user config, no colour. */
function npmEnv(npmrc: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm|pnpm)_config_/i.test(key) && !/^npm_/i.test(key)) env[key] = value;
  }
  return {
    ...env,
    NPM_CONFIG_USERCONFIG: npmrc,
    NPM_CONFIG_REGISTRY: registry.url,
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    CI: 'true',
    TURBO_TELEMETRY_DISABLED: '1',
    ...extra,
  };
}

function sh(command: string, args: string[], cwd: string, npmrc = registry.npmrc): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: 'pipe', env: npmEnv(npmrc) });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${command} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
    );
  }
}

/** A packument straight from the registry's HTTP API. */
async function packument(name: string): Promise<{
  'dist-tags': Record<string, string>;
  versions: Record<string, PackageJson & { dist: { tarball: string } }>;
}> {
  const url = `${registry.url}${name.replace('/', '%2f')}`;
  // A GET, so safe to repeat once: a loaded machine can hit the race where the registry closes an idle
  // keep-alive socket just as fetch reuses it ("other side closed").
  const response = await fetch(url).catch(() => fetch(url));
  expect(response.status, name).toBe(200);
  return (await response.json()) as never;
}

/** An empty folder whose npm knows only the local registry (no token: reading needs none). */
function consumer(name: string): { dir: string; npmrc: string } {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const npmrc = join(dir, '.npmrc');
  writeFileSync(npmrc, `registry=${registry.url}\naudit=false\nfund=false\nupdate-notifier=false\n`);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true }));
  return { dir, npmrc };
}

const opsEnv = () => ({
  PLATFORM_OPS_API_URL: sandbox.url,
  PLATFORM_OPS_API_TOKEN: sandbox.tokens['platform-ops'],
});

beforeAll(async () => {
  [registry, sandbox] = await Promise.all([startRegistry(), startSandbox()]);
  // A throw-away copy (tracked and new files, nothing ignored, nothing deleted from the working
  // tree), so versions and changelogs written by the release never touch the real tree.
  mkdirSync(copy);
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
    cwd: repo,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file && existsSync(join(repo, file)));
  execSync(`tar --null -T - -cf - | tar -xf - -C ${JSON.stringify(copy)}`, {
    cwd: repo,
    input: files.join('\0'),
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  sh('pnpm', ['install', '--prefer-offline', '--frozen-lockfile'], copy);
  // changesets tags releases in git; the copy gets its own repository.
  for (const args of [
    ['init', '-q', '-b', 'main'],
    ['add', '-A'],
    ['commit', '-qm', 'base'],
  ]) {
    sh('git', ['-c', 'user.name=release-test', '-c', 'user.email=release-test@127.0.0.1', ...args], copy);
  }
  // A dry run first: it builds and lists what it would publish, and the registry stays empty.
  const dry = sh(
    process.execPath,
    ['tooling/release/release.ts', '--dry-run', '--skip-tests', '--skip-mcpb'],
    copy,
  );
  expect(dry).toMatch(/would publish @gatehouse\/platform-ops@\d+\.\d+\.\d+/);
  expect(dry).toMatch(/✓ build \(\d+\.\d s\)/);
  expect(dry).not.toContain('publishing to');
  // One at a time, each GET repeated once on the registry's keep-alive race (see packument()).
  for (const p of publishablePackages(copy)) {
    const url = `${registry.url}${p.json.name.replace('/', '%2f')}`;
    dryRunLeftRegistry.push((await fetch(url).catch(() => fetch(url))).status);
  }
  const out = sh(process.execPath, ['tooling/release/release.ts', '--skip-tests', '--skip-mcpb'], copy);
  expect(out).toContain(`publishing to ${registry.url}`);
  published = new Map(publishablePackages(copy).map((p) => [p.json.name, p.json.version]));
}, 240_000);

afterAll(async () => {
  await Promise.allSettled([registry?.close(), sandbox?.close()]);
  rmSync(work, { recursive: true, force: true });
});

/** Runs the release with only `npmrc` as npm configuration; returns its exit status and output. */
function releaseWith(npmrc: string): { status: number | null; stdout: string; stderr: string; ms: number } {
  const started = Date.now();
  const env = npmEnv(npmrc);
  delete env.NPM_CONFIG_REGISTRY;
  const r = spawnSync(process.execPath, ['tooling/release/release.ts', '--skip-tests', '--skip-mcpb'], {
    cwd: copy,
    encoding: 'utf8',
    env,
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

describe('release pre-flight', () => {
  const npmrc = (name: string, lines: string[]) => {
    const file = join(work, `${name}.npmrc`);
    writeFileSync(file, [...lines, 'update-notifier=false', ''].join('\n'));
    return file;
  };
  const host = () => registry.url.replace(/^https?:/, '');
  const stoppedEarly = (r: ReturnType<typeof releaseWith>) => {
    expect(r.status, r.stdout + r.stderr).toBe(1);
    // One line on stderr, and nothing versioned, built or published before it.
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stdout).not.toMatch(/▶ (version|build)/);
    return r.stderr.trim();
  };

  it('a registry that does not answer stops the release at once, naming it', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/`;
    const r = releaseWith(npmrc('dead', [`registry=${dead}`, `@gatehouse:registry=${dead}`]));
    expect(stoppedEarly(r)).toMatch(
      new RegExp(`^release: pre-flight: registry ${dead.replaceAll('.', '\\.')} is not reachable: `),
    );
    console.log(`pre-flight, dead registry: failed after ${r.ms} ms`);
  });

  it('a token the registry refuses stops the release, saying how to log in', () => {
    const r = releaseWith(
      npmrc('badtoken', [
        `registry=${registry.url}`,
        `@gatehouse:registry=${registry.url}`,
        `${host()}:_authToken=not-a-token`,
      ]),
    );
    expect(stoppedEarly(r)).toMatch(
      /^release: pre-flight: no accepted token for http:\/\/127\.0\.0\.1:\d+\/ \(npm whoami: .*npm login --registry/,
    );
    console.log(`pre-flight, bad token: failed after ${r.ms} ms`);
  });

  it('a scope mapped to no registry stops the release before it could publish to the default one', () => {
    const r = releaseWith(
      npmrc('noscope', [`registry=${registry.url}`, `${host()}:_authToken=${registry.token}`]),
    );
    expect(stoppedEarly(r)).toMatch(/^release: pre-flight: @gatehouse:registry is not set/);
  });

  it('--dry-run published nothing', () => {
    expect(dryRunLeftRegistry.length).toBeGreaterThan(0);
    expect(dryRunLeftRegistry.every((status) => status === 404)).toBe(true);
  });
});

describe('first release', () => {
  it('publishes every publishable package at its version, with registry-ready dependencies', async () => {
    expect([...published.keys()]).toContain(OPS);
    for (const [name, version] of published) {
      const doc = await packument(name);
      expect(Object.keys(doc.versions), name).toEqual([version]);
      const manifest = doc.versions[version]!;
      const deps = { ...manifest.dependencies };
      // pnpm publish resolved catalog:/workspace: ranges; core is bundled, so no @gatehouse/* at run time.
      for (const [dep, range] of Object.entries(deps)) {
        expect(range, `${name} → ${dep}`).not.toMatch(/^(catalog|workspace):/);
        expect(dep, `${name} depends on`).not.toMatch(/^@gatehouse\//);
      }
      expect(manifest.mcpName, name).toMatch(/^dev\.gatehouse\//);
    }
    // Private workspace packages never reach the registry.
    for (const name of workspacePackages(copy)
      .filter((p) => p.json.private)
      .map((p) => p.json.name)) {
      expect((await fetch(`${registry.url}${name.replace('/', '%2f')}`)).status, name).toBe(404);
    }
  });

  it('ships only what runs: built output, README, LICENSE, CHANGELOG, server.json', () => {
    const { dir, npmrc } = consumer('pack');
    const [pack] = JSON.parse(
      sh('npm', ['pack', '--dry-run', '--json', `${OPS}@${published.get(OPS)}`], dir, npmrc),
    );
    const files = (pack.files as Array<{ path: string }>).map((f) => f.path).sort();
    for (const file of files) {
      expect(file).toMatch(
        /^(dist\/[^/]+\.js(\.map)?|README\.md|LICENSE|CHANGELOG\.md|server\.json|package\.json)$/,
      );
    }
    expect(files).toEqual(
      expect.arrayContaining(['dist/bin.js', 'README.md', 'LICENSE', 'server.json', 'package.json']),
    );
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/') || f.includes('tsconfig'))).toBe(
      false,
    );
  });

  it('installs with npm and serves the sandbox through the SDK client at the published version', async () => {
    const { dir, npmrc } = consumer('team');
    sh('npm', ['install', OPS], dir, npmrc);
    const installed = join(dir, 'node_modules', OPS);
    expect(readJson<PackageJson>(join(installed, 'package.json')).version).toBe(published.get(OPS));
    const server = readJson<{ version: string; packages: Array<{ version: string }> }>(
      join(installed, 'server.json'),
    );
    expect(server.version).toBe(published.get(OPS));
    expect(server.packages[0]!.version).toBe(published.get(OPS));

    const c = await connectV2({ bin: join(installed, 'dist', 'bin.js'), env: opsEnv() });
    try {
      expect(c.client.getServerVersion()?.version).toBe(published.get(OPS));
      const { tools } = await c.client.listTools();
      expect(tools.map((t) => t.name)).toContain('get_service_health');
      const health = await c.client.callTool({
        name: 'get_service_health',
        arguments: { service: 'checkout-api', environment: 'staging' },
      });
      expect(health.isError).toBeFalsy();
      expect(JSON.stringify(health.structuredContent)).toContain('checkout-api');
    } finally {
      await c.close();
    }
  });

  it('runs with npx and from a global install; --help needs no credentials', () => {
    const { dir, npmrc } = consumer('npx');
    expect(sh('npx', ['-y', OPS, '--version'], dir, npmrc).trim()).toBe(published.get(OPS));

    const prefix = join(work, 'global');
    sh('npm', ['install', '-g', '--prefix', prefix, OPS], dir, npmrc);
    const bin = join(prefix, 'bin', 'platform-ops-mcp');
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(published.get(OPS));
    // Only PATH and HOME: no PLATFORM_OPS_* at all.
    const help = execFileSync(bin, ['--help'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: work },
    });
    expect(help).toContain('PLATFORM_OPS_API_URL');
    expect(help).toContain('platform-ops:write');
  });
});

describe('second release, one changeset for platform-ops', () => {
  it('publishes the new platform-ops version only, with changelog and server.json in step', async () => {
    const before = new Map<string, string[]>();
    for (const name of published.keys()) before.set(name, Object.keys((await packument(name)).versions));

    sh('pnpm', ['exec', 'changeset', 'add', '--patch', OPS, '-m', 'Faster deploy lookups.'], copy);
    sh(process.execPath, ['tooling/release/release.ts', '--skip-tests', '--skip-mcpb'], copy);

    const next = readJson<PackageJson>(join(copy, 'servers/platform-ops/package.json')).version;
    expect(next).not.toBe(published.get(OPS));
    expect(next).toMatch(/^\d+\.\d+\.\d+$/);
    expect(readFileSync(join(copy, 'servers/platform-ops/CHANGELOG.md'), 'utf8')).toContain(
      'Faster deploy lookups.',
    );
    expect(readJson<{ version: string }>(join(copy, 'servers/platform-ops/server.json')).version).toBe(next);
    // The README's host configuration is pinned to the version just published.
    expect(readFileSync(join(copy, 'servers/platform-ops/README.md'), 'utf8')).toContain(`"${OPS}@${next}"`);

    const ops = await packument(OPS);
    expect(ops['dist-tags'].latest).toBe(next);
    expect(Object.keys(ops.versions).sort()).toEqual([...(before.get(OPS) ?? []), next].sort());
    for (const [name, versions] of before) {
      if (name === OPS) continue;
      expect(Object.keys((await packument(name)).versions), `${name} was republished`).toEqual(versions);
    }

    const { dir, npmrc } = consumer('upgrade');
    sh('npm', ['install', `${OPS}@latest`], dir, npmrc);
    const installed = join(dir, 'node_modules', OPS);
    expect(readJson<PackageJson>(join(installed, 'package.json')).version).toBe(next);
    expect(readFileSync(join(installed, 'CHANGELOG.md'), 'utf8')).toContain('Faster deploy lookups.');
    const c = await connectV2({ bin: join(installed, 'dist', 'bin.js'), env: opsEnv() });
    try {
      expect(c.client.getServerVersion()?.version).toBe(next);
    } finally {
      await c.close();
    }

    // The real tree is untouched.
    expect(readJson<PackageJson>(join(repo, 'servers/platform-ops/package.json')).version).toBe(
      published.get(OPS),
    );
  }, 150_000);
});
