/**
 * knip (the last step of `pnpm lint`): unused files, exports and dependencies across the workspace.
 * knip finds on its own the entries that package.json names (`exports`, the scripts' `node <file>`,
 * tsup/vitest configs, the plopfile); listed here are those it cannot see, loaded by path at run time:
 * - a server's binary source (package.json's `bin` names the built dist/bin.js), its sandbox fragment
 *   (found by tooling/sandbox's discovery) and its demo steps (loaded by tooling/demo);
 * - the bench's targets (bundled by tooling/bench/src/build.ts) and its by-hand scripts;
 * - scripts run with `node <file>` by another script, a test or a reader of the README.
 * Test files are entries whatever tier GATEHOUSE_TESTS picks, so every run sees the same graph.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KnipConfig } from 'knip';
import { runtimeDependencies } from './packages/core/src/testing/dependencies.ts';

const root = import.meta.dirname;
const TESTS = ['**/*.test.ts'];

/** The workspace's own source files (not its dependencies' or build output). */
function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|js)$/.test(entry.name)) yield path;
  }
}

/** Peer dependencies of the workspace's dependencies: knip counts those as used by the package asking. */
function peersOfDependencies(dir: string): Set<string> {
  const json = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  const peers = new Set<string>();
  for (const name of Object.keys({ ...json.dependencies, ...json.devDependencies })) {
    const manifest = join(root, dir, 'node_modules', name, 'package.json');
    if (!existsSync(manifest)) continue;
    for (const peer of Object.keys(JSON.parse(readFileSync(manifest, 'utf8')).peerDependencies ?? {}))
      peers.add(peer);
  }
  return peers;
}

/**
 * Third-party packages a bundled binary loads only through the @gatehouse/* code tsup inlines into it
 * (core's runtime dependencies, mostly): installed beside the binary, never named by the workspace's own
 * files, so knip would call them unused. Read from the import graph `pnpm generate` writes the servers'
 * `dependencies` from (a test fails when those drift). Those knip sees used on its own (named by the
 * workspace's files, or a peer of one of its dependencies) are left to it.
 */
function loadedThroughInlinedCode(dir: string, entries: string[]): string[] {
  const own = [...sourceFiles(join(root, dir))].map((file) => readFileSync(file, 'utf8')).join('\n');
  const peers = peersOfDependencies(dir);
  const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }));
  const names = new Set(
    entries.flatMap((entry) => Object.keys(runtimeDependencies(root, join(root, entry)))),
  );
  return (
    [...names]
      // Only what the package declares: a lazily loaded one it leaves out is not knip's to ignore.
      .filter((name) => declared.has(name))
      .filter((name) => !own.includes(`'${name}'`) && !own.includes(`'${name}/`) && !peers.has(name))
      .sort()
  );
}

const servers = readdirSync(join(root, 'servers'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => `servers/${entry.name}`);
const benchTargets = readdirSync(join(root, 'tooling/bench/src/targets')).map(
  (file) => `tooling/bench/src/targets/${file}`,
);

const config: KnipConfig = {
  workspaces: {
    '.': {
      entry: ['tooling/scripts/*.ts'],
    },
    'packages/*': {
      entry: TESTS,
    },
    'packages/core': {
      entry: TESTS,
      // Debian's openssl makes the shipping tests' throwaway certificates (.ci/run installs it).
      ignoreBinaries: ['openssl'],
    },
    ...Object.fromEntries(
      servers.map((dir) => [
        dir,
        {
          entry: ['src/bin.ts', 'sandbox/index.ts', 'demo.ts', ...TESTS],
          ignoreDependencies: loadedThroughInlinedCode(dir, [`${dir}/src/bin.ts`]),
        },
      ]),
    ),
    'tooling/bench': {
      // CPU profiles and the HTTP-stack comparison: run by hand (README).
      entry: ['src/profile.ts', 'src/http-stack.ts', 'src/targets/*.ts', ...TESTS],
      ignoreDependencies: loadedThroughInlinedCode('tooling/bench', benchTargets),
    },
    'tooling/generator': {
      // test/listed.ts: run by path, in the generator's scratch copy, by its end-to-end test.
      entry: ['test/listed.ts', ...TESTS],
      // templates/** is Handlebars the generator renders into a new server, not this workspace's source.
      project: ['**/*.{js,ts}', '!templates/**'],
    },
    'tooling/release': {
      // measure.ts: how core should ship, run by hand.
      entry: ['measure.ts', ...TESTS],
    },
    'tooling/sandbox': {
      entry: ['src/bin.ts', ...TESTS],
    },
    'tooling/workspace': {
      entry: TESTS,
    },
    e2e: {
      entry: TESTS,
      // openssl: a Debian package the system tests use (.ci/run installs it).
      ignoreBinaries: ['openssl'],
      // Run through require.resolve('kustomize/run.js') by e2e/src/kustomize.ts.
      ignoreDependencies: ['kustomize'],
    },
  },
};

export default config;
