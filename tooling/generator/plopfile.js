// The new-server generator (plop). `pnpm new:server billing` writes servers/billing from templates/server
// (the server, each tool's test beside it, the one defineServerTests call, its sandbox fragment, its deploy
// inputs, test/e2e.json) and a changeset, then links it into the workspace, writes what `pnpm generate`
// derives (README tables, runtime dependencies) and captures its capability surface. Nothing outside
// servers/<name>/, the lockfile and .changeset/ changes: the sandbox, demo, end-to-end, bundle and deploy
// tooling find the new server in the workspace.
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
// The workspace as every tool sees it (Node runs the TypeScript source directly).
import { workspacePackages } from '../workspace/src/index.ts';

const root = resolve(import.meta.dirname, '../..');
/** Kebab-case, as a sandbox domain and a scope prefix need it: `billing`, `cost-center`. */
const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Names the sandbox's request log already uses. */
const RESERVED = new Set(['control', 'unknown']);
/** Names YAML reads as something other than a string (the overlay and contract fragment use the name bare). */
const YAML_WORDS = new Set(['null', 'true', 'false', 'yes', 'off']);

export const envPrefix = (name) => name.toUpperCase().replaceAll('-', '_');
/** The sandbox token prefix (`sbx_billing`): at most 32 characters of [a-z0-9_]. */
export const tokenPrefix = (name) => `sbx_${name.replaceAll('-', '_')}`.slice(0, 32);

/** What the workspace already uses: package names, sandbox prefixes and token prefixes, env prefixes. */
function taken() {
  const packages = new Set();
  const prefixes = [];
  const tokens = new Set();
  const envs = new Set();
  for (const pkg of workspacePackages(root)) {
    packages.add(pkg.json.name);
    const fragment = join(pkg.dir, 'sandbox', 'index.ts');
    if (existsSync(fragment)) {
      const text = readFileSync(fragment, 'utf8');
      for (const [, p] of text.matchAll(/\bprefix:\s*'([^']+)'/g)) prefixes.push(p);
      for (const [, t] of text.matchAll(/\btokenPrefix:\s*'([^']+)'/g)) tokens.add(t);
    }
    const config = join(pkg.dir, 'src', 'config.ts');
    if (existsSync(config))
      for (const [, e] of readFileSync(config, 'utf8').matchAll(/ENV_PREFIX\s*=\s*'([^']+)'/g)) envs.add(e);
  }
  return { packages, prefixes, tokens, envs };
}

const overlaps = (a, b) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);

/** Why `name` cannot be a new server, or true. */
export function validateName(name) {
  if (typeof name !== 'string' || name.length < 3 || name.length > 32 || !NAME.test(name))
    return 'use 3-32 lower-case letters and digits in dash-separated words, starting with a letter (e.g. billing, cost-center)';
  if (existsSync(resolve(root, 'servers', name))) return `servers/${name} already exists`;
  if (RESERVED.has(name)) return `${name} is reserved by the sandbox (control, unknown)`;
  if (YAML_WORDS.has(name)) return `${name} reads as a YAML keyword, not a name`;
  const used = taken();
  if (used.packages.has(`@gatehouse/${name}`)) return `@gatehouse/${name} is already a workspace package`;
  const prefix = `/${name}/v1`;
  const clash = used.prefixes.find((p) => overlaps(p, prefix));
  if (clash) return `the sandbox path ${prefix} overlaps ${clash}, used by another server`;
  if (used.tokens.has(tokenPrefix(name)))
    return `the sandbox token prefix ${tokenPrefix(name)} is used by another server`;
  if (used.envs.has(envPrefix(name))) return `the env prefix ${envPrefix(name)}_ is used by another server`;
  return true;
}

/** Links the new package: workspace and catalog dependencies are in the store already. */
const install = (name) =>
  `pnpm install --offline --no-frozen-lockfile --filter @gatehouse/${name} || pnpm install --prefer-offline --no-frozen-lockfile --filter @gatehouse/${name}`;

/**
 * Writes the runtime dependency list `pnpm generate` derives from what the binary loads (core's
 * dependencies included), so the first install links the right packages. The template lists only what
 * the server's own code imports (zod).
 */
async function writeDependencies(dir) {
  const { serverDependencies } = await import('../../packages/core/src/testing/dependencies.ts');
  const file = join(dir, 'package.json');
  const json = JSON.parse(readFileSync(file, 'utf8'));
  json.dependencies = serverDependencies(root, dir);
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
}

/** Runs the finishing steps: each sees what the previous ones wrote. */
async function finish(name) {
  const dir = join(root, 'servers', name);
  const run = (command) => execSync(command, { cwd: root, stdio: 'inherit', env: { ...process.env } });
  await writeDependencies(dir);
  run(install(name));
  const manifest = readFileSync(join(dir, 'package.json'), 'utf8');
  // README tables and the dependency list, exactly as `pnpm generate` writes them for every server.
  run('pnpm generate');
  if (readFileSync(join(dir, 'package.json'), 'utf8') !== manifest) run(install(name));
  run(`pnpm exec biome check --write servers/${name}`);
  // The capability surface snapshot (surface.json), captured in-process by the surface check itself.
  run(
    `UPDATE_SURFACE=1 GATEHOUSE_TESTS=fast pnpm exec vitest run --project ${name} src/server.test.ts -t "capability surface"`,
  );
}

export default function (plop) {
  plop.setHelper('envPrefix', envPrefix);
  plop.setHelper('tokenPrefix', tokenPrefix);
  plop.setGenerator('server', {
    description: 'a new Gatehouse domain MCP server',
    prompts: [
      {
        type: 'input',
        name: 'name',
        message: 'domain name (kebab-case, e.g. billing)',
        validate: validateName,
      },
    ],
    actions: (answers) => [
      {
        type: 'addMany',
        destination: `${root}/servers/{{name}}`,
        base: 'templates/server',
        templateFiles: 'templates/server/**/*',
        globOptions: { dot: true },
      },
      {
        type: 'add',
        path: `${root}/.changeset/new-server-{{name}}.md`,
        template:
          '---\n"@gatehouse/{{name}}": minor\n---\n\nNew server: @gatehouse/{{name}}, the {{name}} domain over one typed, audited MCP surface.\n',
      },
      async function finishing() {
        if (process.env.GATEHOUSE_GENERATE_ONLY === '1')
          return 'files written (GATEHOUSE_GENERATE_ONLY=1: no install, generate or surface capture)';
        await finish(answers.name);
        return `servers/${answers.name} is ready: pnpm exec vitest run --project ${answers.name} runs its tests; see CONTRIBUTING.md for the next steps`;
      },
    ],
  });
}
