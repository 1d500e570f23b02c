/**
 * `pnpm demo`: starts the sandbox upstream, then drives each Gatehouse server
 * binary through the official MCP client exactly as a host would, and prints
 * the configuration to paste into a host. Everything runs on 127.0.0.1.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

const root = resolve(import.meta.dirname, '../../..');
const bin = (path: string) => join(root, path);
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (title: string) => console.log(`\n${bold(`▶ ${title}`)}`);
const show = (value: unknown) =>
  console.log(typeof value === 'string' ? value : JSON.stringify(value, null, 2));

interface SandboxInfo {
  url: string;
  tokens: Record<'platform-ops' | 'docs' | 'support', string>;
}

async function startSandbox(): Promise<{ info: SandboxInfo; child: ChildProcess }> {
  const child = spawn(process.execPath, [bin('tooling/sandbox/dist/bin.js'), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolveLine, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolveLine);
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
  return { info: JSON.parse(line) as SandboxInfo, child };
}

async function connect(command: string, env: Record<string, string>, approve: boolean): Promise<Client> {
  const client = new Client(
    { name: 'gatehouse-demo', version: '1.0.0' },
    { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: 'auto' } },
  );
  client.setRequestHandler('elicitation/create', async (request) => {
    const { message } = request.params as { message: string };
    console.log(
      `\n  ┌─ approval prompt shown to the human ─────────────\n${message.replace(/^/gm, '  │ ')}\n  └─ the demo's human answers: ${approve ? 'APPROVE' : 'DECLINE'}`,
    );
    return approve ? { action: 'accept', content: { approve: true } } : { action: 'decline' };
  });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [command],
      env: { PATH: process.env.PATH ?? '', ...env },
      stderr: 'ignore',
    }),
  );
  return client;
}

function summarise(result: { isError?: boolean; content?: unknown; structuredContent?: unknown }) {
  const text =
    (result.content as Array<{ type: string; text?: string }> | undefined)?.find((c) => c.type === 'text')
      ?.text ?? '';
  return `${result.isError ? 'ERROR ' : ''}${text.length > 600 ? `${text.slice(0, 600)}…` : text}`;
}

async function platformOpsDemo(sandbox: SandboxInfo, workdir: string) {
  const command = bin('servers/platform-ops/dist/bin.js');
  const audit = join(workdir, 'platform-ops-audit.jsonl');
  const base = {
    PLATFORM_OPS_API_URL: sandbox.url,
    PLATFORM_OPS_API_TOKEN: sandbox.tokens['platform-ops'],
    PLATFORM_OPS_AUDIT_FILE: audit,
    PLATFORM_OPS_LOG_LEVEL: 'warn',
  };

  step('platform-ops as a read-only operator (the default: only platform-ops:read)');
  const reader = await connect(command, base, true);
  show(`negotiated protocol: ${reader.getNegotiatedProtocolVersion?.() ?? 'n/a'}`);
  show(`tools: ${(await reader.listTools()).tools.map((t) => t.name).join(', ')}`);
  show(
    summarise(await reader.callTool({ name: 'get_service_health', arguments: { service: 'checkout-api' } })),
  );
  const context = await reader.callTool({
    name: 'get_deploy_context',
    arguments: { service: 'checkout-api', deploys: 2 },
  });
  const ctx = context.structuredContent as {
    service: { team: string; onCall: { primary: string } };
    recentDeploys: Array<{ version: string; status: string }>;
  };
  show(
    `deploy context: team ${ctx.service.team}, on call ${ctx.service.onCall.primary}, last deploys ${ctx.recentDeploys.map((d) => `${d.version} (${d.status})`).join(', ')}`,
  );
  step('a write the read-only operator cannot even see');
  show(
    await reader
      .callTool({
        name: 'rollback_deploy',
        arguments: { service: 'checkout-api', environment: 'staging', reason: 'demo' },
      })
      .then(summarise, (e: Error) => `refused: ${e.message}`),
  );
  await reader.close();

  step('platform-ops with write scope but without platform-ops:prod');
  const writer = await connect(
    command,
    { ...base, PLATFORM_OPS_SCOPES: 'platform-ops:read,platform-ops:write' },
    true,
  );
  show(
    summarise(
      await writer.callTool({
        name: 'rollback_deploy',
        arguments: {
          service: 'checkout-api',
          environment: 'production',
          reason: 'latency regression after the last deploy',
        },
      }),
    ),
  );
  step('an approved rollback in staging (the server asks the human through the client)');
  show(
    summarise(
      await writer.callTool({
        name: 'rollback_deploy',
        arguments: {
          service: 'checkout-api',
          environment: 'staging',
          reason: 'latency regression after the last deploy',
        },
      }),
    ),
  );
  await writer.close();

  step('the audit trail (one line per request; intent lines precede side effects)');
  for (const line of readFileSync(audit, 'utf8').trim().split('\n')) {
    const e = JSON.parse(line) as Record<string, unknown>;
    show(
      `  ${e.time} ${String(e.event).padEnd(6)} ${String(e.name).padEnd(22)} ${String(e.decision).padEnd(18)} ${String(e.outcome).padEnd(9)} ${e.errorCode ?? ''}`,
    );
  }
  const verify = spawn(process.execPath, [command, 'verify-audit', audit], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  show(
    `verify-audit: ${(await new Promise<string>((r) => verify.stdout!.once('data', (d: Buffer) => r(d.toString())))).trim()}`,
  );
}

function hostConfig(sandbox: SandboxInfo) {
  const server = {
    command: 'node',
    args: [bin('servers/platform-ops/dist/bin.js')],
    env: {
      PLATFORM_OPS_API_URL: sandbox.url,
      PLATFORM_OPS_API_TOKEN: '<token>',
      PLATFORM_OPS_SCOPES: 'platform-ops:read',
    },
  };
  step(
    'paste into Claude Desktop (claude_desktop_config.json); once published, use "command": "npx", "args": ["-y", "@gatehouse/platform-ops"]',
  );
  show({ mcpServers: { 'platform-ops': server } });
  step('or into VS Code (.vscode/mcp.json), with the token asked for once and stored by VS Code');
  show({
    servers: {
      'platform-ops': {
        type: 'stdio',
        ...server,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: VS Code's own input placeholder, not a JS template.
        env: { ...server.env, PLATFORM_OPS_API_TOKEN: '${input:platformOpsToken}' },
      },
    },
    inputs: [
      { id: 'platformOpsToken', type: 'promptString', description: 'platform-ops API token', password: true },
    ],
  });
}

const { info, child } = await startSandbox();
try {
  step(`sandbox upstream on ${info.url}`);
  const workdir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-'));
  await platformOpsDemo(info, workdir);
  hostConfig(info);
  console.log(`\nAudit files are in ${workdir}.`);
} finally {
  child.kill('SIGTERM');
}
