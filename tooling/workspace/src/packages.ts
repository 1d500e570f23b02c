/** The workspace's packages, read from pnpm-workspace.yaml and each package's package.json. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above `from` holding pnpm-workspace.yaml. */
export function findRepoRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`);
    dir = parent;
  }
}

/** This checkout's root. */
export const repoRoot = findRepoRoot();

export interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  mcpName?: string;
  description?: string;
  bin?: Record<string, string>;
  repository?: { type?: string; url?: string; directory?: string } | string;
  files?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface WorkspacePackage {
  dir: string;
  /** Path relative to the repository root, e.g. servers/platform-ops. */
  relativeDir: string;
  json: PackageJson;
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/**
 * The `packages:` globs of pnpm-workspace.yaml (`servers/*`, `e2e`). Only the forms this repository
 * uses are understood: a folder, or a folder followed by `/*`.
 */
export function workspaceGlobs(root = repoRoot): string[] {
  const lines = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8').split('\n');
  const start = lines.findIndex((line) => /^packages:\s*$/.test(line));
  if (start < 0) throw new Error(`${root}/pnpm-workspace.yaml has no packages: list`);
  const globs: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    const item = /^\s+-\s+['"]?([^'"#\s]+)['"]?/.exec(line)?.[1];
    if (!item) continue;
    if (item.includes('*') && !/^[^*]+\/\*$/.test(item))
      throw new Error(`pnpm-workspace.yaml: unsupported glob ${item} (use <folder> or <folder>/*)`);
    globs.push(item);
  }
  return globs;
}

function packageAt(root: string, dir: string): WorkspacePackage | undefined {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  return { dir, relativeDir: relative(root, dir).split('\\').join('/'), json: readJson(file) };
}

/** Every package of the workspace, in path order. */
export function workspacePackages(root = repoRoot): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  for (const glob of workspaceGlobs(root)) {
    if (!glob.endsWith('/*')) {
      const pkg = packageAt(root, join(root, glob));
      if (pkg) found.push(pkg);
      continue;
    }
    const group = join(root, glob.slice(0, -2));
    if (!existsSync(group)) continue;
    for (const entry of readdirSync(group, { withFileTypes: true })) {
      const pkg = entry.isDirectory() ? packageAt(root, join(group, entry.name)) : undefined;
      if (pkg) found.push(pkg);
    }
  }
  return found.sort((a, b) => a.relativeDir.localeCompare(b.relativeDir));
}

/** Packages changesets publishes: every non-private one. */
export function publishablePackages(root = repoRoot): WorkspacePackage[] {
  return workspacePackages(root).filter((p) => !p.json.private);
}
