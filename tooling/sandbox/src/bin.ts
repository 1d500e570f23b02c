/**
 * gatehouse-sandbox — starts the loopback upstream and prints exactly one JSON line to stdout:
 * {"url":"http://127.0.0.1:PORT","tokens":{...},"controlToken":"..."}. Everything else goes to stderr.
 */
import { parseArgs } from 'node:util';
import type { FaultRule } from './faults.ts';

// node:sqlite may announce itself as experimental; keep stderr quiet but let other warnings through.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning' && /sqlite/i.test(warning.message)) return;
  console.error(`${warning.name}: ${warning.message}`);
});

const USAGE = `usage: gatehouse-sandbox [--port N] [--host 127.0.0.1] [--latency-ms N] [--error-rate 0..1] [--malformed-rate 0..1] [--db PATH] [--verbose]
env: SANDBOX_PORT, SANDBOX_TOKEN_<DOMAIN> (e.g. SANDBOX_TOKEN_PLATFORM_OPS, one per servers/<name>/sandbox), SANDBOX_CONTROL_TOKEN`;

function fail(message: string): never {
  console.error(`gatehouse-sandbox: ${message}\n${USAGE}`);
  process.exit(2);
}

function number(
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
  integer: boolean,
): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    fail(`${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`);
  }
  return value;
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options }>>;
  const options = {
    port: { type: 'string' },
    host: { type: 'string' },
    'latency-ms': { type: 'string' },
    'error-rate': { type: 'string' },
    'malformed-rate': { type: 'string' },
    db: { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  try {
    parsed = parseArgs({ options, allowPositionals: false, strict: true });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const args = parsed.values;
  if (args.help) {
    console.error(USAGE);
    return;
  }
  const host = args.host ?? '127.0.0.1';
  if (host !== '127.0.0.1')
    fail(`refusing to listen on non-loopback host '${host}'; only 127.0.0.1 is allowed`);
  const port = number('--port', args.port ?? process.env.SANDBOX_PORT, 0, 65535, true) ?? 0;
  const latencyMs = number('--latency-ms', args['latency-ms'], 0, 600_000, true);
  const errorRate = number('--error-rate', args['error-rate'], 0, 1, false) ?? 0;
  const malformedRate = number('--malformed-rate', args['malformed-rate'], 0, 1, false) ?? 0;

  // First matching rule wins and a rule skipped by its rate falls through, so each rule carries the latency
  // and the malformed rate is rescaled to be unconditional.
  const latency = latencyMs ? { latencyMs } : {};
  const faults: FaultRule[] = [];
  if (errorRate > 0) faults.push({ rate: errorRate, status: 503, retryAfter: '1', ...latency });
  if (malformedRate > 0)
    faults.push({
      rate: errorRate >= 1 ? 0 : Math.min(1, malformedRate / (1 - errorRate)),
      body: 'malformed',
      ...latency,
    });
  if (latencyMs) faults.push({ latencyMs });

  const env = process.env;
  const { resolveDomains, startSandbox, tokenVariable } = await import('./index.ts');
  // The servers' fragments, found in the workspace; each may take a fixed token from SANDBOX_TOKEN_<NAME>.
  const domains = await resolveDomains();
  const tokens: Record<string, string> = {};
  for (const { name } of domains) {
    const value = env[tokenVariable(name)];
    if (value) tokens[name] = value;
  }
  const sandbox = await startSandbox({
    port,
    host: '127.0.0.1',
    discover: false,
    domains,
    tokens,
    ...(env.SANDBOX_CONTROL_TOKEN ? { controlToken: env.SANDBOX_CONTROL_TOKEN } : {}),
    ...(args.db ? { dbPath: args.db } : {}),
    faults,
    ...(args.verbose ? { log: (line: string) => console.error(`[sandbox] ${line}`) } : {}),
  });

  process.stdout.write(
    `${JSON.stringify({ url: sandbox.url, tokens: sandbox.tokens, controlToken: sandbox.controlToken })}\n`,
  );
  if (args.verbose) console.error(`[sandbox] listening on ${sandbox.url}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (args.verbose) console.error(`[sandbox] ${signal}: shutting down`);
    const force = setTimeout(() => process.exit(1), 5_000);
    force.unref();
    void sandbox.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(`gatehouse-sandbox: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
