/**
 * MCP Bundles (.mcpb, https://github.com/anthropics/mcpb): one zip per server
 * that a desktop host installs with one click and runs with its own Node —
 * the built dist/, a package.json with only the runtime dependencies,
 * node_modules holding exactly those (the versions in pnpm-lock.yaml, the
 * ones the tests ran against), and a manifest.json generated from what the
 * server already declares: the package version, the committed surface.json
 * (tools) and the environment the built binary's `--help` prints (user_config).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { MANIFEST_SCHEMAS, packExtension } from '@anthropic-ai/mcpb';
import { type PackageJson, publishableServers, readJson, type WorkspacePackage } from '@gatehouse/workspace';
import { readServerJson } from './server-json.ts';

/** The most widely supported manifest revision (mcpb's default; 0.3 and 0.4 are marked work in progress). */
export const MANIFEST_VERSION = '0.2';

export interface UserConfigOption {
  type: 'string' | 'number' | 'boolean' | 'directory' | 'file';
  title: string;
  description: string;
  required?: boolean;
  default?: string | number | boolean | string[];
  sensitive?: boolean;
}

export interface McpbManifest {
  manifest_version: string;
  name: string;
  display_name?: string;
  version: string;
  description: string;
  long_description?: string;
  author: { name: string; email?: string; url?: string };
  license?: string;
  keywords?: string[];
  server: {
    type: 'node';
    entry_point: string;
    mcp_config: { command: string; args: string[]; env: Record<string, string> };
  };
  tools?: Array<{ name: string; description?: string }>;
  compatibility?: { platforms?: Array<'darwin' | 'win32' | 'linux'>; runtimes?: { node?: string } };
  user_config?: Record<string, UserConfigOption>;
}

export interface EnvVariable {
  name: string;
  required: boolean;
  description: string;
}

export interface Bundle {
  /** The server's folder name, e.g. platform-ops. */
  server: string;
  version: string;
  /** Absolute path of dist-mcpb/<server>-<version>.mcpb. */
  file: string;
  bytes: number;
  manifest: McpbManifest;
}

interface Surface {
  tools: Array<{ name: string; description?: string }>;
}

/** The built binary of a server (its only `bin`), as an absolute path. */
export function binOf(pkg: WorkspacePackage): string {
  const bin = Object.values(pkg.json.bin ?? {})[0];
  if (!bin) throw new Error(`${pkg.json.name} has no bin`);
  return join(pkg.dir, bin);
}

/**
 * The "Environment:" section of `<bin> --help` (the stdio variables; the HTTP
 * ones follow under their own heading and mean nothing to a desktop host).
 * The binary prints core's envTable there, so the bundle can never disagree
 * with what the server actually requires.
 */
export function parseHelpEnvironment(help: string): EnvVariable[] {
  const lines = help.split('\n');
  const start = lines.indexOf('Environment:');
  if (start < 0) throw new Error('--help printed no "Environment:" section');
  const found: EnvVariable[] = [];
  for (const line of lines.slice(start + 1)) {
    const match = /^ {2}([A-Z][A-Z0-9_]*)\s+(\(required\) )?(.*)$/.exec(line);
    if (!match) break;
    found.push({ name: match[1]!, required: Boolean(match[2]), description: match[3]!.trim() });
  }
  if (found.length === 0) throw new Error('--help listed no environment variables');
  return found;
}

/** Runs the built binary's --help with no configuration at all (it needs none). */
export function helpEnvironment(pkg: WorkspacePackage): EnvVariable[] {
  const help = execFileSync(process.execPath, [binOf(pkg), '--help'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir() },
  });
  return parseHelpEnvironment(help);
}

/** The prefix every variable of this server starts with (PLATFORM_OPS_ for PLATFORM_OPS_API_URL). */
function envPrefix(env: EnvVariable[]): string {
  const url = env.find((e) => e.name.endsWith('_API_URL'));
  if (!url) throw new Error('no <PREFIX>_API_URL variable in --help');
  return url.name.slice(0, -'API_URL'.length);
}

const ACRONYMS = new Set(['API', 'URL', 'HTTP', 'ID']);
/** API_TOKEN → "API token". */
function titleOf(key: string): string {
  const words = key.split('_').map((w) => (ACRONYMS.has(w) ? w : w.toLowerCase()));
  const title = words.join(' ');
  return title.charAt(0).toUpperCase() + title.slice(1);
}

