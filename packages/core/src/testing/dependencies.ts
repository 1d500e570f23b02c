/**
 * A server's runtime dependencies, read from what its binary actually loads:
 * every module reachable from `src/bin.ts` — through relative imports and the
 * `@gatehouse/*` workspace packages tsup inlines into the binary, static and
 * dynamic alike — and the third-party packages those modules import. `pnpm
 * generate` writes the list into the server's package.json; a test fails when
 * the two differ, so nobody copies core's dependencies by hand.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';

interface PackageJson {
  name: string;
  exports?: string | Record<string, string | Record<string, string>>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** `import … from 'x'`, `export … from 'x'`, `import 'x'`, `import('x')` — not `import type`/`export type`. */
const SPECIFIERS =
  /(?:^|[\s;])(?:import|export)\s+(?!type\s)(?:[\s\S]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
const BUILTINS = new Set(builtinModules);

function readJson(file: string): PackageJson {
  return JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
}

/** The package a bare specifier names: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || BUILTINS.has(packageOf(specifier));
}

/** The source file a workspace package's export points at (`"./upstream": "./src/upstream/index.ts"`). */
function workspaceEntry(root: string, specifier: string): string {
  const name = packageOf(specifier);
  const dir = workspaceDir(root, name);
  const json = readJson(join(dir, 'package.json'));
  const subpath = `.${specifier.slice(name.length)}`;
  const exports = typeof json.exports === 'string' ? { '.': json.exports } : (json.exports ?? {});
  const target = exports[subpath];
  const file = typeof target === 'string' ? target : target?.import;
  if (!file) throw new Error(`${name} does not export ${subpath}`);
  return resolve(dir, file);
}

const workspaces = new Map<string, Map<string, string>>();
function workspaceDir(root: string, name: string): string {
  let dirs = workspaces.get(root);
  if (!dirs) {
    dirs = new Map();
    workspaces.set(root, dirs);
    for (const group of ['packages', 'servers', 'tooling']) {
      const base = join(root, group);
      if (!existsSync(base)) continue;
      for (const entry of readdirSync(base)) {
        const file = join(base, entry, 'package.json');
        if (existsSync(file)) dirs.set(readJson(file).name, join(base, entry));
      }
    }
  }
  const dir = dirs.get(name);
  if (!dir) throw new Error(`no workspace package named ${name}`);
  return dir;
}

function resolveRelative(from: string, specifier: string): string | undefined {
  const file = resolve(dirname(from), specifier);
  if (!file.endsWith('.ts')) return undefined; // JSON and other assets are inlined, not modules with imports
  return file;
}

/**
 * Third-party packages reachable from `entry`, each with the version spec of
 * the workspace package whose code imports it (a server's own, or core's).
 */
export function runtimeDependencies(root: string, entry: string): Record<string, string> {
  const seen = new Set<string>();
  const found = new Map<string, string>();
  const queue: Array<{ file: string; owner: string }> = [
    { file: resolve(entry), owner: ownerOf(resolve(entry)) },
  ];
  while (queue.length > 0) {
    const { file, owner } = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(SPECIFIERS)) {
      const specifier = match[1] ?? match[2];
      if (!specifier || isBuiltin(specifier)) continue;
      if (specifier.startsWith('.')) {
        const next = resolveRelative(file, specifier);
        if (next) queue.push({ file: next, owner });
        continue;
      }
      if (specifier.startsWith('@gatehouse/')) {
        const next = workspaceEntry(root, specifier);
        queue.push({ file: next, owner: ownerOf(next) });
        continue;
      }
      const name = packageOf(specifier);
      if (!found.has(name)) found.set(name, versionSpec(owner, name));
    }
  }
  return Object.fromEntries([...found].sort(([a], [b]) => a.localeCompare(b)));
}

/** The folder of the package.json that owns a source file. */
function ownerOf(file: string): string {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir))
    if (existsSync(join(dir, 'package.json'))) return dir;
  throw new Error(`${file} belongs to no package`);
}

function versionSpec(ownerDir: string, name: string): string {
  const json = readJson(join(ownerDir, 'package.json'));
  const spec = json.dependencies?.[name] ?? json.peerDependencies?.[name];
  if (!spec)
    throw new Error(
      `${json.name} imports ${name} at run time but does not list it in its dependencies (${ownerDir}/package.json)`,
    );
  return spec;
}

/** The dependencies a server's package.json should list: exactly what its binary loads. */
export function serverDependencies(root: string, serverDir: string): Record<string, string> {
  return runtimeDependencies(root, join(serverDir, 'src/bin.ts'));
}
