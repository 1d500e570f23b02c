/**
 * Finds the servers' sandbox fragments in the workspace at run time: every `servers/<name>/sandbox/index.ts`
 * under the repository root, which is found from this module's own location (source or built `dist/`).
 * Nothing here imports a server package; each fragment is loaded by path with a dynamic import.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkDomain, type SandboxDomain } from './domain.ts';

/** The file a server contributes, relative to its folder. */
const FRAGMENT = join('sandbox', 'index.ts');

/** The repository root: the nearest folder above `from` holding pnpm-workspace.yaml. */
export function workspaceRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`no pnpm-workspace.yaml above ${from}: cannot find servers/*/sandbox`);
    dir = parent;
  }
}

/** Paths of every server's fragment, in folder-name order. */
export function fragmentFiles(root: string = workspaceRoot()): string[] {
  const servers = join(root, 'servers');
  if (!existsSync(servers)) return [];
  return readdirSync(servers, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => join(servers, name, FRAGMENT))
    .filter((file) => existsSync(file));
}

async function load(file: string): Promise<SandboxDomain> {
  let mod: { default?: unknown };
  try {
    mod = await import(/* @vite-ignore */ pathToFileURL(file).href);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const hint =
      code === 'ERR_UNKNOWN_FILE_EXTENSION'
        ? ' (fragments are TypeScript: run on Node 22.18+ or 24, or with --experimental-strip-types)'
        : '';
    throw new Error(`cannot load sandbox fragment ${file}${hint}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return checkDomain(mod.default, file);
}

/**
 * Loads every server's fragment from the workspace, in folder-name order. A fragment's name is its
 * server's folder name, so `tokens[<folder>]` and `SANDBOX_TOKEN_<FOLDER>` always line up.
 */
export async function discoverDomains(root: string = workspaceRoot()): Promise<SandboxDomain[]> {
  const domains: SandboxDomain[] = [];
  for (const file of fragmentFiles(root)) {
    const domain = await load(file);
    const folder = basename(dirname(dirname(file)));
    if (domain.name !== folder)
      throw new Error(
        `sandbox fragment ${file} is named '${domain.name}'; name it after its folder, '${folder}'`,
      );
    domains.push(domain);
  }
  return domains;
}
