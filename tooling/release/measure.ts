/**
 * How should core ship? Measures three ways of publishing platform-ops to a
 * local registry and installing it as a team would:
 *   bundled      core inlined in dist/bin.js, third-party deps installed (today)
 *   published    core as its own package @gatehouse/core, a dependency
 *   all-bundled  core and every third-party dep inlined, no dependencies
 * For each: install time (fresh npm cache, warm registry), installed size
 * (du of node_modules), package count, and cold start (spawn → initialize →
 * tools/list, median). Run: node tooling/release/measure.ts [runs]
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectV2 } from '@gatehouse/core/testing';
import { startSandbox } from '@gatehouse/sandbox';
import { repoRoot } from '@gatehouse/workspace';
import { startRegistry } from './src/registry.ts';

const runs = Number(process.argv[2] ?? 5);
const work = mkdtempSync(join(tmpdir(), 'gatehouse-measure-'));
const ops = join(repoRoot, 'servers', 'platform-ops');
const say = (line: string) => process.stdout.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function sh(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: 'pipe', env });
}

/** tsup with a plain-object config (no imports), run in a package folder. */
function tsup(cwd: string, name: string, options: Record<string, unknown>, rawJs = ''): void {
  const config = join(work, `${name}.tsup.config.mjs`);
  writeFileSync(config, `export default { ...${JSON.stringify(options)}, ${rawJs} };\n`);
  sh(join(ops, 'node_modules', '.bin', 'tsup'), ['--config', config], cwd);
}

const base = {
  format: ['esm'],
  target: 'node22',
  platform: 'node',
  sourcemap: true,
  clean: true,
  splitting: false,
  shims: false,
  removeNodeProtocol: false,
};

const registry = await startRegistry();
const sandbox = await startSandbox();
const env = { ...process.env, NPM_CONFIG_USERCONFIG: registry.npmrc, NPM_CONFIG_REGISTRY: registry.url };
try {
  // The published form of today's package (catalog: ranges resolved by pnpm pack).
  sh('pnpm', ['pack', '--pack-destination', work], ops);
  const packed = sh('ls', [work], work)
    .split('\n')
    .find((f) => f.endsWith('.tgz'))!;
  const pristine = join(work, 'pristine');
  mkdirSync(pristine);
  sh('tar', ['-xzf', join(work, packed), '-C', pristine, '--strip-components=1'], work);
  const manifest = JSON.parse(readFileSync(join(pristine, 'package.json'), 'utf8'));

  const stage = (variant: string, mutate: (dir: string, pkg: Record<string, unknown>) => void) => {
    const dir = join(work, variant);
    cpSync(pristine, dir, { recursive: true });
    const pkg = { ...manifest, version: `0.0.1-${variant}` };
    mutate(dir, pkg);
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    sh('npm', ['publish', '--tag', variant], dir, env);
  };

  stage('bundled', () => {});

  // published: core built on its own, the server importing it.
  const coreDir = join(work, 'core-pkg');
  tsup(join(repoRoot, 'packages', 'core'), 'core', {
    ...base,
    entry: { index: 'src/index.ts' },
    outDir: join(coreDir, 'dist'),
  });
  const corePkg = JSON.parse(readFileSync(join(repoRoot, 'packages', 'core', 'package.json'), 'utf8'));
  writeFileSync(
    join(coreDir, 'package.json'),
    JSON.stringify({
      name: '@gatehouse/core',
      version: '0.0.1-published',
      type: 'module',
      exports: { '.': './dist/index.js' },
      dependencies: Object.fromEntries(
        Object.keys(corePkg.dependencies).map((d) => [
          d,
          manifest.dependencies[d] ?? corePkg.dependencies[d],
        ]),
      ),
    }),
  );
  sh('npm', ['publish', '--tag', 'published'], coreDir, env);
  stage('published', (dir, pkg) => {
    tsup(ops, 'published', {
      ...base,
      entry: { bin: 'src/bin.ts' },
      outDir: join(dir, 'dist'),
      banner: { js: '#!/usr/bin/env node' },
      external: ['@gatehouse/core'],
    });
    pkg.dependencies = { ...(pkg.dependencies as object), '@gatehouse/core': '0.0.1-published' };
  });

  stage('allbundled', (dir, pkg) => {
    tsup(
      ops,
      'allbundled',
      {
        ...base,
        entry: { bin: 'src/bin.ts' },
        outDir: join(dir, 'dist'),
        // ESM bundles of CommonJS deps need a require of their own.
        banner: {
          js: "#!/usr/bin/env node\nimport { createRequire as __gh_cr } from 'node:module'; const require = __gh_cr(import.meta.url);",
        },
      },
      'noExternal: [/.*/]',
    );
    delete pkg.dependencies;
  });

  for (const variant of ['bundled', 'published', 'allbundled']) {
    const spec = `@gatehouse/platform-ops@0.0.1-${variant}`;
    // Warm the registry's uplink cache once, then measure installs from a fresh npm cache.
    const warm = join(work, `warm-${variant}`);
    mkdirSync(warm);
    writeFileSync(join(warm, 'package.json'), '{"name":"warm","private":true}');
    sh('npm', ['install', spec, '--cache', join(work, `cache-warm-${variant}`)], warm, env);
    const times: number[] = [];
    let size = 0;
    let count = 0;
    let bin = '';
    for (let i = 0; i < Math.min(runs, 3); i++) {
      const dir = join(work, `install-${variant}-${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'package.json'), '{"name":"team","private":true}');
      const t0 = performance.now();
      sh('npm', ['install', spec, '--cache', join(work, `cache-${variant}-${i}`)], dir, env);
      times.push(performance.now() - t0);
      size = Number(sh('du', ['-sk', join(dir, 'node_modules')], work).split('\t')[0]);
      count = sh(
        'find',
        [
          join(dir, 'node_modules'),
          '-name',
          'package.json',
          '-not',
          '-path',
          '*/node_modules/*/node_modules/*/*/package.json',
        ],
        work,
      )
        .split('\n')
        .filter(Boolean).length;
      bin = join(dir, 'node_modules', '@gatehouse', 'platform-ops', 'dist', 'bin.js');
    }
    const starts: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const c = await connectV2({
        bin,
        env: { PLATFORM_OPS_API_URL: sandbox.url, PLATFORM_OPS_API_TOKEN: sandbox.tokens['platform-ops'] },
      });
      await c.client.listTools();
      starts.push(performance.now() - t0);
      await c.close();
    }
    const binKb = Math.round(Number(sh('du', ['-sk', join(bin, '..')], work).split('\t')[0]));
    say(
      `${variant.padEnd(11)} install ${Math.round(median(times))} ms (runs ${times.map(Math.round).join('/')}), ` +
        `node_modules ${(size / 1024).toFixed(1)} MiB, package.json files ${count}, dist ${binKb} KiB, ` +
        `cold start median ${Math.round(median(starts))} ms (runs ${starts.map(Math.round).join('/')})`,
    );
  }
} finally {
  await sandbox.close();
  await registry.close();
  rmSync(work, { recursive: true, force: true });
}
