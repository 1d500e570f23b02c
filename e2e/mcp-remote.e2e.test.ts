/**
 * The real `mcp-remote` bridge (from npm), as desktop hosts run it: a v2 SDK client on stdio to
 * mcp-remote, mcp-remote over Streamable HTTP to a built server that takes API keys only (no
 * authorization server). The keys are made by the binary's own `keys new api-key`. A read works; a
 * call outside the key's scopes is a DENIED tool error the host can show, not a 403 that would send
 * the bridge into an OAuth flow against an authorization server that does not exist; a destructive
 * call is approved by the client (mcp-remote puts the server's question to it as an elicitation).
 * mcp-remote keeps its state in a scratch folder and talks to 127.0.0.1 only.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorOf, type HttpChild, readAudit, spawnHttp } from '@gatehouse/core/testing';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2eHarness, SERVERS, startHarness } from './src/servers.ts';

const server = SERVERS.find((s) => s.name === 'platform-ops')!;
const BRIDGE = fileURLToPath(import.meta.resolve('mcp-remote/dist/proxy.js'));
const READ = 'platform-ops:read';
const WRITE = 'platform-ops:write';
const ROLLBACK = {
  service: 'payments-gateway',
  environment: 'staging',
  reason: 'error rate doubled after 2.3 deploy',
};

/** A key made by the binary: `keys new api-key`; returns the key and its keys-file entry. */
function makeKey(name: string, scopes: string[]): { key: string; entry: unknown } {
  const out = execFileSync(
    process.execPath,
    [server.bin, 'keys', 'new', 'api-key', '--name', name, '--scopes', scopes.join(',')],
    {
      encoding: 'utf8',
    },
  );
  const lines = out.split('\n');
  return {
    key: lines.find((l) => l.startsWith('gh_'))!,
    entry: JSON.parse(lines.find((l) => l.startsWith('{'))!),
  };
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

it('keys new refuses an unknown kind with one line and exit 2 (the built binary)', () => {
  const run = spawnSync(process.execPath, [server.bin, 'keys', 'new', 'password'], { encoding: 'utf8' });
  expect(run.status).toBe(2);
  expect(run.stdout).toBe('');
  expect(run.stderr).toBe(
    'platform-ops-mcp: keys new: unknown kind "password"; one of api-key, state-key, audit-key, metrics-token (see platform-ops-mcp --help)\n',
  );
});

describe('through mcp-remote with an API key', () => {
  let h: E2eHarness;
  let http: HttpChild;
  let scratch: string;
  let audit: string;
  const keys = { reader: makeKey('reader', [READ]), operator: makeKey('operator', [READ, WRITE]) };
  const bridges: Array<{ client: Client; stderr: () => string }> = [];

  /** A v2 client on stdio to mcp-remote, which sends the key from a header file (never in argv). */
  async function bridged(
    key: string,
    shown: string[] = [],
  ): Promise<{ client: Client; stderr: () => string }> {
    const headerFile = join(scratch, `header-${bridges.length}`);
    writeFileSync(headerFile, `Authorization: Bearer ${key}\n`, { mode: 0o600 });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BRIDGE, http.url, '--header-file', headerFile, '--transport', 'http-only', '--protocol', 'auto'],
      env: { PATH: process.env.PATH ?? '', HOME: scratch, MCP_REMOTE_CONFIG_DIR: join(scratch, 'mcp-auth') },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const client = new Client(
      { name: 'desktop-host', version: '1.0.0' },
      { capabilities: { elicitation: { form: {} } } },
    );
    client.setRequestHandler('elicitation/create', async (request) => {
      shown.push((request.params as { message?: string }).message ?? '');
      return { action: 'accept', content: { approve: true } };
    });
    await client.connect(transport);
    const bridge = { client, stderr: () => stderr };
    bridges.push(bridge);
    return bridge;
  }

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'mcp-remote-'));
    h = await startHarness(server, 'info');
    const keysFile = join(scratch, 'keys.json');
    writeFileSync(keysFile, JSON.stringify([keys.reader.entry, keys.operator.entry]));
    const port = await freePort();
    const env = h.env({
      PLATFORM_OPS_API_KEYS_FILE: keysFile,
      PLATFORM_OPS_PUBLIC_URL: `http://127.0.0.1:${port}/mcp`,
      PLATFORM_OPS_SCOPES: `${READ},${WRITE}`,
    });
    audit = env.PLATFORM_OPS_AUDIT_FILE!;
    http = await spawnHttp(server.bin, env, ['--port', String(port)]);
  }, 60_000);

  afterAll(async () => {
    for (const { client } of bridges) await client.close().catch(() => undefined);
    await http?.stop();
    await h?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('reads, and a call outside the key scopes is a DENIED tool error naming the scope, with no OAuth attempt', async () => {
    const { client, stderr } = await bridged(keys.reader.key);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('get_service_health');
    expect(tools.map((t) => t.name)).not.toContain('rollback_deploy');
    const read = await client.callTool({
      name: 'get_service_health',
      arguments: { service: 'checkout-api' },
    });
    expect(read.isError).toBeFalsy();

    const refused = await client.callTool({ name: 'rollback_deploy', arguments: ROLLBACK });
    expect(errorOf(refused)).toMatchObject({ code: 'DENIED', details: { requiredScopes: [WRITE] } });
    expect(JSON.stringify(refused.content)).toContain(WRITE);
    // The bridge never went looking for an authorization server, registered a client or stored tokens.
    expect(stderr()).toContain('[Local→Remote] tools/call');
    expect(stderr()).not.toMatch(
      /Authentication required|requires authorization|Dynamic Client Registration|Authorization failed|OAuth callback server|sign-in/i,
    );
    expect(
      readdirSync(join(scratch, 'mcp-auth'), { recursive: true }).filter((f) =>
        /tokens|client_info/.test(String(f)),
      ),
    ).toEqual([]);
    const denied = readAudit(audit).find((r) => r.name === 'rollback_deploy' && r.errorCode === 'DENIED');
    expect(denied).toMatchObject({ decision: 'denied', principal: { id: 'reader', kind: 'api-key' } });
    expect(http.stderr()).not.toContain(keys.reader.key);
  }, 60_000);

  it('carries an approval to the client and back: the rollback runs once the client accepts', async () => {
    const shown: string[] = [];
    const { client } = await bridged(keys.operator.key, shown);
    const result = await client.callTool({ name: 'rollback_deploy', arguments: ROLLBACK });
    expect(result.isError, JSON.stringify(result.content).slice(0, 500)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ service: 'payments-gateway', environment: 'staging' });
    expect(shown).toHaveLength(1);
    expect(shown[0]).toContain('payments-gateway');
    const records = readAudit(audit).filter(
      (r) => r.name === 'rollback_deploy' && (r.principal as { id: string }).id === 'operator',
    );
    expect(records.map((r) => r.decision)).toContain('approved');
  }, 60_000);
});
