/**
 * Kustomize overlays rendered to objects: `kubectl kustomize` when kubectl is installed, else a small
 * renderer for the subset the overlays use (a test keeps the two equal where kubectl exists).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form until validated
export type Obj = Record<string, any>;

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
export const KUBECTL = hasKubectl();

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Strategic merge for the shapes the patches use: maps merge, named lists merge by name. */
function merge(base: unknown, patch: unknown): unknown {
  if (isObj(base) && isObj(patch)) {
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(patch)) out[k] = k in base ? merge(base[k], v) : v;
    return out;
  }
  if (
    Array.isArray(base) &&
    Array.isArray(patch) &&
    [...base, ...patch].every((x) => isObj(x) && 'name' in x)
  ) {
    const out = base.map((b: Obj) => {
      const p = patch.find((x: Obj) => x.name === b.name);
      return p ? merge(b, p) : b;
    });
    for (const p of patch) if (!base.some((b: Obj) => b.name === p.name)) out.push(p);
    return out;
  }
  return patch;
}

/** The subset of kustomize the overlays use, for machines without kubectl. */
export function renderByHand(overlay: string): Obj[] {
  const k = parse(readFileSync(join(overlay, 'kustomization.yaml'), 'utf8')) as Obj;
  const baseDir = resolve(overlay, k.resources[0]);
  const base = parse(readFileSync(join(baseDir, 'kustomization.yaml'), 'utf8')) as Obj;
  let docs: Obj[] = (base.resources as string[]).map((f) => parse(readFileSync(join(baseDir, f), 'utf8')));
  for (const g of k.configMapGenerator ?? [])
    docs.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: g.name },
      data: Object.fromEntries(
        (g.literals as string[]).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      ),
    });
  for (const p of k.patches ?? []) {
    const patch = parse(readFileSync(join(overlay, p.path), 'utf8')) as Obj;
    docs = docs.map((d) =>
      d.kind === patch.kind && d.metadata.name === patch.metadata.name ? (merge(d, patch) as Obj) : d,
    );
  }
  const labels: Record<string, string> = {};
  for (const set of [...(base.labels ?? []), ...(k.labels ?? [])]) Object.assign(labels, set.pairs);
  // The base's labels reach only the base's objects; the overlay's reach everything.
  const overlayLabels: Record<string, string> = {};
  for (const set of k.labels ?? []) Object.assign(overlayLabels, set.pairs);
  const prefix = k.namePrefix ?? '';
  const names = new Set(docs.map((d) => d.metadata.name));
  const rename = (n: string) => (names.has(n) ? `${prefix}${n}` : n);
  for (const d of docs) {
    d.metadata.name = `${prefix}${d.metadata.name}`;
    d.metadata.namespace = k.namespace;
    d.metadata.labels = { ...d.metadata.labels, ...(d.kind === 'ConfigMap' ? overlayLabels : labels) };
    const spec = d.spec;
    if (d.kind === 'Deployment') {
      spec.selector.matchLabels = { ...spec.selector.matchLabels, ...labels };
      spec.template.metadata.labels = { ...spec.template.metadata.labels, ...labels };
      for (const t of spec.template.spec.topologySpreadConstraints ?? [])
        t.labelSelector.matchLabels = { ...t.labelSelector.matchLabels, ...labels };
      const pod = spec.template.spec;
      pod.serviceAccountName = rename(pod.serviceAccountName);
      for (const c of pod.containers) {
        const image = (k.images ?? []).find((i: Obj) => i.name === c.image);
        if (image) c.image = `${image.newName}:${image.newTag}`;
        for (const e of c.envFrom ?? [])
          if (e.configMapRef) e.configMapRef.name = rename(e.configMapRef.name);
      }
    }
    if (d.kind === 'Service') spec.selector = { ...spec.selector, ...labels };
    if (d.kind === 'PodDisruptionBudget')
      spec.selector.matchLabels = { ...spec.selector.matchLabels, ...labels };
    if (d.kind === 'NetworkPolicy')
      spec.podSelector.matchLabels = { ...spec.podSelector.matchLabels, ...labels };
    if (d.kind === 'HorizontalPodAutoscaler') spec.scaleTargetRef.name = rename(spec.scaleTargetRef.name);
  }
  return docs;
}

/** An overlay's objects: `kubectl kustomize` when kubectl is installed, else the renderer above. */
export function render(overlay: string): Obj[] {
  if (!KUBECTL) return renderByHand(overlay);
  const text = execFileSync('kubectl', ['kustomize', overlay], { encoding: 'utf8', timeout: 20_000 });
  return parseAllDocuments(text).map((d) => d.toJSON() as Obj);
}
