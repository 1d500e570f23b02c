/**
 * A throw-away npm registry (Verdaccio) on 127.0.0.1 for release tests and
 * measurements: its own storage, config and users in a temp folder, deleted
 * on close. `@gatehouse/*` lives only here (never proxied, so a public package
 * of the same name can never be installed in its place); everything else is
 * proxied to the uplink, which is the registry the host's npm is configured
 * with unless `uplink` says otherwise.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const verdaccioBin = join(dirname(require.resolve('verdaccio/package.json')), 'bin', 'verdaccio');

export interface LocalRegistry {
  /** e.g. http://127.0.0.1:4873/ (trailing slash, as npm writes it). */
  url: string;
  /** A publish token for the user created at start. */
  token: string;
  /** An .npmrc that points npm and pnpm (and the `@gatehouse` scope) at this registry only, with the token. */
  npmrc: string;
  /** Where Verdaccio keeps its data (inside the throw-away folder). */
  dir: string;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The registry the host's npm uses (respects NPM_CONFIG_REGISTRY and .npmrc files). */
export function hostRegistry(): string {
  return execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim();
}

/**
 * Verdaccio reaches the uplink with the host's proxy settings and trusts the CA
 * file npm is configured with (`cafile`), as npm itself would.
 */
function uplinkEnv(home: string): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home };
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && /^(https?_proxy|no_proxy|NODE_EXTRA_CA_CERTS)$/i.test(key)) env[key] = value;
  }
  const cafile = execFileSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).trim();
  if (cafile && cafile !== 'null' && cafile !== 'undefined' && !env.NODE_EXTRA_CA_CERTS)
    env.NODE_EXTRA_CA_CERTS = cafile;
  return env;
}

async function waitUntilUp(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (let attempt = 0; attempt < 300 && Date.now() < deadline; attempt++) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode}:\n${log()}`);
    try {
      const response = await fetch(`${url}-/ping`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`verdaccio did not answer on ${url} within 30 s:\n${log()}`);
}

export async function startRegistry(options: { uplink?: string } = {}): Promise<LocalRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-registry-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const uplink = options.uplink ?? hostRegistry();
  const config = [
    `storage: ${JSON.stringify(join(dir, 'storage'))}`,
    'auth:',
    '  htpasswd:',
    `    file: ${JSON.stringify(join(dir, 'htpasswd'))}`,
    '    max_users: 10',
    'uplinks:',
    '  upstream:',
    `    url: ${JSON.stringify(uplink)}`,
    '    timeout: 60s',
    '    max_fails: 5',
    'packages:',
    "  '@gatehouse/*':",
    '    access: $all',
    '    publish: $authenticated',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    '    proxy: upstream',
    'server:',
    '  keepAliveTimeout: 60',
    'max_body_size: 200mb',
    'logs: { type: stdout, format: pretty, level: warn }',
    'web: { enable: false }',
    '',
  ].join('\n');
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, config);
  const child = spawn(
    process.execPath,
    [verdaccioBin, '--config', configFile, '--listen', `127.0.0.1:${port}`],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: uplinkEnv(dir),
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  });
  const close = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilUp(url, child, () => output);
    // What `npm adduser` does: create a user, receive a token.
    const user = 'release-test';
    const response = await fetch(`${url}-/user/org.couchdb.user:${user}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: user, password: `pw-${port}-${Date.now()}`, type: 'user', roles: [] }),
    });
    const body = (await response.json()) as { token?: string };
    if (!response.ok || !body.token)
      throw new Error(`could not create a registry user: ${JSON.stringify(body)}`);
    const hostPart = url.replace(/^https?:/, '');
    const npmrc = join(dir, 'npmrc');
    writeFileSync(
      npmrc,
      [
        `registry=${url}`,
        `@gatehouse:registry=${url}`,
        `${hostPart}:_authToken=${body.token}`,
        'audit=false',
        'fund=false',
        'update-notifier=false',
        '',
      ].join('\n'),
    );
    return { url, token: body.token, npmrc, dir, close };
  } catch (error) {
    await close();
    throw error;
  }
}
