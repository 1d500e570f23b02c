/**
 * The deployment artifacts under deploy/, checked as far as a machine without
 * a cluster or a Docker engine allows: every YAML parses; each overlay renders
 * (kubectl's built-in kustomize when present, else a small renderer for the
 * subset the overlays use) into objects that pass the Kubernetes OpenAPI
 * schemas (kubernetes-models, offline); probes hit routes the built server
 * really serves; env names are the ones `--help` lists; ports agree; no
 * credential is inline. Dockerfiles are linted structurally.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../../..');
const DEPLOY = join(ROOT, 'deploy');
const SERVERS = {
  'platform-ops': 'PLATFORM_OPS',
  docs: 'DOCS',
  support: 'SUPPORT',
} as const;
type ServerName = keyof typeof SERVERS;
const SERVER_NAMES = Object.keys(SERVERS) as ServerName[];
const SECRET_NAMES = /(TOKEN|_KEY|SECRET|PASSWORD)$/;

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form until validated
type Obj = Record<string, any>;

const MODELS: Record<string, new (data: Obj) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment as never,
  'v1/Service': Service as never,
  'v1/ServiceAccount': ServiceAccount as never,
  'v1/ConfigMap': ConfigMap as never,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler as never,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as never,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy as never,
};

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(dir, f));
}

function binOf(server: ServerName): string {
  return join(ROOT, 'servers', server, 'dist/bin.js');
}

const helpCache = new Map<ServerName, Set<string>>();
/** The variable names `<server> --help` lists (the built binary, as shipped). */
function helpNames(server: ServerName): Set<string> {
  let names = helpCache.get(server);
  if (!names) {
    const text = execFileSync(process.execPath, [binOf(server), '--help'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    names = new Set([...text.matchAll(/^ {2}([A-Z][A-Z0-9_]+) /gm)].map((m) => m[1]!));
    helpCache.set(server, names);
  }
  return names;
}

// ── rendering ────────────────────────────────────────────────────────────

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
const KUBECTL = hasKubectl();

function isObj(v: unknown): v is Obj {
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
function renderByHand(overlay: string): Obj[] {
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

function render(server: ServerName): Obj[] {
  const overlay = join(DEPLOY, 'k8s/overlays', server);
  if (!KUBECTL) return renderByHand(overlay);
  const text = execFileSync('kubectl', ['kustomize', overlay], { encoding: 'utf8', timeout: 20_000 });
  return parseAllDocuments(text).map((d) => d.toJSON() as Obj);
}

const rendered = new Map<ServerName, Obj[]>();
function manifests(server: ServerName): Obj[] {
  let docs = rendered.get(server);
  if (!docs) {
    docs = render(server);
    rendered.set(server, docs);
  }
  return docs;
}
const one = (server: ServerName, kind: string) => {
  const found = manifests(server).filter((d) => d.kind === kind);
  expect(found, `${server}: one ${kind}`).toHaveLength(1);
  return found[0]!;
};

// ── the checks ───────────────────────────────────────────────────────────

describe('Kubernetes manifests', () => {
  it('parse as YAML, every file', () => {
    const files = filesUnder(join(DEPLOY, 'k8s'), '.yaml');
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const file of files)
      for (const doc of parseAllDocuments(readFileSync(file, 'utf8')))
        expect(doc.errors.map((e) => `${file}: ${e.message}`)).toEqual([]);
  });

  it.each(SERVER_NAMES)('%s: renders to schema-valid objects of the expected kinds', (server) => {
    const docs = manifests(server);
    const kinds = docs.map((d) => d.kind).sort();
    expect(kinds).toEqual(
      [
        'ConfigMap',
        'Deployment',
        'HorizontalPodAutoscaler',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'Service',
        'ServiceAccount',
      ].sort(),
    );
    for (const doc of docs) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      expect(Model, `${doc.apiVersion} ${doc.kind} is a known, current API`).toBeDefined();
      expect(() => new Model!(doc).validate(), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
      expect(doc.metadata.name.startsWith(`${server}-`), doc.metadata.name).toBe(true);
      expect(doc.metadata.namespace).toBe('gatehouse');
    }
  });

  it.each(SERVER_NAMES)('%s: a hardened, probed, bounded Deployment', (server) => {
    const deployment = one(server, 'Deployment');
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.containers).toHaveLength(1);
    const c = pod.containers[0];
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.resources.limits).toMatchObject({ memory: expect.any(String) });
    expect(c.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
    expect(c.args).toEqual(['--transport', 'http']);
    expect(c.image).toMatch(new RegExp(`/${server}:\\d+\\.\\d+\\.\\d+$`));
    // Every writable mount is scratch space; the root filesystem stays read-only.
    const volumes = new Map<string, Obj>(pod.volumes.map((v: Obj) => [v.name, v]));
    for (const m of c.volumeMounts) {
      const v = volumes.get(m.name);
      expect(v, `volume ${m.name}`).toBeDefined();
      if (!m.readOnly) expect(v!.emptyDir ?? v!.persistentVolumeClaim, m.name).toBeDefined();
    }
    const writable = c.volumeMounts.filter((m: Obj) => !m.readOnly).map((m: Obj) => m.mountPath as string);
    const config = one(server, 'ConfigMap').data as Record<string, string>;
    const prefix = SERVERS[server];
    for (const path of [config[`${prefix}_AUDIT_FILE`], config[`${prefix}_INDEX_PATH`]].filter(Boolean))
      expect(
        writable.some((w: string) => path!.startsWith(`${w}/`)),
        `${path} is on a writable volume`,
      ).toBe(true);
    // Selectors of every companion object find this pod, and the HPA scales this Deployment.
    const labels = deployment.spec.template.metadata.labels;
    expect(labels).toMatchObject(deployment.spec.selector.matchLabels);
    expect(labels).toMatchObject(one(server, 'Service').spec.selector);
    expect(labels).toMatchObject(one(server, 'PodDisruptionBudget').spec.selector.matchLabels);
    expect(labels).toMatchObject(one(server, 'NetworkPolicy').spec.podSelector.matchLabels);
    expect(one(server, 'HorizontalPodAutoscaler').spec.scaleTargetRef).toMatchObject({
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    expect(pod.serviceAccountName).toBe(one(server, 'ServiceAccount').metadata.name);
  });

  it.each(SERVER_NAMES)('%s: ports agree between container, config, Service, policy and image', (server) => {
    const prefix = SERVERS[server];
    const c = one(server, 'Deployment').spec.template.spec.containers[0];
    const http = c.ports.find((p: Obj) => p.name === 'http');
    const config = one(server, 'ConfigMap').data as Record<string, string>;
    expect(Number(config[`${prefix}_HTTP_PORT`])).toBe(http.containerPort);
    expect(config[`${prefix}_HTTP_HOST`]).toBe('0.0.0.0');
    const service = one(server, 'Service');
    expect(service.spec.ports.map((p: Obj) => p.targetPort)).toEqual(['http']);
    const policy = one(server, 'NetworkPolicy');
    for (const rule of policy.spec.ingress)
      for (const p of rule.ports) expect([http.name, http.containerPort]).toContain(p.port);
    const dockerfile = readFileSync(join(DEPLOY, 'docker', `${server}.Dockerfile`), 'utf8');
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${http.containerPort}$`, 'm'));
  });

  it.each(SERVER_NAMES)(
    '%s: only variables its --help lists, only its own credentials, none inline',
    (server) => {
      const prefix = SERVERS[server];
      const help = helpNames(server);
      expect(help.has(`${prefix}_PUBLIC_URL`)).toBe(true);
      const c = one(server, 'Deployment').spec.template.spec.containers[0];
      const config = one(server, 'ConfigMap').data as Record<string, string>;
      const names = [...Object.keys(config), ...(c.env ?? []).map((e: Obj) => e.name as string)];
      for (const name of names) {
        const base = help.has(name) ? name : name.replace(/_FILE$/, '');
        expect(help.has(base), `${name} is listed by ${server} --help`).toBe(true);
        expect(name.startsWith(`${prefix}_`), `${name} has the ${prefix}_ prefix`).toBe(true);
      }
      // Credentials are files from this server's own Secret, never values.
      for (const name of Object.keys(config)) expect(SECRET_NAMES.test(name), `${name} inline`).toBe(false);
      for (const e of c.env ?? []) {
        expect(e.valueFrom?.secretKeyRef, e.name).toBeUndefined();
        if (SECRET_NAMES.test(e.name)) expect.fail(`${e.name} is given inline`);
        if (e.value !== undefined && /_FILE$/.test(e.name))
          expect(e.value).toMatch(/^\/var\/run\/secrets\/gatehouse\//);
      }
      for (const name of ['API_TOKEN', 'STATE_KEY', 'AUDIT_KEY', 'METRICS_TOKEN'])
        expect(names, `${prefix}_${name} comes from a file`).toContain(`${prefix}_${name}_FILE`);
      const secrets = one(server, 'Deployment').spec.template.spec.volumes.filter((v: Obj) => v.secret);
      expect(secrets.map((v: Obj) => v.secret.secretName)).toEqual([`${server}-credentials`]);
      const credentials = c.volumeMounts.find((m: Obj) => m.mountPath === '/var/run/secrets/gatehouse');
      expect(credentials.readOnly).toBe(true);
      expect(manifests(server).some((d) => d.kind === 'Secret')).toBe(false);
    },
  );

  it('commits no Secret object and no credential-looking value anywhere under deploy/', () => {
    const files = [
      ...filesUnder(join(DEPLOY, 'k8s'), '.yaml'),
      ...filesUnder(join(DEPLOY, 'docker'), 'Dockerfile'),
    ];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/^kind:\s*Secret\s*$/m);
      expect(text, file).not.toMatch(/^\s*(data|stringData):\s*$/m);
      expect(text, file).not.toMatch(/-----BEGIN|eyJ[A-Za-z0-9_-]{10,}\./);
    }
  });

  it('probes only routes the built servers actually serve', async () => {
    const paths = new Set<string>();
    for (const server of SERVER_NAMES) {
      const c = one(server, 'Deployment').spec.template.spec.containers[0];
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe].filter(Boolean))
        paths.add(probe.httpGet.path);
    }
    expect([...paths].sort()).toEqual(['/healthz', '/readyz']);
    await Promise.all(
      SERVER_NAMES.map(async (server) => {
        const prefix = SERVERS[server];
        const child = spawn(
          process.execPath,
          [binOf(server), '--transport', 'http', '--no-auth', '--port', '0'],
          {
            env: {
              PATH: process.env.PATH ?? '',
              [`${prefix}_API_URL`]: 'http://127.0.0.1:9',
              [`${prefix}_API_TOKEN`]: 'unused-token-for-probes',
              [`${prefix}_LOG_LEVEL`]: 'silent',
            },
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        try {
          const url = await new Promise<string>((res, rej) => {
            let err = '';
            const timer = setTimeout(() => rej(new Error(`${server} did not start: ${err}`)), 10_000);
            child.stderr.on('data', (b: Buffer) => {
              err += b.toString();
              const m = /listening on (http:\/\/\S+)\/mcp/.exec(err);
              if (m) {
                clearTimeout(timer);
                res(m[1]!);
              }
            });
            child.once('exit', (code) => rej(new Error(`${server} exited ${code}: ${err}`)));
          });
          for (const path of paths) {
            const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5_000) });
            expect(response.status, `${server} ${path}`).toBe(200);
          }
        } finally {
          child.kill('SIGKILL');
        }
      }),
    );
  });

  it.runIf(KUBECTL)(
    'renders the same objects with kubectl kustomize as by hand (renderer fallback stays honest)',
    () => {
      for (const server of SERVER_NAMES) {
        const byHand = renderByHand(join(DEPLOY, 'k8s/overlays', server));
        const strip = (d: Obj) => {
          const copy = structuredClone(d);
          if (copy.kind === 'ConfigMap')
            copy.metadata.name = copy.metadata.name.replace(/-[a-z0-9]{10}$/, '');
          for (const c of copy.spec?.template?.spec?.containers ?? [])
            for (const e of c.envFrom ?? [])
              e.configMapRef.name = e.configMapRef.name.replace(/-[a-z0-9]{10}$/, '');
          return copy;
        };
        const key = (d: Obj) => `${d.kind}/${d.metadata.name}`;
        // Named lists are sets to Kubernetes; kustomize puts patched-in entries first.
        const canonical = (v: unknown): unknown =>
          Array.isArray(v)
            ? v
                .map(canonical)
                .sort((x, y) =>
                  isObj(x) && isObj(y) && 'name' in x && 'name' in y
                    ? String(x.name).localeCompare(String(y.name))
                    : 0,
                )
            : isObj(v)
              ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canonical(x)]))
              : v;
        const a = manifests(server)
          .map(strip)
          .sort((x, y) => key(x).localeCompare(key(y)));
        const b = byHand.sort((x, y) => key(x).localeCompare(key(y)));
        expect(canonical(b)).toEqual(canonical(a));
      }
    },
  );
});

// ── Dockerfiles ──────────────────────────────────────────────────────────

interface Instruction {
  op: string;
  args: string;
}

/** Instructions with line continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

describe('Dockerfiles', () => {
  it.each(SERVER_NAMES)(
    '%s: multi-stage, pinned, pnpm deploy of only this server, non-root, health-checked',
    (server) => {
      const file = join(DEPLOY, 'docker', `${server}.Dockerfile`);
      expect(existsSync(`${file}.dockerignore`)).toBe(true);
      const all = instructions(readFileSync(file, 'utf8'));
      const froms = all.filter((i) => i.op === 'FROM');
      expect(froms.length).toBeGreaterThanOrEqual(2);
      for (const from of froms) {
        const image = from.args.split(/\s+/)[0]!;
        expect(image, 'a tag is pinned').toMatch(/^[^:]+:[^:]+$/);
        expect(image).not.toMatch(/:latest$/);
        expect(image).toMatch(/:\d+\.\d+\.\d+/);
      }
      const lastFrom = all.lastIndexOf(froms.at(-1)!);
      const build = all.slice(0, lastFrom);
      const runtime = all.slice(lastFrom);
      const runs = build.filter((i) => i.op === 'RUN').map((i) => i.args);
      expect(runs.some((r) => r.includes('--frozen-lockfile'))).toBe(true);
      expect(runs.some((r) => new RegExp(`--filter @gatehouse/${server} deploy .*--prod`).test(r))).toBe(
        true,
      );
      expect(runtime.some((i) => i.op === 'COPY' && i.args.includes('--from=build'))).toBe(true);
      // Nothing but the deployed package reaches the runtime stage.
      expect(runtime.filter((i) => i.op === 'COPY' && !i.args.includes('--from='))).toEqual([]);
      const user = runtime.filter((i) => i.op === 'USER').at(-1);
      expect(user, 'USER in the final stage').toBeDefined();
      expect(user!.args).not.toMatch(/^(root|0)(:|$)/);
      expect(user!.args).toMatch(/^\d+(:\d+)?$/); // numeric, so runAsNonRoot can verify it
      const health = runtime.find((i) => i.op === 'HEALTHCHECK');
      expect(health?.args).toContain('/healthz');
      expect(runtime.find((i) => i.op === 'ENTRYPOINT')?.args).toBe('["node", "/app/dist/bin.js"]');
      expect(runtime.find((i) => i.op === 'CMD')?.args).toBe('["--transport", "http"]');
      expect(runtime.find((i) => i.op === 'VOLUME')?.args).toContain('/var/lib/gatehouse');
      expect(all.some((i) => i.op === 'ADD')).toBe(false);
      // ENV: known names only, no credentials, state on the volume.
      const help = helpNames(server);
      const env = Object.fromEntries(
        runtime
          .filter((i) => i.op === 'ENV')
          .flatMap((i) => [...i.args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)].map((m) => [m[1]!, m[2]!])),
      );
      for (const [name, value] of Object.entries(env)) {
        if (name === 'NODE_ENV') continue;
        expect(help.has(name), `${name} in --help`).toBe(true);
        expect(SECRET_NAMES.test(name), `${name} is a credential`).toBe(false);
        if (/_(FILE|PATH)$/.test(name)) expect(value.startsWith('/var/lib/gatehouse/'), name).toBe(true);
      }
      const prefix = SERVERS[server];
      expect(runtime.find((i) => i.op === 'EXPOSE')?.args).toBe(env[`${prefix}_HTTP_PORT`]);
      expect(health?.args).toContain(`${prefix}_HTTP_PORT`);
    },
  );
});
