/**
 * The README's host configuration, as pasted: every server's packed build is published to a real npm
 * registry (Verdaccio) on 127.0.0.1, then each README block for each host (Claude Desktop, Claude
 * Code, VS Code, Cursor) is taken from the README text, only its `<your-…>` placeholders are filled
 * (registry, the sandbox's URL and token, the home folder Claude Desktop needs spelled out), the
 * host's own variables are expanded as that host does, and the block's command, arguments and
 * environment are started the way the host starts them — through the v2 SDK client's stdio
 * transport, in the host's working folder — on a machine whose npm knows nothing but a stand-in for
 * the public registry. That stand-in refuses every `@gatehouse` request and records it: the scope
 * line in the block is what makes the package resolve, and the public registry is never asked.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalRegistry, startRegistry } from '@gatehouse/release/registry';
import { startSandbox } from '@gatehouse/sandbox';
import {
  apiTokenPlaceholder,
  apiUrlPlaceholder,
  HOST_CONFIG_END,
  HOST_CONFIG_START,
  HOSTS,
  type HostConfig,
  type HostId,
  publishableServers,
  REGISTRY_PLACEHOLDER,
  readmeHostConfigs,
  renderHostConfig,
} from '@gatehouse/workspace';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVERS } from './src/servers.ts';

const work = mkdtempSync(join(tmpdir(), 'gatehouse-host-config-'));
/** The user's home: its .npmrc knows only the public stand-in; npx's cache lands in it (.npm). */
const home = join(work, 'home');
/** The folder a project-based host (Claude Code, VS Code, Cursor) has open. */
const workspace = join(work, 'project');
/** Where Claude Desktop starts servers from: a folder that is no project. */
const desktopCwd = join(work, 'desktop');
const published = new Set(publishableServers().map((s) => s.name));
const servers = SERVERS.filter((s) => published.has(s.name));

let registry: LocalRegistry;
let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let standIn: Server;
/** Requests for a `@gatehouse` package that reached the public stand-in (there must be none). */
const askedPublic: string[] = [];

/** The public registry's stand-in: proxies to the local registry, except the `@gatehouse` scope. */
async function startPublicStandIn(target: URL): Promise<Server> {
  const server = createServer((req, res) => {
    if (decodeURIComponent(req.url ?? '').includes('@gatehouse')) {
      askedPublic.push(req.url ?? '');
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const upstream = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

beforeAll(async () => {
  [registry, sandbox] = await Promise.all([startRegistry(), startSandbox()]);
  standIn = await startPublicStandIn(new URL(registry.url));
  const publicUrl = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}/`;
  for (const dir of [home, workspace, desktopCwd, join(work, 'packs')]) mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(home, '.npmrc'),
    `registry=${publicUrl}\naudit=false\nfund=false\nupdate-notifier=false\n`,
  );
  // One publish: each server's built package as `pnpm pack` makes it (catalog and workspace ranges resolved).
  const env = { ...process.env, NPM_CONFIG_USERCONFIG: registry.npmrc, npm_config_registry: registry.url };
  for (const server of servers) {
    execFileSync('pnpm', ['pack', '--pack-destination', join(work, 'packs')], {
      cwd: server.dir,
      env,
      stdio: 'pipe',
    });
  }
  for (const tarball of readdirSync(join(work, 'packs')))
    execFileSync('npm', ['publish', join(work, 'packs', tarball), '--registry', registry.url], {
      cwd: work,
      env,
      stdio: 'pipe',
    });
}, 180_000);

afterAll(async () => {
  await new Promise((resolve) => standIn?.close(resolve));
  await Promise.allSettled([registry?.close(), sandbox?.close()]);
  rmSync(work, { recursive: true, force: true });
});

/** A value as the host hands it to the process: its own variables expanded, nothing else. */
function expandAsHost(host: HostId, value: string, inputs: Record<string, string>): string {
  const hostEnv: Record<string, string> = { HOME: home, PATH: process.env.PATH ?? '' };
  if (host === 'claude-desktop') return value;
  if (host === 'claude-code')
    return value.replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => {
      return hostEnv[name] ?? fallback ?? '';
    });
  return value.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
    if (name === 'userHome') return home;
    if (name === 'workspaceFolder') return workspace;
    if (name.startsWith('env:')) return hostEnv[name.slice(4)] ?? '';
    if (host === 'vscode' && name.startsWith('input:')) return inputs[name.slice(6)] ?? whole;
    return whole;
  });
}

describe.each(servers)('$name', (server) => {
  const readme = readFileSync(join(server.dir, 'README.md'), 'utf8');

  it('has a host configuration block per host, as pnpm generate writes it', () => {
    const section = readme.slice(
      readme.indexOf(HOST_CONFIG_START) + HOST_CONFIG_START.length,
      readme.indexOf(HOST_CONFIG_END),
    );
    expect(section.trim()).toBe(
      renderHostConfig({
        name: server.name,
        packageName: server.json.name,
        version: server.json.version,
        envPrefix: server.prefix,
      }),
    );
    expect([...readmeHostConfigs(readme).keys()].sort()).toEqual(HOSTS.map((h) => h.id).sort());
  });

  it.each(HOSTS.map((h) => [h.title, h.id] as const))(
    'the %s block, pasted and filled in, starts the published server, which answers',
    async (_title, host) => {
      const block = readmeHostConfigs(readme).get(host) as HostConfig;
      const entry = (block.mcpServers ?? block.servers)?.[server.name];
      expect(entry, `${host} block for ${server.name}`).toBeDefined();
      if (!entry) return;
      const token = sandbox.tokens[server.name] ?? '';
      const fill = (value: string) =>
        expandAsHost(
          host,
          value
            .replaceAll(REGISTRY_PLACEHOLDER, registry.url)
            .replaceAll(apiUrlPlaceholder(server.name), sandbox.url)
            .replaceAll(apiTokenPlaceholder(server.name), token)
            .replaceAll('<your-home-folder>', home),
          { [`${server.name}-api-token`]: token },
        );
      const args = entry.args.map(fill);
      const env = Object.fromEntries(Object.entries(entry.env).map(([k, v]) => [k, fill(v)]));
      for (const value of [entry.command, ...args, ...Object.values(env)]) {
        expect(value, 'a placeholder or host variable left over').not.toMatch(/<your-|\$\{/);
      }
      expect(args.at(-1)).toBe(`${server.json.name}@${server.json.version}`);

      const client = new Client({ name: `host-config-${host}`, version: '1.0.0' });
      const transport = new StdioClientTransport({
        command: entry.command,
        args,
        env: { PATH: process.env.PATH ?? '', HOME: home, ...env },
        cwd: host === 'claude-desktop' ? desktopCwd : workspace,
        stderr: 'pipe',
      });
      let stderr = '';
      transport.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-4000);
      });
      try {
        await client.connect(transport).catch((error: unknown) => {
          throw new Error(`${server.name} in ${host} did not start: ${String(error)}\n${stderr}`);
        });
        expect(client.getServerVersion()?.version).toBe(server.json.version);
        const { tools } = await client.listTools();
        expect(tools.length).toBeGreaterThan(0);
        if (server.call) {
          const result = await client.callTool(server.call);
          expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
        }
      } finally {
        await client.close();
      }
      // The audit folder did not exist: the server made it, and the call is on record.
      const auditFile = env[`${server.prefix}_AUDIT_FILE`];
      expect(auditFile && existsSync(auditFile), `audit file ${auditFile}`).toBe(true);
      expect(askedPublic, 'the public registry was asked for a @gatehouse package').toEqual([]);
    },
    180_000,
  );
});
