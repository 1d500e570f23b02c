/**
 * The servers, found rather than listed: every `servers/<name>/package.json` with a `bin`. What the
 * demo, the end-to-end tests, the bundles, the deploy checks and the bench need to know about one is
 * read from its own folder: its definition (src/index.ts), and its smoke inputs (test/e2e.json).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readJson, repoRoot, type WorkspacePackage, workspacePackages } from './packages.ts';

export interface ServerPackage extends WorkspacePackage {
  /** The folder name: the server's name, its sandbox domain, image and overlay name. */
  name: string;
  /** The binary's command name (the package.json `bin` key), e.g. `docs-mcp`. */
  command: string;
  /** Absolute path of the built binary (the `bin` target, dist/bin.js). */
  bin: string;
  /** The definition module: `export default defineServer(...)`. */
  entry: string;
}

/** Every server of the workspace (published or not), in folder-name order. */
export function servers(root = repoRoot): ServerPackage[] {
  return workspacePackages(root)
    .filter((p) => p.relativeDir.startsWith('servers/') && p.json.bin && Object.keys(p.json.bin).length > 0)
    .map((p) => {
      const [command, target] = Object.entries(p.json.bin!)[0]!;
      return {
        ...p,
        name: p.relativeDir.slice('servers/'.length),
        command,
        bin: resolve(p.dir, target),
        entry: join(p.dir, 'src', 'index.ts'),
      };
    });
}

/** The servers changesets publishes (not private). */
export function publishableServers(root = repoRoot): ServerPackage[] {
  return servers(root).filter((s) => !s.json.private);
}

/** The part of a server definition (`@gatehouse/core`'s ServerDefinition) tools read. */
export interface ServerDefinitionShape {
  name: string;
  title: string;
  bin: string;
  /** Env prefix without the trailing underscore, e.g. `PLATFORM_OPS`. */
  envPrefix: string;
  upstream: 'required' | 'optional';
  scopes: Record<string, string>;
}

/** Imports a server's definition from its source (Node 22.18+/24 run TypeScript, as vitest does). */
export async function loadDefinition(server: Pick<ServerPackage, 'entry' | 'name'>) {
  const mod = (await import(/* @vite-ignore */ pathToFileURL(server.entry).href)) as { default?: unknown };
  const definition = mod.default as Partial<ServerDefinitionShape> | undefined;
  if (!definition || typeof definition.envPrefix !== 'string' || typeof definition.scopes !== 'object')
    throw new Error(`${server.entry}: expected \`export default defineServer(...)\` (server ${server.name})`);
  return definition as ServerDefinitionShape;
}

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

/**
 * What the end-to-end tests, the bench and the demo need besides the definition and the sandbox,
 * from `servers/<name>/test/e2e.json` (all optional):
 * - `env`: extra variables for a working server; a value starting with `./` is a path inside the
 *   server's folder (docs: `"DOCS_ROOT": "./handbook"`);
 * - `call`: a cheap read call that succeeds against the sandbox;
 * - `slow`: a call whose upstream request can be slowed down, and the sandbox path prefix it hits.
 */
export interface SmokeInputs {
  env: Record<string, string>;
  call?: ToolCall;
  slow?: { call: ToolCall; path: string };
}

export const SMOKE_FILE = join('test', 'e2e.json');

export function smokeInputs(server: Pick<ServerPackage, 'dir'>): SmokeInputs {
  const file = join(server.dir, SMOKE_FILE);
  if (!existsSync(file)) return { env: {} };
  const raw = readJson<Partial<SmokeInputs> & { $comment?: string }>(file);
  const env = Object.fromEntries(
    Object.entries(raw.env ?? {}).map(([name, value]) => [
      name,
      value.startsWith('./') && !isAbsolute(value) ? resolve(server.dir, value) : value,
    ]),
  );
  return { env, ...(raw.call ? { call: raw.call } : {}), ...(raw.slow ? { slow: raw.slow } : {}) };
}

/** The variables that point a server at an upstream (the sandbox), under its own prefix. */
export function upstreamEnv(
  definition: Pick<ServerDefinitionShape, 'envPrefix'>,
  upstream: { url: string; token: string },
): Record<string, string> {
  return {
    [`${definition.envPrefix}_API_URL`]: upstream.url,
    [`${definition.envPrefix}_API_TOKEN`]: upstream.token,
  };
}

/** `<PREFIX>_SCOPES` granting every scope the server defines: its whole surface is visible. */
export function allScopesEnv(
  definition: Pick<ServerDefinitionShape, 'envPrefix' | 'scopes'>,
): Record<string, string> {
  return { [`${definition.envPrefix}_SCOPES`]: Object.keys(definition.scopes).join(',') };
}
