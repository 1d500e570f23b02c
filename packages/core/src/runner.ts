import { parseArgs } from 'node:util';
import type { McpServer } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { VERIFY_USAGE, verifyAuditCommand } from './audit/verify-command.ts';
import { buildMcpServer, servedTools, visibleToolNames } from './call/build.ts';
import type { AnyServerDefinition, ServerConfig } from './call/definition.ts';
import { directToolCall, LEGACY_VERSIONS } from './call/direct.ts';
import { localOperator, narrowToolsets, type Principal } from './call/policy.ts';
import { POLICY_USAGE, policyCommand } from './call/rules-command.ts';
import { createRuntime, type Runtime } from './call/runtime.ts';
import { sessionObserver } from './call/session.ts';
import { ConfigError, envTable, loadConfig } from './config/env.ts';
import { httpEnvTable } from './http/settings.ts';
import { KEYS_USAGE, keysCommand } from './keys-command.ts';
import { claimStdout, GuardedStdioTransport } from './stdio/transport.ts';
import { shutdownMetrics, startMetrics } from './telemetry/metrics.ts';
import { shutdownTracing, startTracing } from './telemetry/tracing.ts';

const CLI_OPTIONS = {
  transport: { type: 'string', default: 'stdio' },
  host: { type: 'string' },
  port: { type: 'string' },
  'read-only': { type: 'boolean', default: false },
  'no-auth': { type: 'boolean', default: false },
  version: { type: 'boolean', short: 'v', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export function usage(definition: AnyServerDefinition): string {
  const env = envTable({
    prefix: definition.envPrefix,
    server: definition.name,
    upstream: definition.upstream,
    extra: definition.env,
  });
  const http = httpEnvTable(definition.envPrefix);
  const width = Math.max(...[...env, ...http].map((e) => e.name.length));
  return [
    `${definition.bin} ${definition.version} — ${definition.description}`,
    '',
    `Usage: ${definition.bin} [--transport stdio|http] [--host H] [--port N] [--read-only] [--no-auth]`,
    `       ${definition.bin} ${KEYS_USAGE}`,
    `           make an operator secret (printed once; for an API key also its keys-file entry)`,
    `       ${definition.bin} ${VERIFY_USAGE}`,
    `           check audit files: each one's HMAC chain and its signed checkpoints (exit 1 when broken)`,
    `       ${definition.bin} ${POLICY_USAGE}`,
    `           check a Cedar policy against these tools, or explain a decision (see <PREFIX>_POLICY_FILE)`,
    `       ${definition.bin} --version | --help`,
    '',
    'Environment:',
    ...env.map((e) => `  ${e.name.padEnd(width)}  ${e.required ? '(required) ' : ''}${e.description}`),
    '',
    'Environment for --transport http (Streamable HTTP on /mcp; probes /healthz, /readyz; /metrics):',
    ...http.map((e) => `  ${e.name.padEnd(width)}  ${e.description}`),
    '',
    `  Any variable may be given as <NAME>_FILE, a path to a file holding the value.`,
    '',
    'Scopes:',
    ...Object.entries(definition.scopes).map(([scope, text]) => `  ${scope.padEnd(width)}  ${text}`),
  ].join('\n');
}

function fail(definition: AnyServerDefinition, message: string): never {
  process.stderr.write(`${definition.bin}: ${message} (see ${definition.bin} --help)\n`);
  process.exit(2);
}

function runVerify(definition: AnyServerDefinition, args: string[], env: NodeJS.ProcessEnv): never {
  const outcome = verifyAuditCommand({ prefix: definition.envPrefix, server: definition.name }, args, env);
  if (outcome.code === 2) fail(definition, outcome.error);
  process.stdout.write(outcome.stdout);
  process.exit(outcome.code);
}

async function runKeys(definition: AnyServerDefinition, args: string[]): Promise<never> {
  const outcome = await keysCommand(
    { prefix: definition.envPrefix, server: definition.name, scopes: Object.keys(definition.scopes) },
    args,
  );
  if (outcome.code === 2) fail(definition, outcome.error);
  process.stdout.write(outcome.stdout);
  process.exit(0);
}

/** A start-up failure to report as one line: configuration, or the system refusing a path (EACCES, ENOSPC, …). */
function startupMessage(error: unknown): string | undefined {
  if (error instanceof ConfigError) return error.message;
  const { code, syscall } = error as NodeJS.ErrnoException;
  return typeof code === 'string' && typeof syscall === 'string'
    ? `cannot start: ${(error as Error).message.split('\n')[0]}`
    : undefined;
}

/** stdio: one connection, the local operator as principal, stdout reserved for JSON-RPC. */
async function serveOverStdio(runtime: Runtime, principal: Principal): Promise<void> {
  const stdout = claimStdout();
  // The SDK may build more than one instance (an opening probe, then the one the connection is
  // pinned to). Once one has agreed a 2025-era revision, a plain tools/call is answered straight
  // at the seam (call/direct.ts) with it; everything else, and every 2026-era call, goes to the SDK.
  const instances: McpServer[] = [];
  const tools = servedTools(runtime, principal).all;
  const transport = new GuardedStdioTransport(
    stdout,
    sessionObserver(runtime, principal),
    runtime.audit.flushBeforeAnswers((error) => runtime.log.error({ err: error }, 'audit write failed')),
    (request, signal) => {
      const legacy = instances.find((m) =>
        LEGACY_VERSIONS.has(m.server.getNegotiatedProtocolVersion() ?? ''),
      );
      return legacy ? directToolCall(runtime, { mcp: legacy, principal, tools }, request, signal) : undefined;
    },
  );
  const handle = serveStdio(
    () => {
      const mcp = buildMcpServer(runtime, principal);
      instances.push(mcp);
      return mcp;
    },
    {
      transport,
      onerror: (error) => runtime.log.warn({ err: error.message }, 'protocol error'),
    },
  );
  await new Promise<void>((resolve) => {
    const previous = transport.onclose;
    transport.onclose = () => {
      previous?.();
      resolve();
    };
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.once(signal, () => void handle.close().then(resolve));
  });
}

/** The server's configuration from its environment, as the binary reads it (throws ConfigError). */
export function configFor(definition: AnyServerDefinition, env: NodeJS.ProcessEnv): ServerConfig {
  return loadConfig(
    {
      prefix: definition.envPrefix,
      server: definition.name,
      upstream: definition.upstream,
      extra: definition.env,
    },
    env,
  );
}

/**
 * The one entry point every server binary calls: argv and env in, a running
 * server out. Problems with configuration end the process with one line on
 * stderr and exit code 2; nothing but JSON-RPC ever reaches stdout in stdio mode.
 */
export async function runServer(
  definition: AnyServerDefinition,
  argv = process.argv.slice(2),
  env = process.env,
): Promise<void> {
  if (argv[0] === 'verify-audit') runVerify(definition, argv.slice(1), env);
  if (argv[0] === 'keys') await runKeys(definition, argv.slice(1));
  if (argv[0] === 'policy') {
    const outcome = await policyCommand(definition, argv.slice(1), env);
    if (outcome.code === 2) fail(definition, outcome.error);
    process.stdout.write(outcome.stdout);
    process.exit(outcome.code);
  }
  let parsed: ReturnType<typeof parseArgs<{ options: typeof CLI_OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: CLI_OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    fail(definition, (error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`${definition.version}\n`);
    return;
  }
  if (values.help) {
    process.stdout.write(`${usage(definition)}\n`);
    return;
  }
  if (positionals[0] === 'verify-audit')
    runVerify(definition, argv.slice(argv.indexOf('verify-audit') + 1), env);
  if (positionals[0] === 'keys') await runKeys(definition, argv.slice(argv.indexOf('keys') + 1));
  if (positionals.length > 0) fail(definition, `unknown command ${JSON.stringify(positionals[0])}`);

  let config: ServerConfig;
  try {
    config = configFor(definition, env);
  } catch (error) {
    if (error instanceof ConfigError) fail(definition, error.message);
    throw error;
  }
  let runtime: Runtime;
  try {
    runtime = await createRuntime(definition, config, { readOnly: values['read-only'] });
  } catch (error) {
    // A server's own start-up checks (createDeps) and the audit trail (its folder, keys, lock and
    // anchors) report problems the same way: one line, exit 2, never a stack trace.
    const message = startupMessage(error);
    if (message !== undefined) fail(definition, message);
    throw error;
  }
  process.on('unhandledRejection', (reason) => runtime.log.error({ err: reason }, 'unhandled rejection'));
  // Loads the OpenTelemetry SDK only when OTEL_* configuration asks for traces.
  await startTracing({ name: definition.name, version: definition.version, env, log: runtime.log });
  // The local operator, narrowed to the operator's own toolsets (<P>_TOOLSETS) when set.
  const principal = narrowToolsets(localOperator(config.scopes), runtime.policy);
  // And metrics, from the audit trail's records, when OTEL_* configuration asks for them.
  await startMetrics({
    name: definition.name,
    version: definition.version,
    env,
    log: runtime.log,
    audit: runtime.audit,
    transport: values.transport === 'http' ? 'tcp' : 'pipe',
  });

  if (values.transport === 'stdio') {
    runtime.log.info(
      {
        transport: 'stdio',
        tools: [...visibleToolNames(runtime, principal)],
        readOnly: runtime.policy.readOnly,
      },
      'serving',
    );
    await serveOverStdio(runtime, principal);
    await runtime.close();
    await shutdownTracing();
    await shutdownMetrics();
    process.exit(0);
  }
  if (values.transport === 'http') {
    const { loadHttpSettings, serveHttp, startupProblem } = await import('./http/index.ts');
    let settings: ReturnType<typeof loadHttpSettings>;
    try {
      settings = loadHttpSettings(definition.envPrefix, env, {
        host: values.host,
        port: values.port,
        noAuth: values['no-auth'],
      });
    } catch (error) {
      if (error instanceof ConfigError) fail(definition, error.message);
      throw error;
    }
    const problem = startupProblem(settings);
    if (problem) fail(definition, problem);
    try {
      await serveHttp(runtime, { settings, principal });
    } catch (error) {
      if (error instanceof ConfigError) fail(definition, error.message);
      throw error;
    }
    return;
  }
  fail(definition, `--transport must be stdio or http, not ${JSON.stringify(values.transport)}`);
}
