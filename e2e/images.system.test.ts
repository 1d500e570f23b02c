/**
 * The images, built and run for real: a dockerd of the test's own (Debian's docker.io, own data root
 * and socket, host networking), every server's image built by deploy/docker/build.sh with no network
 * inside the build (a debootstrap base, Node from the npm `node` package, the server `pnpm deploy`ed on
 * the host). Each runs read-only as uid 1000 and serves the v2 client over HTTP on 127.0.0.1; its
 * HEALTHCHECK turns healthy; SIGTERM drains and exits 0; the upstream token (a file mounted at run
 * time) is in no layer, no image and no container config. And a container killed with SIGKILL and
 * started again with its volume loses no record a client saw answered: its spool ships them all.
 *
 * .ci/run installs docker.io and debootstrap and fails when this is skipped under CI=true.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, makeCerts, ok, readAudit, receivedCopy } from '@gatehouse/core/testing';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerMissing, type Engine, startEngine } from './src/docker.ts';
import { approvalReplicas, findNginx, startNginx } from './src/nginx.ts';
import { createRsyslog, rsyslogMissing } from './src/rsyslog.ts';
import { type E2eHarness, type E2eServer, repoRoot, SERVERS, startHarness } from './src/servers.ts';

const missing = dockerMissing() ?? rsyslogMissing();
if (missing) console.warn(`images.system.test.ts skipped: ${missing}`);
const NGINX = findNginx();
if (!NGINX) console.warn('images.system.test.ts: the replicas test is skipped: nginx is not installed');
const API_KEY = 'gh_images_key_5d1f8b2a9c3e4f70_secret';
const ROLLBACK = {
  service: 'payments-gateway',
  environment: 'staging',
  reason: 'error rate doubled after 2.3 deploy',
} as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function callOverHttp(url: string, server: E2eServer, times = 1): Promise<void> {
  const client = new Client({ name: 'image-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  try {
    for (let i = 0; i < times; i++) ok(await client.callTool(server.call!));
  } finally {
    await client.close();
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

describe.skipIf(missing !== undefined)('server images, built with no network and run read-only', () => {
  let engine: Engine;
  const images = new Map<string, string>();
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-images-'));
  const harnesses: E2eHarness[] = [];

  beforeAll(async () => {
    engine = await startEngine(join(dir, 'engine'));
    const { stdout } = await promisify(execFile)(join(repoRoot, 'deploy/docker/build.sh'), [], {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...engine.env,
        DOCKER: engine.cli,
        STAGE: join(dir, 'stage'),
        IMAGE_TAG: 'test',
      },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 900_000,
    });
    for (const tag of stdout.trim().split('\n')) images.set(tag.split('/')[1]!.split(':')[0]!, tag);
  }, 900_000);

  afterAll(async () => {
    await engine?.stop();
    await Promise.all(harnesses.map((h) => h.close()));
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** Runs a server's image as a client would deploy it: token from a mounted file, state on a volume. */
  async function runServer(
    server: E2eServer,
    name: string,
    options: { extra?: string[]; volume?: string; harness?: E2eHarness; args?: string[] } = {},
  ) {
    const { extra = [], volume, args = ['--transport', 'http', '--no-auth'] } = options;
    const h = options.harness ?? (await startHarness(server, 'info'));
    if (!options.harness) harnesses.push(h);
    const env = h.env();
    const p = server.prefix;
    const secrets = join(dir, `${name}-secrets`);
    mkdirSync(secrets, { recursive: true });
    writeFileSync(join(secrets, 'token'), env[`${p}_API_TOKEN`]!);
    chmodSync(join(secrets, 'token'), 0o644);
    const port = await freePort();
    await engine.docker(
      'run',
      '-d',
      '--name',
      name,
      '--read-only',
      '--tmpfs',
      '/tmp',
      '--network',
      'host',
      '--health-interval',
      '1s',
      '--health-start-period',
      '1s',
      '-v',
      `${volume ?? `${name}-data`}:/var/lib/gatehouse`,
      '-v',
      `${secrets}:/run/secrets/gatehouse:ro`,
      '-e',
      `${p}_HTTP_HOST=127.0.0.1`,
      '-e',
      `${p}_HTTP_PORT=${port}`,
      '-e',
      `${p}_API_URL=${env[`${p}_API_URL`]}`,
      '-e',
      `${p}_API_TOKEN_FILE=/run/secrets/gatehouse/token`,
      ...extra,
      images.get(server.name)!,
      ...args,
    );
    const url = `http://127.0.0.1:${port}/mcp`;
    await until(`${name} to listen`, async () =>
      (await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined,
    );
    return { url, port, token: env[`${p}_API_TOKEN`]! };
  }

  it('builds one image per server, none needing the network', () => {
    expect([...images.keys()].sort()).toEqual(SERVERS.map((s) => s.name).sort());
  });

  it.each(SERVERS.map((s) => s.name))(
    '%s: read-only, non-root, serves v2, healthy, drains on SIGTERM, no secret in any layer',
    async (name) => {
      const server = SERVERS.find((s) => s.name === name)!;
      const container = `gh-${name}`;
      const { url, token } = await runServer(server, container);
      await callOverHttp(url, server, 2);
      expect((await engine.docker('exec', container, 'node', '-p', 'process.getuid()')).trim()).toBe('1000');
      await expect(
        engine.docker('exec', container, 'node', '-e', "require('fs').writeFileSync('/app/x', 'x')"),
      ).rejects.toThrow(/EROFS/);
      await until('healthy', async () =>
        (await engine.docker('inspect', '-f', '{{.State.Health.Status}}', container)).trim() === 'healthy'
          ? true
          : undefined,
      );
      const inspect = await engine.docker('inspect', container, images.get(name)!);
      const history = await engine.docker('history', '--no-trunc', images.get(name)!);
      expect(inspect).not.toContain(token);
      expect(history).not.toContain(token);
      expect(JSON.parse(inspect)[0].Config.User).toBe('1000:1000');
      await engine.docker('stop', '-t', '20', container);
      expect((await engine.docker('inspect', '-f', '{{.State.ExitCode}}', container)).trim()).toBe('0');
      const stderr = (await promisify(execFile)(engine.cli, ['logs', container], { env: engine.env })).stderr;
      expect(stderr).toContain('shutting down: draining');
      expect(stderr).not.toContain(token);
    },
    180_000,
  );

  it('a container killed with SIGKILL and started again with its volume loses no record a client saw answered', async () => {
    const server = SERVERS.find((s) => s.name === 'platform-ops')!;
    mkdirSync(join(dir, 'certs'));
    const certs = makeCerts(join(dir, 'certs'));
    chmodSync(certs.dir, 0o755);
    chmodSync(certs.caFile, 0o644);
    const syslog = await createRsyslog(join(dir, 'rsyslog'), certs);
    const data = join(dir, 'kill-data');
    mkdirSync(data);
    chmodSync(data, 0o777);
    const p = server.prefix;
    const shipping = [
      '-v',
      `${certs.dir}:/run/certs:ro`,
      '-e',
      `${p}_AUDIT_SYSLOG=tls://127.0.0.1:${syslog.port}`,
      '-e',
      `${p}_AUDIT_SYSLOG_CA_FILE=/run/certs/ca.pem`,
      '-e',
      `${p}_AUDIT_SPOOL_DIR=/var/lib/gatehouse/spool`,
      '-e',
      `${p}_AUDIT_REPLICA=replica-a`,
    ];
    try {
      // rsyslog is down: every answered call's record waits in the spool on the volume.
      const { url } = await runServer(server, 'gh-kill', { extra: shipping, volume: data });
      await callOverHttp(url, server, 30);
      await engine.docker('kill', '-s', 'KILL', 'gh-kill');
      await syslog.start();
      await engine.docker('start', 'gh-kill');
      const answered = 30;
      const copy = await until(
        'the spool to drain',
        async () => {
          const c = receivedCopy(syslog.messages(), dir);
          return readAudit(c.log).length >= answered ? c : undefined;
        },
        60_000,
      );
      const local = readFileSync(join(data, 'audit.jsonl'), 'utf8').trim().split('\n');
      expect(copy.records).toEqual(local);
      expect(readAudit(copy.log)).toHaveLength(answered);
      await engine.docker('stop', 'gh-kill');
    } finally {
      await syslog.stop();
    }
  }, 240_000);
  it.skipIf(!NGINX)(
    'two replicas behind nginx: one client spread over both, an approval sealed by one completed by the other',
    async () => {
      const server = SERVERS.find((s) => s.name === 'platform-ops')!;
      const h = await startHarness(server, 'info');
      harnesses.push(h);
      const p = server.prefix;
      const shared = join(dir, 'replica-secrets');
      mkdirSync(shared, { recursive: true });
      writeFileSync(join(shared, 'state-key'), 's'.repeat(24) + 't'.repeat(24));
      writeFileSync(
        join(shared, 'api-keys.json'),
        JSON.stringify([
          {
            name: 'operator',
            sha256: createHash('sha256').update(API_KEY).digest('hex'),
            scopes: Object.keys(server.definition.scopes),
          },
        ]),
      );
      for (const f of ['state-key', 'api-keys.json']) chmodSync(join(shared, f), 0o644);
      const audits: string[] = [];
      const ports: number[] = [];
      for (const replica of ['a', 'b']) {
        const data = join(dir, `replica-${replica}`);
        mkdirSync(data);
        chmodSync(data, 0o777);
        audits.push(join(data, 'audit.jsonl'));
        const { port } = await runServer(server, `gh-replica-${replica}`, {
          harness: h,
          volume: data,
          args: ['--transport', 'http'],
          extra: [
            '-v',
            `${shared}:/run/shared:ro`,
            '-e',
            `${p}_STATE_KEY_FILE=/run/shared/state-key`,
            '-e',
            `${p}_API_KEYS_FILE=/run/shared/api-keys.json`,
            '-e',
            `${p}_PUBLIC_URL=https://ops.gatehouse.test/mcp`,
            '-e',
            `${p}_TRUSTED_PROXIES=127.0.0.1`,
          ],
        });
        ports.push(port);
      }
      const proxy = await startNginx(NGINX!, join(dir, 'nginx'), ports);
      const client = new Client(
        { name: 'replicas-test', version: '1.0.0' },
        { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } },
      );
      client.setRequestHandler('elicitation/create', async () => ({
        action: 'accept' as const,
        content: { approve: true },
      }));
      try {
        await client.connect(
          new StreamableHTTPClientTransport(new URL(`${proxy.url}/mcp`), {
            requestInit: { headers: { authorization: `Bearer ${API_KEY}` } },
          }),
        );
        for (let i = 0; i < 4; i++) ok(await client.callTool(server.call!));
        for (const file of audits)
          expect(readAudit(file).filter((r) => r.name === server.call!.name).length).toBeGreaterThan(0);
        await h.control.clearRequests();
        const result = await client.callTool({ name: 'rollback_deploy', arguments: ROLLBACK });
        expect(result.isError).toBeFalsy();
      } finally {
        await client.close();
        await proxy.stop();
      }
      const { sealedBy, completedBy } = approvalReplicas(audits, 'rollback_deploy');
      expect(sealedBy).toBeGreaterThanOrEqual(0);
      expect(completedBy).toBeGreaterThanOrEqual(0);
      expect(completedBy).not.toBe(sealedBy);
      const posts = (await h.control.requests()).filter((r) => r.method === 'POST');
      expect(posts).toHaveLength(1);
      for (const replica of ['a', 'b']) await engine.docker('stop', `gh-replica-${replica}`);
    },
    240_000,
  );
});