const SECRET_NAME = /_(TOKEN|KEY|SECRET|PASSWORD)$/;

/**
 * What the host asks the user for: every required variable, plus the ones the
 * server's server.json advertises (its curated, user-facing set: credentials,
 * scopes, read-only, the audit file). Optional ones default to empty, which
 * the server treats as unset: a host substitutes `${user_config.x}` only when
 * x has a value, and an unsubstituted placeholder would reach the server as a
 * literal string.
 */
export function userConfigFor(
  env: EnvVariable[],
  advertised: Array<{ name: string; description?: string; isSecret?: boolean; format?: string }>,
): { userConfig: Record<string, UserConfigOption>; mcpEnv: Record<string, string> } {
  const prefix = envPrefix(env);
  const userConfig: Record<string, UserConfigOption> = {};
  const mcpEnv: Record<string, string> = {};
  const byName = new Map(advertised.map((a) => [a.name, a]));
  for (const variable of env) {
    const listed = byName.get(variable.name);
    if (!variable.required && !listed) continue;
    const key = variable.name.slice(prefix.length).toLowerCase();
    const boolean = listed?.format === 'boolean';
    const option: UserConfigOption = {
      type: boolean ? 'boolean' : 'string',
      title: titleOf(variable.name.slice(prefix.length)),
      description: listed?.description ?? variable.description,
      required: variable.required,
    };
    if (listed?.isSecret || SECRET_NAME.test(variable.name)) option.sensitive = true;
    if (!variable.required) option.default = boolean ? false : '';
    userConfig[key] = option;
    mcpEnv[variable.name] = `\${user_config.${key}}`;
  }
  return { userConfig, mcpEnv };
}

