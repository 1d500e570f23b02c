/** The workspace as the release sees it: which packages exist, which are published, which are servers. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

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

/** Every package under packages/, servers/ and tooling/ (the pnpm workspace globs). */
export function workspacePackages(root = repoRoot): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  for (const group of ['packages', 'servers', 'tooling']) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const entry of readdirSync(groupDir, { withFileTypes: true })) {
      const file = join(groupDir, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(file)) continue;
      found.push({
        dir: join(groupDir, entry.name),
        relativeDir: `${group}/${entry.name}`,
        json: readJson(file),
      });
    }
  }
  return found.sort((a, b) => a.relativeDir.localeCompare(b.relativeDir));
}

/** Packages changesets publishes: every non-private one. */
export function publishablePackages(root = repoRoot): WorkspacePackage[] {
  return workspacePackages(root).filter((p) => !p.json.private);
}

/** Servers: published packages under servers/ with a binary. */
export function serverPackages(root = repoRoot): WorkspacePackage[] {
  return publishablePackages(root).filter((p) => p.relativeDir.startsWith('servers/') && p.json.bin);
}
