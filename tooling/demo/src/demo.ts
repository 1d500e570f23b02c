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

async function docsDemo(sandbox: SandboxInfo, workdir: string) {
  const command = bin('servers/docs/dist/bin.js');
  const env = {
    DOCS_ROOT: bin('servers/docs/handbook'),
    DOCS_API_URL: sandbox.url,
    DOCS_API_TOKEN: sandbox.tokens.docs,
    DOCS_AUDIT_FILE: join(workdir, 'docs-audit.jsonl'),
    DOCS_LOG_LEVEL: 'warn',
  };
  step('docs: architecture records, standards and ownership from a Markdown folder and the wiki');
  const client = await connect(command, env, false);
  const search = await client.callTool({
    name: 'search_docs',
    arguments: { query: 'postgres database', limit: 3 },
  });
  const hits = (search.structuredContent as { results: Array<{ id: string; title: string; source: string }> })
    .results;
  show(hits.map((r) => `  ${r.source.padEnd(5)} ${r.id}  ${r.title}`).join('\n'));
  const adrs = await client.callTool({ name: 'list_adrs', arguments: { limit: 5 } });
  show(summarise(adrs));
  show(
    summarise(await client.callTool({ name: 'find_service_owner', arguments: { service: 'checkout-api' } })),
  );
  step('docs: a path that tries to leave the docs folder');
  show(
    await client.readResource({ uri: 'docs://../../etc/passwd' }).then(
      () => 'read?!',
      (e: Error) => `refused: ${e.message}`,
    ),
  );
  await client.close();
}

async function supportDemo(sandbox: SandboxInfo, workdir: string) {
  const command = bin('servers/support/dist/bin.js');
  const env = {
    SUPPORT_API_URL: sandbox.url,
    SUPPORT_API_TOKEN: sandbox.tokens.support,
    SUPPORT_SCOPES: 'support:read,support:write,support:credit',
    SUPPORT_AUDIT_FILE: join(workdir, 'support-audit.jsonl'),
    SUPPORT_LOG_LEVEL: 'warn',
  };
  step('support: tickets with personal data masked (no support:pii) and customer text marked untrusted');
  const client = await connect(command, env, true);
  const found = await client.callTool({ name: 'search_tickets', arguments: { query: 'refund', limit: 3 } });
  show(summarise(found));
  const first = (found.structuredContent as { tickets?: Array<{ id: string; customerId?: string }> })
    .tickets?.[0];
  if (first) {
    const ticket = await client.callTool({ name: 'lookup_ticket', arguments: { ticket_id: first.id } });
    show(summarise(ticket));
  }
  const customer = (first?.customerId ?? 'cus_0001') as string;
  step(`support: a service credit above the per-call cap is refused before anyone is asked`);
  show(
    summarise(
      await client.callTool({
        name: 'issue_service_credit',
        arguments: { customer_id: customer, amount_cents: 500_000, reason: 'goodwill after outage' },
      }),
    ),
  );
  step('support: an approved credit within the cap');
  show(
    summarise(
      await client.callTool({
        name: 'issue_service_credit',
        arguments: { customer_id: customer, amount_cents: 2_500, reason: 'goodwill after outage' },
      }),
    ),
  );
  await client.close();
}

function hostConfig(sandbox: SandboxInfo) {
  // Each server gets only its own variables: credentials never cross domains.
  const servers = {
    'platform-ops': {
      command: 'node',
      args: [bin('servers/platform-ops/dist/bin.js')],
      env: { PLATFORM_OPS_API_URL: sandbox.url, PLATFORM_OPS_API_TOKEN: '<platform-ops token>' },
    },
    docs: {
      command: 'node',
      args: [bin('servers/docs/dist/bin.js')],
      env: {
        DOCS_ROOT: bin('servers/docs/handbook'),
        DOCS_API_URL: sandbox.url,
        DOCS_API_TOKEN: '<docs token>',
      },
    },
    support: {
      command: 'node',
      args: [bin('servers/support/dist/bin.js')],
      env: { SUPPORT_API_URL: sandbox.url, SUPPORT_API_TOKEN: '<support token>' },
    },
  };
  step(
    'paste into Claude Desktop (claude_desktop_config.json) or Cursor (.cursor/mcp.json); once published, use "command": "npx", "args": ["-y", "@gatehouse/<server>"]',
  );
  show({ mcpServers: servers });
  step('or into VS Code (.vscode/mcp.json)');
  show({
    servers: Object.fromEntries(
      Object.entries(servers).map(([name, server]) => [name, { type: 'stdio', ...server }]),
    ),
  });
}

const { info, child } = await startSandbox();
try {
  step(`sandbox upstream on ${info.url}`);
  const workdir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-'));
  await platformOpsDemo(info, workdir);
  await docsDemo(info, workdir);
  await supportDemo(info, workdir);
  hostConfig(info);
  console.log(`\nAudit files are in ${workdir}.`);
} finally {
  child.kill('SIGTERM');
}