/** The manifest for one built server. */
export function manifestFor(pkg: WorkspacePackage, env: EnvVariable[] = helpEnvironment(pkg)): McpbManifest {
  const json = readJson<PackageJson & { keywords?: string[]; license?: string; engines?: { node?: string } }>(
    join(pkg.dir, 'package.json'),
  );
  const serverJson = readServerJson(pkg);
  const surface = readJson<Surface>(join(pkg.dir, 'surface.json'));
  const advertised = (serverJson.packages ?? []).flatMap((p) =>
    p.registryType === 'npm' && Array.isArray(p.environmentVariables)
      ? (p.environmentVariables as Array<{
          name: string;
          description?: string;
          isSecret?: boolean;
          format?: string;
        }>)
      : [],
  );
  const { userConfig, mcpEnv } = userConfigFor(env, advertised);
  const entryPoint = Object.values(json.bin ?? {})[0]?.replace(/^\.\//, '');
  if (!entryPoint) throw new Error(`${json.name} has no bin`);
  const author = (json as { author?: string | { name?: string; email?: string; url?: string } }).author;
  const manifest: McpbManifest = {
    manifest_version: MANIFEST_VERSION,
    name: basename(pkg.dir),
    display_name: serverJson.title ?? json.name,
    version: json.version,
    description: serverJson.description,
    author:
      typeof author === 'string'
        ? { name: author }
        : author?.name
          ? {
              name: author.name,
              ...(author.email ? { email: author.email } : {}),
              ...(author.url ? { url: author.url } : {}),
            }
          : { name: 'Gatehouse' },
    server: {
      type: 'node',
      entry_point: entryPoint,
      mcp_config: { command: 'node', args: [`\${__dirname}/${entryPoint}`], env: mcpEnv },
    },
    tools: surface.tools.map((t) => ({
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
    })),
    compatibility: {
      platforms: ['darwin', 'win32', 'linux'],
      runtimes: { node: json.engines?.node ?? '>=22.13' },
    },
    user_config: userConfig,
  };
  if (json.description) manifest.long_description = json.description;
  if (json.license) manifest.license = json.license;
  if (json.keywords?.length) manifest.keywords = json.keywords;
  return manifest;
}

/** Everything mcpb's own schema (the one hosts load bundles with) finds wrong, as lines. */
export function manifestProblems(manifest: unknown): string[] {
  const result = MANIFEST_SCHEMAS[MANIFEST_VERSION].safeParse(manifest);
  if (result.success) return [];
  return result.error.issues.map((i) => `${i.path.join('.') || '/'}: ${i.message}`);
}

/** Absolute path of `<dir>/<name>/package.json` under node_modules, scoped names included. */
function installedVersion(stage: string, name: string): string {
  return readJson<PackageJson>(join(stage, 'node_modules', ...name.split('/'), 'package.json')).version;
}

/**
 * The server as npm would install it, in `stage`: `pnpm deploy --prod` copies
 * the package's `files` (dist, README, LICENSE, server.json, …) and installs
 * its production dependencies from pnpm-lock.yaml through the local store
 * (no resolution, registry only for what the store lacks), hoisted so the
 * folder has no symlinks (a zip keeps none). pnpm's bookkeeping is removed and
 * package.json is rewritten with the exact installed versions and nothing else
 * a bundle does not need.
 */
export function stageServer(root: string, pkg: WorkspacePackage, stage: string): void {
  execFileSync(
    'pnpm',
    [
      '--filter',
      pkg.json.name,
      'deploy',
      '--prod',
      '--prefer-offline',
      '--config.inject-workspace-packages=true',
      '--config.node-linker=hoisted',
      stage,
    ],
    { cwd: root, stdio: 'pipe', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
  );
  for (const leftover of [
    'pnpm-lock.yaml',
    'node_modules/.pnpm',
    'node_modules/.modules.yaml',
    'node_modules/.bin',
  ])
    rmSync(join(stage, leftover), { recursive: true, force: true });
  const json = readJson<PackageJson & Record<string, unknown>>(join(pkg.dir, 'package.json'));
  const dependencies = Object.fromEntries(
    Object.keys(json.dependencies ?? {}).map((name) => [name, installedVersion(stage, name)]),
  );
  const bundled: Record<string, unknown> = {
    name: json.name,
    version: json.version,
    description: json.description,
    type: json.type,
    license: json.license,
    engines: json.engines,
    bin: json.bin,
    dependencies,
  };
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(bundled, null, 2)}\n`);
  const dist = join(stage, 'dist');
  if (!existsSync(dist) || readdirSync(dist).length === 0)
    throw new Error(`${pkg.json.name}: dist/ is missing or empty (build first)`);
}

export interface BuildOptions {
  root: string;
  /** Where the .mcpb files go; default <root>/dist-mcpb. */
  outDir?: string;
  /** Folder names (platform-ops) to build; default every server. */
  only?: string[];
  log?: (line: string) => void;
}

/** Stages, describes, validates and packs one bundle per server. */
export async function buildBundles(options: BuildOptions): Promise<Bundle[]> {
  const root = resolve(options.root);
  const outDir = resolve(options.outDir ?? join(root, 'dist-mcpb'));
  const log = options.log ?? (() => {});
  const servers = publishableServers(root).filter(
    (pkg) => !options.only || options.only.includes(basename(pkg.dir)),
  );
  if (options.only) {
    const unknown = options.only.filter((name) => !servers.some((pkg) => basename(pkg.dir) === name));
    if (unknown.length > 0) throw new Error(`no such server: ${unknown.join(', ')}`);
  }
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-mcpb-'));
  const bundles: Bundle[] = [];
  try {
    for (const pkg of servers) {
      const name = basename(pkg.dir);
      const manifest = manifestFor(pkg);
      const problems = manifestProblems(manifest);
      if (problems.length > 0)
        throw new Error(`${name}: manifest.json is not a valid MCPB manifest:\n${problems.join('\n')}`);
      const stage = join(work, name);
      stageServer(root, pkg, stage);
      writeFileSync(join(stage, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      const file = join(outDir, `${name}-${manifest.version}.mcpb`);
      // packExtension validates the manifest on disk again before it zips.
      const packed = await packExtension({ extensionPath: stage, outputPath: file, silent: true });
      if (!packed)
        throw new Error(`${name}: mcpb pack failed (the manifest did not validate, or zipping failed)`);
      const bytes = statSync(file).size;
      log(`${file} (${(bytes / 1024 / 1024).toFixed(1)} MiB)`);
      bundles.push({ server: name, version: manifest.version, file, bytes, manifest });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return bundles;
}
