/**
 * Test kit shared by every server's tests: real SDK clients (v2, and v1 for
 * 2025-era hosts) over a real stdio child process, plus readers for what the
 * server leaves behind (audit file, stderr). Nothing here stubs server code.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as V1StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema as V1ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { AnyServerDefinition } from '../call/definition.ts';
import { type InProcessServer, startInProcess } from './inprocess.ts';

export type ApprovalAnswer = 'accept' | 'decline' | 'cancel' | 'none';

export interface SpawnOptions {
  /** Path of the built binary (dist/bin.js): the client talks to a real child process over stdio. */
  bin?: string;
  /** Or the server definition itself: it runs in this process over an in-memory pair (see inprocess.ts). */
  server?: AnyServerDefinition;
  env: Record<string, string>;
  args?: string[];
  /** How the fake human answers approval prompts; 'none' means the client offers no elicitation. */
  approval?: ApprovalAnswer;
  /** Records every elicitation message the human was shown. */
  shown?: string[];
}

/** Environment for a child: PATH and HOME only, so nothing leaks in from the test runner. */
export function childEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env };
}

function stderrCollector(stream: NodeJS.ReadableStream | null): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return () => text;
}

function answer(kind: ApprovalAnswer) {
  return kind === 'accept'
    ? { action: 'accept' as const, content: { approve: true } }
    : { action: kind === 'decline' ? ('decline' as const) : ('cancel' as const) };
}

export interface Connected<C> {
  client: C;
  stderr(): string;
  close(): Promise<void>;
}

/**
 * Connects, runs `body` with the connection, and closes it whatever happens: the
 * connect/try/finally frame every client test needs, written once.
 * `await withClient(connectV2({ server, env }), async ({ client }) => { ... })`.
 */
export async function withClient<C, T>(
  connecting: Promise<Connected<C>>,
  body: (connected: Connected<C>) => Promise<T> | T,
): Promise<T> {
  const connected = await connecting;
  try {
    return await body(connected);
  } finally {
    await connected.close();
  }
}

/** The v2 SDK client, pinned to the 2026-07-28 revision (it negotiates 2025-11-25 unless told). */
export async function connectV2(
  options: SpawnOptions & { era?: '2026-07-28' | 'legacy' },
): Promise<Connected<Client>> {
  const approval = options.approval ?? 'accept';
  const client = new Client(
    { name: 'gatehouse-test-v2', version: '1.0.0' },
    {
      capabilities: approval === 'none' ? {} : { elicitation: { form: {} } },
      ...(options.era === 'legacy' ? {} : { versionNegotiation: { mode: { pin: '2026-07-28' } } }),
    },
  );
  if (approval !== 'none') {
    client.setRequestHandler('elicitation/create', async (request) => {
      const params = request.params as { message?: string };
      options.shown?.push(params.message ?? '');
      return answer(approval);
    });
  }
  return attach(client, options, StdioClientTransport, (transport) => client.connect(transport));
}

/** The spawn parameters both SDKs' stdio client transports take. */
interface StdioParameters {
  command: string;
  args: string[];
  env: Record<string, string>;
  stderr: 'pipe';
}

/**
 * Connects `client` (either SDK's) to the server `options` name: in this process over the in-memory
 * pair when given a definition, else to its binary spawned over stdio. `connect` hands the SDK its
 * transport (the SDKs' transport interfaces differ only in types: the messages are the same JSON).
 */
async function attach<C extends { close(): Promise<void> }, T extends { readonly stderr: unknown }>(
  client: C,
  options: SpawnOptions,
  Stdio: new (parameters: StdioParameters) => T,
  connect: (transport: T | InProcessServer['clientTransport']) => Promise<void>,
): Promise<Connected<C>> {
  if (options.server) {
    const server = await startInProcess(options.server, options);
    await connect(server.clientTransport);
    return { client, stderr: server.logs, close: () => closeBoth(client, server) };
  }
  const transport = new Stdio({
    command: process.execPath,
    args: [binOf(options), ...(options.args ?? [])],
    env: childEnv(options.env),
    stderr: 'pipe',
  });
  const stderr = stderrCollector(transport.stderr as NodeJS.ReadableStream | null);
  await connect(transport);
  return { client, stderr, close: () => client.close() };
}

function binOf(options: SpawnOptions): string {
  if (!options.bin) throw new Error('connect: give either `bin` (a built binary) or `server` (in-process)');
  return options.bin;
}

async function closeBoth(client: { close(): Promise<void> }, server: { close(): Promise<void> }) {
  await client.close();
  await server.close();
}

/** The v1 (2025-11-25) client most hosts still embed. */
export async function connectV1(options: SpawnOptions): Promise<Connected<V1Client>> {
  const approval = options.approval ?? 'accept';
  const client = new V1Client(
    { name: 'gatehouse-test-v1', version: '1.0.0' },
    { capabilities: approval === 'none' ? {} : { elicitation: {} } },
  );
  if (approval !== 'none') {
    client.setRequestHandler(V1ElicitRequestSchema, async (request) => {
      options.shown?.push(request.params.message);
      return answer(approval);
    });
  }
  return attach(client, options, V1StdioClientTransport, (transport) =>
    client.connect(transport as unknown as Parameters<V1Client['connect']>[0]),
  );
}

