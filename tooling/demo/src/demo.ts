/**
 * `pnpm demo`: starts the sandbox upstream, then drives every Gatehouse server found in the workspace
 * (servers/<name> with a built binary) through the official MCP client exactly as a host would, and
 * prints the configuration to paste into a host. A server shows its own steps from
 * `servers/<name>/demo.ts`; one without them gets the generic steps (list the tools, make one read
 * call). Everything runs on 127.0.0.1. The host configuration it prints starts the published
 * packages from the user's registry, never the demo's sandbox or build.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import {
  formatJson,
  HOSTS,
  hostConfig,
  loadDefinition,
  REGISTRY_PLACEHOLDER,
  repoRoot,
  type ServerDefinitionShape,
  type ServerPackage,
  type SmokeInputs,
  servers,
  smokeInputs,
  type ToolCall,
} from '@gatehouse/workspace';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { DemoKit, DemoSteps } from './kit.ts';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (title: string) => console.log(`\n${bold(`▶ ${title}`)}`);
const show = (value: unknown) =>
  console.log(typeof value === 'string' ? value : JSON.stringify(value, null, 2));

interface SandboxInfo {
  url: string;
  tokens: Record<string, string>;
}

interface DemoServer extends ServerPackage {
  definition: ServerDefinitionShape;
  inputs: SmokeInputs;
}

async function startSandbox(): Promise<{ info: SandboxInfo; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(repoRoot, 'tooling/sandbox/dist/bin.js'), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolveLine, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolveLine);
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
  return { info: JSON.parse(line) as SandboxInfo, child };
}

async function connect(bin: string, env: Record<string, string>, approve: boolean): Promise<Client> {
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
      args: [bin],
      env: { PATH: process.env.PATH ?? '', ...env },
      stderr: 'ignore',
    }),
  );
  return client;
}

function summarise(result: { isError?: unknown; content?: unknown }) {
  const text =
    (result.content as Array<{ type: string; text?: string }> | undefined)?.find((c) => c.type === 'text')
      ?.text ?? '';
  return `${result.isError ? 'tool error: ' : ''}${text.length > 600 ? `${text.slice(0, 600)}…` : text}`;
}

function runBin(bin: string, args: string[]): Promise<string> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  return new Promise((resolve) => child.once('close', () => resolve(out.trim())));
}

function kitFor(server: DemoServer, sandbox: SandboxInfo, workdir: string): DemoKit {
  const prefix = server.definition.envPrefix;
  const auditFile = join(workdir, `${server.name}-audit.jsonl`);
  return {
    name: server.name,
    prefix,
    bin: server.bin,
    auditFile,
    env: (extra = {}) => ({
      [`${prefix}_API_URL`]: sandbox.url,
      [`${prefix}_API_TOKEN`]: sandbox.tokens[server.name] ?? '',
      [`${prefix}_AUDIT_FILE`]: auditFile,
      [`${prefix}_LOG_LEVEL`]: 'warn',
      ...server.inputs.env,
      ...extra,
    }),
    connect: (env, options = {}) => connect(server.bin, env, options.approve ?? true),
    step,
    show,
    summarise,
    run: (args) => runBin(server.bin, args),
  };
}

/** For a server without demo.ts: its tools, then its smoke call (test/e2e.json) or its first read tool without arguments. */
function genericSteps(call: ToolCall | undefined): DemoSteps {
  return async (kit) => {
    kit.step(`${kit.name}: its tools, and one read call`);
    const client = await kit.connect(kit.env());
    try {
      const { tools } = await client.listTools();
      kit.show(`tools: ${tools.map((t) => t.name).join(', ')}`);
      const read =
        call ??
        tools
          .filter((t) => t.annotations?.readOnlyHint && (t.inputSchema.required ?? []).length === 0)
          .map((t) => ({ name: t.name, arguments: {} }))[0];
      if (read) kit.show(kit.summarise(await client.callTool(read)));
    } finally {
      await client.close();
    }
  };
}

async function stepsOf(server: DemoServer): Promise<DemoSteps> {
  const file = join(server.dir, 'demo.ts');
  if (!existsSync(file)) return genericSteps(server.inputs.call);
  return ((await import(pathToFileURL(file).href)) as { default: DemoSteps }).default;
}

/**
 * The host configuration to paste, for every server at once: the same blocks as the READMEs (one
 * place writes them all), starting the published packages with npx at their exact versions. Not the
 * demo's sandbox or build: both are gone when the demo ends.
 */
function printHostConfig(list: readonly DemoServer[], sandbox: SandboxInfo) {
  const servers = list.map((s) => ({
    name: s.name,
    packageName: s.json.name,
    version: s.json.version,
    envPrefix: s.definition.envPrefix,
  }));
  step('host configuration to paste');
  show(
    [
      `The sandbox on ${sandbox.url} stops with this demo, so these blocks do not point at it: they start the`,
      `published packages (${servers.map((s) => `${s.packageName}@${s.version}`).join(', ')}) with npx from`,
      `your registry. Replace each <your-…> placeholder: ${REGISTRY_PLACEHOLDER} (the registry serving the`,
      '@gatehouse scope), each API URL and token, and for Claude Desktop your home folder. Each server README',
      'has the same blocks one server at a time.',
    ].join('\n'),
  );
  for (const host of HOSTS) {
    step(`${host.title} (${host.file})`);
    show(formatJson(hostConfig(host, servers)));
  }
}

const found: DemoServer[] = [];
for (const server of servers()) {
  if (!existsSync(server.bin)) {
    console.error(`${server.name}: not built (${server.bin}); run pnpm build`);
    continue;
  }
  found.push({ ...server, definition: await loadDefinition(server), inputs: smokeInputs(server) });
}

const { info, child } = await startSandbox();
try {
  step(`sandbox upstream on ${info.url}`);
  const workdir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-'));
  for (const server of found) await (await stepsOf(server))(kitFor(server, info, workdir));
  printHostConfig(found, info);
  console.log(`\nAudit files are in ${workdir}.`);
} finally {
  child.kill('SIGTERM');
}
