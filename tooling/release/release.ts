/**
 * `pnpm release`: version (when changesets are pending) → server.json sync and
 * check → build → test → publish with `changeset publish` to the registry npm
 * and pnpm are configured with (.npmrc or NPM_CONFIG_REGISTRY; never named here).
 *
 *   node tooling/release/release.ts            the whole release
 *   node tooling/release/release.ts version    only `changeset version` + server.json sync (the "version packages" commit)
 *   node tooling/release/release.ts publish    build, bundle, test and publish what the registry lacks
 *   --skip-tests                               for the release e2e test, which runs inside `pnpm test` itself
 *   --skip-mcpb                                no MCP Bundles (dist-mcpb/<server>-<version>.mcpb, see mcpb.ts)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type PackageJson, publishableServers, readJson, repoRoot } from '@gatehouse/workspace';
import { checkServerJson, syncServerJson } from './src/server-json.ts';

function say(line: string): void {
  process.stdout.write(`release: ${line}\n`);
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

export function versionStep(root: string): void {
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

export function publishStep(root: string, options: { skipTests: boolean; skipMcpb?: boolean }): void {
  checkStep(root);
  run('pnpm', ['run', 'build'], root);
  checkBuiltVersions(root);
  // One .mcpb per server from the build just checked; a bundle that does not validate stops the release.
  if (options.skipMcpb) say('MCP Bundles skipped (--skip-mcpb)');
  else run(process.execPath, [join(root, 'tooling', 'release', 'mcpb.ts'), '--root', root], root);
  if (options.skipTests) say('tests skipped (--skip-tests)');
  else run('pnpm', ['run', 'test'], root);
  const registry = execFileSync('pnpm', ['config', 'get', 'registry'], {
    cwd: root,
    encoding: 'utf8',
  }).trim();
  say(`publishing to ${registry} (from npm/pnpm configuration)`);
  run('pnpm', ['exec', 'changeset', 'publish'], root);
}

export function main(argv: string[]): void {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      'skip-tests': { type: 'boolean', default: false },
      'skip-mcpb': { type: 'boolean', default: false },
      root: { type: 'string' },
    },
    allowPositionals: true,
  });
  const root = values.root ?? repoRoot;
  const command = positionals[0] ?? 'all';
  if (command === 'version' || command === 'all') versionStep(root);
  if (command === 'publish' || command === 'all')
    publishStep(root, { skipTests: values['skip-tests'] ?? false, skipMcpb: values['skip-mcpb'] ?? false });
  if (!['version', 'publish', 'all'].includes(command)) throw new Error(`unknown command ${command}`);
}

if (import.meta.main) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`release: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