/** A raw JSON-RPC peer over the child's stdio, for protocol-level tests. */
export interface RawPeer {
  child: ChildProcessWithoutNullStreams;
  /** Every stdout line, in order, exactly as written. */
  lines: string[];
  send(line: string): void;
  /** Resolves with the first parsed message matching the predicate. */
  next(
    predicate: (message: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  stderr(): string;
  close(): Promise<number | null>;
}

export function spawnRaw(options: { bin: string; env: Record<string, string>; args?: string[] }): RawPeer {
  const child = spawn(process.execPath, [options.bin, ...(options.args ?? [])], {
    env: childEnv(options.env),
    stdio: 'pipe',
  });
  const lines: string[] = [];
  const waiters: Array<{
    predicate: (m: Record<string, unknown>) => boolean;
    resolve: (m: Record<string, unknown>) => void;
  }> = [];
  const stderr = stderrCollector(child.stderr);
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    for (const waiter of [...waiters]) {
      if (waiter.predicate(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  return {
    child,
    lines,
    stderr,
    send: (line) => child.stdin.write(`${line}\n`),
    next: (predicate, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const existing = lines.map((l) => safeParse(l)).find((m) => m && predicate(m));
        if (existing) return resolve(existing);
        const timer = setTimeout(
          () =>
            reject(new Error(`no matching message within ${timeoutMs} ms; stderr: ${stderr().slice(-2000)}`)),
          timeoutMs,
        );
        waiters.push({
          predicate,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.stdin.end();
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

function safeParse(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** The audit file's records, parsed; `event` filters call vs intent records. */
export function readAudit(
  file: string,
  event: 'call' | 'intent' | 'all' = 'call',
): Array<Record<string, unknown> & { name: string; decision: string; outcome: string }> {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter((record) => event === 'all' || record.event === event);
}

/** Structured error carried by a Gatehouse tool error result. */
export function errorOf(result: {
  isError?: boolean;
  _meta?: Record<string, unknown>;
}): { code: string; message: string; retryable: boolean; details?: Record<string, unknown> } | undefined {
  if (!result.isError) return undefined;
  return result._meta?.['dev.gatehouse/error'] as
    | { code: string; message: string; retryable: boolean }
    | undefined;
}

/** Polls until the predicate holds (audit writes land just after the response). */
export async function eventually<T>(fn: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
export {
  APPROVAL_CLIENT,
  approvalLink,
  csrfOf,
  FormClient,
  startApprovalIssuer,
} from './approver.ts';
export { type HttpChild, legacyCall, MCP_HEADERS, rpcBody, spawnHttp } from './http.ts';
export { type InProcessOptions, type InProcessServer, startInProcess } from './inprocess.ts';
export { perFile } from './per-file.ts';
export { freePort } from './ports.ts';
export { type PostgresServer, startPostgres } from './postgres.ts';
export { REGISTRY_BUDGETS, registryProblems, templateShapeProblems } from './registry.ts';
export {
  defineServerTests,
  type FuzzEngine,
  type ServerTestOptions,
  type ServerTests,
} from './server-tests.ts';
export {
  binarySurfaceAgainstSnapshot,
  captureSurface,
  readmeAgainstDefinition,
  type Surface,
  surfaceAgainstSnapshot,
} from './surface.ts';
export {
  type ListedTool,
  MAX_TOOL_TOKENS,
  type ToolTokens,
  tokenBudgetProblems,
  toolTokens,
} from './tokens.ts';

/** Structured content of a successful tool result (either client), failing loudly otherwise. */
// biome-ignore lint/suspicious/noExplicitAny: a test helper over arbitrary tool outputs.
export function ok<T = any>(result: object): T {
  const r = result as { isError?: unknown; structuredContent?: unknown; content?: unknown };
  if (r.isError) throw new Error(`tool failed: ${JSON.stringify(r.content)}`);
  return r.structuredContent as T;
}

/** The text fallback of a tool result (either client). */
export function textOf(result: object): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content
    .filter((c) => c.type === 'text')
    .map((c) => c.text ?? '')
    .join('\n');
}

/** Runs a server binary as a command (no MCP session): exit code and both streams. */
export async function runCli(
  bin: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: childEnv(env) }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}
export {
  type AuthorizationServer,
  type AuthorizationServerOptions,
  type AuthzClient,
  DEFAULT_CLIENT,
  startAuthorizationServer,
  type TokenEndpointState,
} from './authz/server.ts';
export { type SignInOptions, type SignInResult, signInWithCode } from './authz/sign-in.ts';
export { type HttpServer, startHttp } from './fixture/http.ts';
export { CLIENT, type OtlpSpan, SERVER, startCollector, startRecordingProxy } from './fixture/otlp.ts';
export {
  hasOpenssl,
  makeCerts,
  receivedCopy,
  startReceiver,
  type TestCerts,
  type TestReceiver,
} from './syslog.ts';
