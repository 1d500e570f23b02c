/**
 * `pnpm release`: pre-flight (the registry the `@gatehouse` scope resolves to answers, and takes the
 * token; see src/preflight.ts) → version (when changesets are pending) → server.json sync, README host
 * configuration pinned to the new versions, and check → build → test → publish with `changeset
 * publish` to the registry npm and pnpm are configured with (.npmrc or npm_config_*; never named here).
 * Each stage says when it starts and how long it took.
 *
 *   node tooling/release/release.ts            the whole release
 *   node tooling/release/release.ts version    only `changeset version` + server.json sync (the "version packages" commit)
 *   node tooling/release/release.ts publish    pre-flight, build, bundle, test and publish what the registry lacks
 *   --dry-run                                  everything but the publish: lists what would be published (`pnpm publish --dry-run`);
 *                                              pending changesets are still applied to the working tree
 *   --skip-tests                               for the release e2e test, which runs inside `pnpm test` itself
 *   --skip-mcpb                                no MCP Bundles (dist-mcpb/<server>-<version>.mcpb, see mcpb.ts)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type PackageJson,
  publishablePackages,
  publishableServers,
  readJson,
  repoRoot,
  writeHostConfigs,
} from '@gatehouse/workspace';
import { PreflightError, preflight } from './src/preflight.ts';
import { checkServerJson, syncServerJson } from './src/server-json.ts';

function say(line: string): void {
  process.stdout.write(`release: ${line}\n`);
}

/** One stage: announced, timed, and its time said when it is over. */
async function stage<T>(name: string, work: () => T | Promise<T>): Promise<T> {
  const started = performance.now();
  say(`▶ ${name}`);
  const result = await work();
  say(`✓ ${name} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

function run(command: string, args: string[], cwd: string): void {
  say(`$ ${command} ${args.join(' ')}`);
  execFileSync(command, args, { cwd, stdio: 'inherit', env: process.env });
}

export function pendingChangesets(root: string): string[] {
  const dir = join(root, '.changeset');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md');
}

export async function versionStep(root: string): Promise<void> {
  const pending = pendingChangesets(root);
  if (pending.length === 0) {
    say('no pending changesets: versions stay as they are');
  } else {
    say(`${pending.length} pending changeset(s): ${pending.join(', ')}`);
    run('pnpm', ['exec', 'changeset', 'version'], root);
  }
  for (const pkg of publishableServers(root)) {
    if (syncServerJson(pkg)) say(`${pkg.relativeDir}/server.json → ${pkg.json.version}`);
  }
  // The READMEs' host configuration pins the exact version: the one about to be published.
  for (const readme of await writeHostConfigs(root))
    say(`${readme.slice(root.length + 1)}: host configuration pinned to the new version`);
}

export function checkStep(root: string): void {
  const problems = publishableServers(root).flatMap((pkg) =>
    checkServerJson(pkg).map((problem) => `${pkg.relativeDir}/server.json: ${problem}`),
  );
  if (problems.length > 0) throw new Error(`server.json is not releasable:\n${problems.join('\n')}`);
}

/** serverInfo.version comes from package.json at build time: the built binary must say the package version. */
export function checkBuiltVersions(root: string): void {
  for (const pkg of publishableServers(root)) {
    const bin = Object.values(pkg.json.bin ?? {})[0];
    if (!bin) continue;
    const printed = execFileSync(process.execPath, [join(pkg.dir, bin), '--version'], {
      encoding: 'utf8',
    }).trim();
    const version = readJson<PackageJson>(join(pkg.dir, 'package.json')).version;
    if (printed !== version)
      throw new Error(`${pkg.json.name}: the built binary says ${printed}, package.json ${version}`);
  }
}

/** Packages whose version the registry does not have yet (what `changeset publish` would publish). */
function unpublished(root: string, registry: string): PackageJson[] {
  return publishablePackages(root)
    .map((pkg) => readJson<PackageJson>(join(pkg.dir, 'package.json')))
    .filter((json) => {
      try {
        const found = execFileSync(
          'npm',
          ['view', `${json.name}@${json.version}`, 'version', '--registry', registry, '--fetch-retries=0'],
          { cwd: root, encoding: 'utf8', stdio: 'pipe' },
        ).trim();
        return found !== json.version;
      } catch {
        return true; // E404: the package is not there at all
      }
    });
}

export interface PublishOptions {
  skipTests: boolean;
  skipMcpb?: boolean;
  dryRun?: boolean;
  registry: string;
}

export async function publishStep(root: string, options: PublishOptions): Promise<void> {
  await stage('check server.json', () => checkStep(root));
  await stage('build', () => run('pnpm', ['run', 'build'], root));
  await stage('check built versions', () => checkBuiltVersions(root));
  // One .mcpb per server from the build just checked; a bundle that does not validate stops the release.
  if (options.skipMcpb) say('MCP Bundles skipped (--skip-mcpb)');
  else
    await stage('MCP Bundles', () =>
      run(process.execPath, [join(root, 'tooling', 'release', 'mcpb.ts'), '--root', root], root),
    );
  if (options.skipTests) say('tests skipped (--skip-tests)');
  else await stage('tests', () => run('pnpm', ['run', 'test'], root));
  if (options.dryRun) {
    await stage('publish (dry run: nothing is sent)', () => {
      const pending = unpublished(root, options.registry);
      if (pending.length === 0)
        say(`${options.registry} has every version already: nothing would be published`);
      for (const json of pending) {
        const pkg = publishablePackages(root).find((p) => p.json.name === json.name)!;
        run('pnpm', ['publish', '--dry-run', '--no-git-checks', '--registry', options.registry], pkg.dir);
        say(`would publish ${json.name}@${json.version} to ${options.registry}`);
      }
    });
    return;
  }
  say(`publishing to ${options.registry} (from npm/pnpm configuration)`);
  await stage('publish', () => run('pnpm', ['exec', 'changeset', 'publish'], root));
}

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      'skip-tests': { type: 'boolean', default: false },
      'skip-mcpb': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      root: { type: 'string' },
    },
    allowPositionals: true,
  });
  const root = values.root ?? repoRoot;
  const command = positionals[0] ?? 'all';
  if (!['version', 'publish', 'all'].includes(command)) throw new Error(`unknown command ${command}`);
  const publishing = command === 'publish' || command === 'all';
  // Registry, scope and token first: a wrong one is found in seconds, not after the tests.
  const target = publishing ? await stage('pre-flight', () => preflight(root, say)) : undefined;
  if (command === 'version' || command === 'all') await stage('version', () => versionStep(root));
  if (target)
    await publishStep(root, {
      skipTests: values['skip-tests'] ?? false,
      skipMcpb: values['skip-mcpb'] ?? false,
      dryRun: values['dry-run'] ?? false,
      registry: target.registry,
    });
}

if (import.meta.main) {
  try {
    await main(process.argv.slice(2));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`release: ${error instanceof PreflightError ? 'pre-flight: ' : ''}${message}\n`);
    process.exitCode = 1;
  }
}
